"""The learner's tax invoice of a paid order: ``orders/{id}/invoice/`` (PDF download) and
``orders/{id}/invoice/html/`` (the printable page). Thin views over ``payments.invoices``;
another learner's order, an unknown order and an order without an invoice (unpaid, or ₹0)
are all the same 404."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api.schema import error_response, errors, uuid_id_parameter
from payments.errors import InvoiceNotFound, OrderNotFound
from payments.invoices import (
    invoice_filename,
    invoice_for_user,
    render_invoice_html,
    render_invoice_pdf,
)
from payments.models import Invoice, Order

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["payments"]

_ORDER_ID = uuid_id_parameter("The order's id.")
_E401 = errors(401)[401]
_E404 = error_response(
    404,
    ("not_found", OrderNotFound.detail),
    ("not_found", InvoiceNotFound.detail),
    description="Not one of my orders, or it has no invoice (not paid, or ₹0).",
)


PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"
_PDF_DESCRIPTION = (
    "The invoice PDF (attachment), as `application/pdf`; as `application/octet-stream` "
    "(the same bytes) when `Accept` asks for that and not for PDF."
)


def pdf_media_type(request: Request) -> str:
    """``application/pdf`` unless the client accepts only ``application/octet-stream``
    (generated clients that read any binary download as a file ask for that)."""
    if not request.accepts(PDF) and request.accepts(OCTET_STREAM):
        return OCTET_STREAM
    return PDF


class _ErrorsAreJson(DefaultContentNegotiation):
    """The document is returned as is; DRF's renderer only draws errors, always in JSON,
    whatever ``Accept`` says (``application/pdf`` would otherwise be a 406)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type  # type: ignore[index]  # DRF's list


class _InvoiceView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    content_negotiation_class = _ErrorsAreJson

    def _invoice(self, request: AuthenticatedRequest, pk: UUID) -> Invoice:
        invoice = invoice_for_user(order_id=pk, user=request.user)
        if invoice is None:
            if Order.objects.filter(pk=pk, user=request.user).exists():
                raise InvoiceNotFound()
            raise OrderNotFound()
        return invoice

    @staticmethod
    def _private(response: HttpResponse) -> HttpResponse:
        patch_cache_control(response, private=True, no_store=True)  # personal data
        return response


class InvoicePdfView(_InvoiceView):
    @extend_schema(
        tags=TAG,
        summary="Download my order's tax invoice (PDF)",
        description=(
            "The GST tax invoice of a paid order as an A4 PDF attachment named after the "
            "invoice number (`EF-2026-27-000042.pdf`). Prices are tax-inclusive; the invoice "
            "splits out the taxable value and CGST + SGST (or IGST)."
        ),
        parameters=[_ORDER_ID],
        responses={
            (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description=_PDF_DESCRIPTION),
            (200, OCTET_STREAM): OpenApiResponse(OpenApiTypes.BINARY, description=_PDF_DESCRIPTION),
            401: _E401,
            404: _E404,
        },
    )
    def get(self, request: AuthenticatedRequest, pk: UUID) -> HttpResponse:
        invoice = self._invoice(request, pk)
        response = HttpResponse(render_invoice_pdf(invoice), content_type=pdf_media_type(request))
        response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
        return self._private(response)


class InvoiceHtmlView(_InvoiceView):
    @extend_schema(
        tags=TAG,
        summary="My order's tax invoice as a printable page (HTML)",
        description="The same invoice as a standalone HTML page (inline styles, print-ready).",
        parameters=[_ORDER_ID],
        responses={
            (200, "text/html"): OpenApiResponse(
                OpenApiTypes.STR, description="The invoice as an HTML document."
            ),
            401: _E401,
            404: _E404,
        },
    )
    def get(self, request: AuthenticatedRequest, pk: UUID) -> HttpResponse:
        invoice = self._invoice(request, pk)
        response = HttpResponse(
            render_invoice_html(invoice), content_type="text/html; charset=utf-8"
        )
        return self._private(response)
