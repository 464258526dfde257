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
from rest_framework import permissions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from payments.api import schema
from payments.api.serializers import OCTET_STREAM, PDF
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
    @schema.invoice_pdf
    def get(self, request: AuthenticatedRequest, pk: UUID) -> HttpResponse:
        invoice = self._invoice(request, pk)
        response = HttpResponse(render_invoice_pdf(invoice), content_type=pdf_media_type(request))
        response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
        return self._private(response)


class InvoiceHtmlView(_InvoiceView):
    @schema.invoice_html
    def get(self, request: AuthenticatedRequest, pk: UUID) -> HttpResponse:
        invoice = self._invoice(request, pk)
        response = HttpResponse(
            render_invoice_html(invoice), content_type="text/html; charset=utf-8"
        )
        return self._private(response)
