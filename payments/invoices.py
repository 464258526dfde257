"""Tax invoices: numbering, the GST split, the HTML page, the PDF and the email.

Rules this module enforces:

* **One invoice per paid order**, issued in the transaction that marks the order paid
  (``payments.services``), so an order is never paid without its invoice and a payment
  that rolls back takes no invoice number. ``invoice_issue`` is idempotent: a second call
  returns the order's invoice. A fully discounted order (₹0) gets none: nothing was paid,
  so there is no taxable supply to invoice.
* **Gap-free numbers per financial year** (April–March in Asia/Kolkata, ``2026-27``), taken
  from the payment time: ``{INVOICE_PREFIX}/{year}/{sequence:06d}``. The year's
  ``InvoiceSequence`` row is created with ``INSERT … ON CONFLICT DO NOTHING`` (the first
  invoices of a year may race) and then locked ``FOR UPDATE`` until the payment commits,
  so concurrent payments number one after another and a rollback returns its number.
  The cost: payments serialise on that row for the rest of their transaction (short).
* **Prices are tax-inclusive.** In integer paise: taxable value =
  round_half_up(total × 100 / (100 + rate)), GST = total − taxable value, so the parts
  always add up to the total (a database constraint checks it). The rate is
  ``INVOICE_GST_RATE`` (18 % by default) at issue time and is stored on the invoice.
* **Place of supply.** CGST + SGST (half each, the odd paisa to SGST) when the buyer's GST
  state equals the supplier's (``INVOICE_SUPPLIER_STATE``); IGST otherwise. We do not ask
  learners for their state yet, so the buyer's state is usually unknown (``""``): for a
  B2C supply to a buyer whose address is not on record, the place of supply is the
  supplier's location (IGST Act s. 12(2)(b)), so it is taxed as intra-state. Pass
  ``buyer_state`` once we collect it.
* **Email after commit.** A task enqueued in ``transaction.on_commit`` sends the invoice
  (text and HTML body, PDF attached) to the buyer's email, if any, and records
  ``emailed_at``. A failure to send never touches the payment; it is logged with the
  order id only (an SMTP error can quote the address).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from core.money import rupees
from payments.models import Invoice, InvoiceSequence, Order

logger = logging.getLogger(__name__)

INDIA = ZoneInfo("Asia/Kolkata")  # financial years and invoice dates are Indian, always


# --- pure rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GstSplit:
    total_paise: int
    taxable_paise: int
    cgst_paise: int = 0
    sgst_paise: int = 0
    igst_paise: int = 0

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise


def gst_split(*, total_paise: int, rate: Decimal, intra_state: bool) -> GstSplit:
    """Split a tax-inclusive total into taxable value and GST, in whole paise, so that the
    parts add up to the total exactly."""
    if total_paise < 0 or rate < 0:
        raise ValueError("The total and the rate cannot be negative.")
    taxable = int(
        (Decimal(total_paise) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    tax = total_paise - taxable
    if intra_state:
        cgst = tax // 2
        return GstSplit(total_paise, taxable, cgst_paise=cgst, sgst_paise=tax - cgst)
    return GstSplit(total_paise, taxable, igst_paise=tax)


def is_intra_state(*, buyer_state: str, supplier_state: str) -> bool:
    """Intra-state unless both states are known and differ (see the module docstring)."""
    return not buyer_state or not supplier_state or buyer_state == supplier_state


def financial_year(moment: datetime) -> str:
    """The Indian financial year (April–March) of an aware datetime: ``2026-27``."""
    local = moment.astimezone(INDIA)
    start = local.year if local.month >= 4 else local.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def invoice_number(*, fy: str, sequence: int) -> str:
    return f"{settings.INVOICE_PREFIX}/{fy}/{sequence:06d}"


# --- issuing ---------------------------------------------------------------------------------


def _next_sequence(fy: str) -> int:
    """Take the year's next number under a row lock held until the transaction ends."""
    # ON CONFLICT DO NOTHING: the first invoices of a year may insert concurrently; the
    # loser waits for the winner's commit and then does nothing, without an error.
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(financial_year=fy, last_number=0)], ignore_conflicts=True
    )
    counter = InvoiceSequence.objects.select_for_update().get(financial_year=fy)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def _buyer_name(user: Any) -> str:
    return (user.full_name or user.email or user.phone or f"Learner {user.pk}")[:200]


@transaction.atomic
def invoice_issue(*, order: Order, buyer_state: str = "") -> Invoice | None:
    """Issue the tax invoice of a paid order, numbered in the caller's transaction; return
    the order's existing invoice if it has one, and ``None`` for a ₹0 order.

    Call it in the transaction that marks the order paid. The order's row is locked here
    too (a no-op when the caller already holds it), so concurrent calls issue one invoice.
    """
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("user", "plan", "product")
        .get(pk=order.pk)
    )
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    if order.paid_at is None:
        raise ValueError(f"Order {order.pk} is not paid: it cannot be invoiced.")
    if order.total_paise == 0:
        return None
    fy = financial_year(order.paid_at)
    sequence = _next_sequence(fy)
    rate = Decimal(str(settings.INVOICE_GST_RATE))
    supplier_state = settings.INVOICE_SUPPLIER_STATE
    split = gst_split(
        total_paise=order.total_paise,
        rate=rate,
        intra_state=is_intra_state(buyer_state=buyer_state, supplier_state=supplier_state),
    )
    invoice = Invoice.objects.create(
        order=order,
        financial_year=fy,
        sequence=sequence,
        number=invoice_number(fy=fy, sequence=sequence),
        issued_at=order.paid_at,  # the invoice is dated when the money arrived
        buyer_name=_buyer_name(order.user),
        buyer_email=order.user.email or "",
        buyer_state=buyer_state,
        supplier_name=settings.INVOICE_SUPPLIER_NAME,
        supplier_gstin=settings.INVOICE_SUPPLIER_GSTIN,
        supplier_state=supplier_state,
        supplier_address=settings.INVOICE_SUPPLIER_ADDRESS,
        sac_code=settings.INVOICE_SAC_CODE,
        description=f"{order.product.title} — {order.plan.name}"[:300],
        gst_rate=rate,
        total_paise=split.total_paise,
        taxable_paise=split.taxable_paise,
        cgst_paise=split.cgst_paise,
        sgst_paise=split.sgst_paise,
        igst_paise=split.igst_paise,
    )
    if invoice.buyer_email:
        invoice_id = invoice.pk
        # robust: a failure to enqueue is logged and never reaches the paid request.
        transaction.on_commit(lambda: email_invoice.enqueue(invoice_id), robust=True)
    return invoice


def invoice_for_user(*, order_id: Any, user: Any) -> Invoice | None:
    """The invoice of one of ``user``'s orders, or ``None`` (someone else's order, an
    unknown order and an order without an invoice all look the same)."""
    return (
        Invoice.objects.select_related("order").filter(order_id=order_id, order__user=user).first()
    )


# --- rendering -------------------------------------------------------------------------------


def format_inr(paise: int) -> str:
    """The invoice's figures: always two places, no ₹ (its column header, or ``INR`` in
    the PDF and email, names the currency): 12345678 → ``1,23,456.78``."""
    return rupees(paise, exact=True, symbol=False)


_ONES = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
]
_TENS = ["_", "_", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _words_below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "Hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n:
        words.append(_ONES[n])
    return words


def _words(n: int) -> str:
    if n == 0:
        return "Zero"
    words = []
    for size, name in ((10**7, "Crore"), (10**5, "Lakh"), (10**3, "Thousand")):
        if n >= size:
            # Above 99 crore the crore count is itself spelt in full (e.g. "One Hundred Crore").
            words += [_words(n // size), name]
            n %= size
    words += _words_below_thousand(n)
    return " ".join(words)


def amount_in_words(paise: int) -> str:
    """``Rupees One Thousand One Hundred Eighty and Paise Fifty Only`` (Indian numbering)."""
    rupees, rest = divmod(paise, 100)
    text = f"Rupees {_words(rupees)}"
    if rest:
        text += f" and Paise {_words(rest)}"
    return f"{text} Only"


def _rate_text(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


def _context(invoice: Invoice) -> dict[str, Any]:
    rate = Decimal(invoice.gst_rate)
    intra = not invoice.igst_paise and is_intra_state(
        buyer_state=invoice.buyer_state, supplier_state=invoice.supplier_state
    )
    if intra:
        half = _rate_text(rate / 2)
        taxes = [("CGST", half, invoice.cgst_paise), ("SGST", half, invoice.sgst_paise)]
    else:
        taxes = [("IGST", _rate_text(rate), invoice.igst_paise)]
    return {
        "invoice": invoice,
        # A date, not a datetime: the template's date filter would turn a datetime back
        # into UTC, and an invoice paid after 18:30 UTC is dated the next day in India.
        "issued_on": timezone.localtime(invoice.issued_at, INDIA).date(),
        "order_id": invoice.order_id,
        "rate": _rate_text(rate),
        "taxable": format_inr(invoice.taxable_paise),
        "taxes": [
            {"name": name, "rate": rate_text, "amount": format_inr(amount)}
            for name, rate_text, amount in taxes
        ],
        "tax_total": format_inr(invoice.total_paise - invoice.taxable_paise),
        "total": format_inr(invoice.total_paise),
        "total_in_words": amount_in_words(invoice.total_paise),
        "place_of_supply": invoice.buyer_state or invoice.supplier_state,
    }


def invoice_filename(invoice: Invoice) -> str:
    """``EF-2026-27-000042.pdf``: the number, safe as a file name."""
    return f"{invoice.number.replace('/', '-')}.pdf"


def render_invoice_html(invoice: Invoice) -> str:
    """The printable tax invoice as a standalone HTML page (inline styles; also the
    email's HTML body)."""
    return render_to_string("payments/invoice.html", _context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The tax invoice as a one-page A4 PDF (ReportLab; its built-in Helvetica has no ₹,
    so amounts are written in INR)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import PropertySet, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    context = _context(invoice)
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=8, leading=10)

    def para(text: str, style: PropertySet = body) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Tax Invoice {invoice.number}",
        author=invoice.supplier_name,
    )
    parties = Table(
        [
            [para("Supplier", small), para("Invoice", small)],
            [
                para(
                    f"{invoice.supplier_name}\n{invoice.supplier_address}\n"
                    f"GSTIN: {invoice.supplier_gstin or '-'}"
                ),
                para(
                    f"No. {invoice.number}\nDate: {context['issued_on']:%d %b %Y}\n"
                    f"Order: {invoice.order_id}"
                ),
            ],
            [para("Billed to", small), para("Place of supply (state code)", small)],
            [
                para(f"{invoice.buyer_name}\n{invoice.buyer_email}".strip()),
                para(context["place_of_supply"] or "-"),
            ],
        ],
        colWidths=["55%", "45%"],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    lines = [
        ["Description", "SAC", "Amount (INR)"],
        [para(invoice.description), invoice.sac_code, context["taxable"]],
        ["", "Taxable value", context["taxable"]],
        *[["", f"{tax['name']} @ {tax['rate']}", tax["amount"]] for tax in context["taxes"]],
        ["", "Total (tax inclusive)", context["total"]],
    ]
    amounts = Table(lines, colWidths=["55%", "25%", "20%"])
    amounts.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
                ("ALIGN", (2, 0), (2, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    document.build(
        [
            Paragraph("Tax Invoice", styles["Title"]),
            parties,
            Spacer(1, 8 * mm),
            amounts,
            Spacer(1, 4 * mm),
            para(f"Amount in words: {context['total_in_words']}"),
            Spacer(1, 6 * mm),
            para(
                "Prices are inclusive of GST. This is a computer-generated invoice and needs "
                "no signature.",
                small,
            ),
        ]
    )
    return buffer.getvalue()


# --- email -----------------------------------------------------------------------------------


def _email_text(invoice: Invoice) -> str:
    issued_on = timezone.localtime(invoice.issued_at, INDIA)
    return (
        f"Hello {invoice.buyer_name},\n\n"
        f"Thank you for your purchase. Your tax invoice {invoice.number} of "
        f"{issued_on:%d %b %Y} is attached as a PDF.\n\n"
        f"{invoice.description}\n"
        f"Total paid: INR {format_inr(invoice.total_paise)} (GST included)\n\n"
        f"{invoice.supplier_name}\nGSTIN {invoice.supplier_gstin}\n"
    )


def invoice_email_send(*, invoice_id: int) -> bool:
    """Email one invoice to its buyer (once); return whether it was sent now. Never
    raises for a delivery failure: the payment is done, finance can resend."""
    invoice = Invoice.objects.filter(pk=invoice_id, emailed_at__isnull=True).first()
    if invoice is None or not invoice.buyer_email:
        return False
    try:
        message = EmailMultiAlternatives(
            subject=f"Your Examforge invoice {invoice.number}",
            body=_email_text(invoice),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[invoice.buyer_email],
        )
        message.attach_alternative(render_invoice_html(invoice), "text/html")
        message.attach(invoice_filename(invoice), render_invoice_pdf(invoice), "application/pdf")
        message.send()
    except Exception as exc:  # any mail or rendering failure; the payment stands
        logger.warning(  # no traceback: SMTP errors quote the recipient's address
            "invoice email failed",
            extra={"order_id": str(invoice.order_id), "error": type(exc).__name__},
        )
        return False
    Invoice.objects.filter(pk=invoice.pk).update(emailed_at=timezone.now())
    return True


@task()
def email_invoice(invoice_id: int) -> bool:
    """Background delivery of an invoice email (enqueued after the payment commits)."""
    return invoice_email_send(invoice_id=invoice_id)
