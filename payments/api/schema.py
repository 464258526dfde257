"""OpenAPI documentation of the payments API: orders, coupon preview and the Razorpay
webhook (``payments.api.views``, applied there as ``@schema.<name>``) and the invoice
downloads (``payments.api.invoices``, whose media types live in that module: documented
from here by ``document_invoices``, which ``payments.api.urls`` calls). Error
responses are declared with the errors each operation raises
(core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import ValidationError

from core.api.schema import error_responses, uuid_id_parameter
from payments.api import invoices
from payments.api import serializers as s
from payments.errors import (
    AlreadyOwned,
    CouponExhausted,
    CouponInvalid,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvoiceNotFound,
    OrderNotFound,
    PaymentNotVerified,
    PaymentsInvalid,
    PlanUnavailable,
    SignatureInvalid,
    WebhookFailed,
    WebhookInProgress,
)

TAG = ["payments"]

_INPUT_INVALID = ValidationError({"plan": ["This field is required."]})
_COUPON_INVALID = CouponInvalid(fields={"coupon_code": ["This coupon has expired."]})
_ORDER_ID = uuid_id_parameter("The order's id.")

_ORDER_EXAMPLE = {
    "id": "8d7c0f7e-5b43-4a0e-9d1f-2f7f3c1a9b10",
    "status": "created",
    "plan": {"id": 12, "name": "6 months", "validity_days": 180, "is_lifetime": False},
    "product": {"slug": "gate-cse-test-series", "title": "GATE CSE test series"},
    "base_paise": 149900,
    "discount_paise": 14990,
    "total_paise": 134910,
    "refunded_paise": 0,
    "currency": "INR",
    "coupon_code": "WELCOME10",
    "gateway": "razorpay",
    "checkout": {
        "key_id": "rzp_test_1DP5mmOlF5G5ag",
        "order_id": "order_Nk3bF7fKJq9XyZ",
        "amount": 134910,
        "currency": "INR",
        "name": "Examforge",
        "description": "GATE CSE test series — 6 months",
        "prefill": {"name": "Asha Rao", "email": "asha@example.com", "contact": "+919812345678"},
    },
    "checkout_url": "https://api.examforge.in/checkout/8d7c0f7e-5b43-4a0e-9d1f-2f7f3c1a9b10/"
    "?token=8d7c0f7e-5b43-4a0e-9d1f-2f7f3c1a9b10:1tC2hX:abc",
    "enrollment": None,
    "created_at": "2026-11-22T10:00:00Z",
    "paid_at": None,
    "failure_reason": "",
}

order_create = extend_schema(
    tags=TAG,
    summary="Create an order (buy a plan)",
    description=(
        "The server computes the price (plan, coupon); amounts sent by the client are "
        "refused as unknown fields. Returns what Razorpay Checkout needs (`checkout`) "
        "and a signed, short-lived `checkout_url` for the web. Send an "
        "`Idempotency-Key` header (up to 64 characters) to make retries return the "
        "same order (200). A fully discounted order is paid at once (no checkout)."
    ),
    parameters=[
        OpenApiParameter(
            "Idempotency-Key",
            str,
            OpenApiParameter.HEADER,
            required=False,
            description="Any unique string per purchase attempt, e.g. a UUID.",
        )
    ],
    request=s.OrderInputSerializer,
    responses={
        201: s.OrderSerializer,
        200: s.OrderSerializer,
        **error_responses(
            _INPUT_INVALID,
            _COUPON_INVALID,
            401,
            PlanUnavailable,
            PlanUnavailable(
                "This plan is free: enroll with POST catalogue/products/{slug}/enroll/.",
                code="plan_is_free",
            ),
            AlreadyOwned("You already have lifetime access to this product."),
            CouponExhausted,
            IdempotencyKeyReused,
            429,
            GatewayUnavailable,
        ),
    },
    examples=[
        OpenApiExample(
            "Buy with a coupon",
            value={"plan": 12, "coupon_code": "WELCOME10"},
            request_only=True,
        ),
        OpenApiExample("Order", value=_ORDER_EXAMPLE, response_only=True),
    ],
)

order_list = extend_schema(
    tags=TAG,
    summary="My orders",
    responses={200: s.OrderSerializer(many=True), **error_responses(401)},
)

order_detail = extend_schema(
    tags=TAG,
    summary="One of my orders",
    parameters=[_ORDER_ID],
    responses={200: s.OrderSerializer, **error_responses(401, OrderNotFound)},
    examples=[OpenApiExample("Order", value=_ORDER_EXAMPLE, response_only=True)],
)

order_verify = extend_schema(
    tags=TAG,
    summary="Verify Checkout's payment (success callback)",
    description=(
        "Send the three fields of Razorpay Checkout's success handler. The signature is "
        "checked (constant time) against the gateway order id stored with this order; "
        "then the payment is recorded, the order marked paid and access granted — once: "
        "verifying again, or after the webhook did, returns the same paid order. The "
        "payment is looked up at the gateway: if the gateway refuses it (no such "
        "payment), the answer is 400 `payment_not_verified` and the order is unchanged."
    ),
    parameters=[_ORDER_ID],
    request=s.VerifyInputSerializer,
    responses={
        200: s.OrderSerializer,
        **error_responses(
            SignatureInvalid,
            SignatureInvalid(
                fields={"razorpay_order_id": ["This gateway order does not belong to this order."]}
            ),
            PaymentNotVerified(
                fields={
                    "razorpay_payment_id": [
                        "The gateway refused it: The id provided does not exist"
                    ]
                }
            ),
            401,
            OrderNotFound,
        ),
    },
    examples=[
        OpenApiExample(
            "Checkout callback",
            value={
                "razorpay_order_id": "order_Nk3bF7fKJq9XyZ",
                "razorpay_payment_id": "pay_Nk3cQ1xYvB2mKp",
                "razorpay_signature": "9ef4dffbfd84f1318f6739a3ce19f9d8"
                "5851857ae648f114332d8401e0949a3d",
            },
            request_only=True,
        )
    ],
)

coupon_preview = extend_schema(
    tags=TAG,
    summary="Preview a coupon on a plan",
    description="The price the learner would pay with this coupon; nothing is reserved.",
    request=s.CouponPreviewInputSerializer,
    responses={
        200: s.QuoteSerializer,
        **error_responses(
            _COUPON_INVALID, _INPUT_INVALID, 401, CouponExhausted, PlanUnavailable, 429
        ),
    },
    examples=[
        OpenApiExample(
            "Preview", value={"plan": 12, "coupon_code": "WELCOME10"}, request_only=True
        ),
        OpenApiExample(
            "Price",
            value={
                "plan": 12,
                "coupon_code": "WELCOME10",
                "base_paise": 149900,
                "discount_paise": 14990,
                "total_paise": 134910,
                "currency": "INR",
            },
            response_only=True,
        ),
    ],
)

razorpay_webhook = extend_schema(
    tags=TAG,
    summary="Razorpay webhook (public, signed)",
    description=(
        "Razorpay calls this. `X-Razorpay-Signature` (HMAC-SHA256 of the raw body with "
        "the webhook secret) and `X-Razorpay-Event-Id` are required. Each event is "
        "stored raw once; a replay answers 200 and does nothing. Handles "
        "`payment.authorized`, `payment.captured`, `order.paid`, `payment.failed`, "
        "`refund.processed`, `refund.failed`; others are stored and ignored. If "
        "processing fails the event is kept as failed and the answer is 503, so "
        "Razorpay retries it; a delivery that arrives while another delivery of the same "
        "event is being processed is answered 503 `webhook_in_progress`. A badly "
        "signed request is stored as rejected with only the first 2 KB of its body. "
        "Throttled per client address "
        "(`THROTTLE_RAZORPAY_WEBHOOK`, 1200/min: far above Razorpay's own traffic)."
    ),
    request={"application/json": {"type": "object", "additionalProperties": True}},
    parameters=[
        OpenApiParameter("X-Razorpay-Signature", str, OpenApiParameter.HEADER, required=True),
        OpenApiParameter("X-Razorpay-Event-Id", str, OpenApiParameter.HEADER, required=True),
    ],
    responses={
        200: s.WebhookAckSerializer,
        **error_responses(
            SignatureInvalid("The webhook signature does not match."),
            PaymentsInvalid("The webhook body is not a JSON event."),
            429,
            WebhookFailed,
            WebhookInProgress,
        ),
    },
)


# --- invoices (payments.api.invoices) -------------------------------------------------------

_INVOICE_ERRORS = error_responses(
    401,
    OrderNotFound,
    InvoiceNotFound,
    descriptions={404: "Not one of my orders, or it has no invoice (not paid, or ₹0)."},
)
_PDF_DESCRIPTION = (
    "The invoice PDF (attachment), as `application/pdf`; as `application/octet-stream` "
    "(the same bytes) when `Accept` asks for that and not for PDF."
)

invoice_pdf = extend_schema(
    tags=TAG,
    summary="Download my order's tax invoice (PDF)",
    description=(
        "The GST tax invoice of a paid order as an A4 PDF attachment named after the "
        "invoice number (`EF-2026-27-000042.pdf`). Prices are tax-inclusive; the invoice "
        "splits out the taxable value and CGST + SGST (or IGST)."
    ),
    parameters=[_ORDER_ID],
    responses={
        (200, invoices.PDF): OpenApiResponse(OpenApiTypes.BINARY, description=_PDF_DESCRIPTION),
        (200, invoices.OCTET_STREAM): OpenApiResponse(
            OpenApiTypes.BINARY, description=_PDF_DESCRIPTION
        ),
        **_INVOICE_ERRORS,
    },
)

invoice_html = extend_schema(
    tags=TAG,
    summary="My order's tax invoice as a printable page (HTML)",
    description="The same invoice as a standalone HTML page (inline styles, print-ready).",
    parameters=[_ORDER_ID],
    responses={
        (200, "text/html"): OpenApiResponse(
            OpenApiTypes.STR, description="The invoice as an HTML document."
        ),
        **_INVOICE_ERRORS,
    },
)


def document_invoices() -> None:
    """Attach the documentation above to the invoice views, whose media types live in
    their own module (so it cannot import this one). Called by
    ``payments.api.urls``."""
    extend_schema_view(get=invoice_pdf)(invoices.InvoicePdfView)
    extend_schema_view(get=invoice_html)(invoices.InvoiceHtmlView)
