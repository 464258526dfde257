"""A learner's tax invoice: ``orders/{id}/invoice/`` (PDF) and ``orders/{id}/invoice/html/``."""

from django.urls import path

from payments.api import invoices

urlpatterns = [
    path("orders/<uuid:pk>/invoice/", invoices.InvoicePdfView.as_view(), name="order-invoice"),
    path(
        "orders/<uuid:pk>/invoice/html/",
        invoices.InvoiceHtmlView.as_view(),
        name="order-invoice-html",
    ),
]
