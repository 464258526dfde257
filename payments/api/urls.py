"""The payments API, at the /api/v1/ root: ``orders/``, the learner's tax invoice
(``orders/{id}/invoice/`` as PDF, ``orders/{id}/invoice/html/``), ``coupons/preview/`` and
``payments/razorpay/webhook/``."""

from django.urls import path

from payments.api import invoices, views

orders = views.OrderViewSet

urlpatterns = [
    path("orders/", orders.as_view({"get": "list", "post": "create"}), name="order-list"),
    path("orders/<uuid:pk>/", orders.as_view({"get": "retrieve"}), name="order-detail"),
    path("orders/<uuid:pk>/verify/", orders.as_view({"post": "verify"}), name="order-verify"),
    path("coupons/preview/", views.CouponPreviewView.as_view(), name="coupon-preview"),
    path(
        "payments/razorpay/webhook/",
        views.RazorpayWebhookView.as_view(),
        name="razorpay-webhook",
    ),
    path("orders/<uuid:pk>/invoice/", invoices.InvoicePdfView.as_view(), name="order-invoice"),
    path(
        "orders/<uuid:pk>/invoice/html/",
        invoices.InvoiceHtmlView.as_view(),
        name="order-invoice-html",
    ),
]
