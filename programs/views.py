"""The public certificate pages (templates, not the API), included at ``/certificates/``:
anyone with the code may see who earned it and whether it still stands."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from programs import selectors
from programs.certificates import completed_on, render_certificate_pdf


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


@require_GET
def certificate_page(request: HttpRequest, code: str) -> HttpResponse:
    certificate = selectors.certificate_by_code(code)
    if certificate is None:
        return _not_found(request)
    return render(
        request,
        "programs/certificate.html",
        {
            "certificate": certificate,
            "completed_on": completed_on(certificate),
            "pdf_url": reverse("certificate-pdf", args=[certificate.code]),
            "api_url": reverse("v1:programs:certificate", args=[certificate.code]),
        },
    )


@require_GET
def certificate_pdf(request: HttpRequest, code: str) -> HttpResponse:
    certificate = selectors.certificate_by_code(code)
    if certificate is None:
        return _not_found(request)
    verify_url = request.build_absolute_uri(reverse("certificate-page", args=[certificate.code]))
    response = HttpResponse(
        render_certificate_pdf(certificate, verify_url=verify_url), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.code}.pdf"'
    return response
