"""The certificate as a page and as a PDF: what it says is frozen on the row at issue."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from django.conf import settings

from programs.models import Certificate


def completed_on(certificate: Certificate) -> str:
    """The completion date as people read it (the platform's display time zone)."""
    local = certificate.completed_at.astimezone(ZoneInfo(settings.DISPLAY_TIME_ZONE))
    return f"{local.day} {local:%B %Y}"


def render_certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """A one-page landscape A4 certificate (ReportLab, built-in fonts). A revoked
    certificate still renders, stamped REVOKED with the reason."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"Certificate {certificate.code}")
    pdf.setAuthor(settings.INVOICE_SUPPLIER_NAME)
    pdf.setStrokeColor(colors.HexColor("#1d4ed8"))
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    centre = width / 2

    def line(text: str, y: float, font: str = "Helvetica", size: int = 14) -> None:
        pdf.setFont(font, size)
        pdf.drawCentredString(centre, y, text)

    pdf.setFillColor(colors.HexColor("#1f2933"))
    line("CERTIFICATE OF COMPLETION", height - 45 * mm, "Helvetica-Bold", 28)
    line("This certifies that", height - 70 * mm)
    line(certificate.learner_name, height - 88 * mm, "Helvetica-Bold", 26)
    line("has completed", height - 104 * mm)
    line(certificate.program_title, height - 120 * mm, "Helvetica-Bold", 20)
    line(
        f"{certificate.track_name} track · completed on {completed_on(certificate)}",
        height - 134 * mm,
    )
    pdf.setFillColor(colors.HexColor("#616e7c"))
    line(f"Certificate {certificate.code}", 34 * mm, "Helvetica", 11)
    line(f"Verify at {verify_url}", 27 * mm, "Helvetica", 9)
    if certificate.is_revoked:
        pdf.saveState()
        pdf.setFillColor(colors.HexColor("#b91c1c"))
        pdf.translate(centre, height / 2)
        pdf.rotate(20)
        pdf.setFont("Helvetica-Bold", 64)
        pdf.drawCentredString(0, 0, "REVOKED")
        pdf.setFont("Helvetica", 14)
        pdf.drawCentredString(0, -22, certificate.revoke_reason[:120])
        pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
