"""The payments API: orders (create, list, detail, verify), coupon preview and Razorpay's
webhook. Thin views over ``payments.services``; a learner's order URL is scoped to them
(another learner's order is 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api.schema import error_response, errors, uuid_id_parameter
from core.api.views import OwnedViewSet
from core.request_context import bind_log_context
from core.throttling import ScopedIPThrottle
from payments import services
from payments.api import serializers as s
from payments.errors import OrderNotFound, PaymentsInvalid
from payments.gateways import gateway_for
from payments.models import Order

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["payments"]

_ORDER_ID = uuid_id_parameter("The order's id.")
_E401 = errors(401)[401]
_E404_ORDER = error_response(404, ("not_found", "No such order."))
_E400_INPUT = (
    "invalid",
    "Some fields are not valid.",
    {"plan": ["This field is required."]},
)
_E400_COUPON = (
    "coupon_invalid",
    "This coupon cannot be used here.",
    {"coupon_code": ["This coupon has expired."]},
)
_E409_ORDER = error_response(
    409,
    ("plan_unavailable", "This plan is not on sale."),
    ("plan_is_free", "This plan is free: enroll with POST catalogue/products/{slug}/enroll/."),
    ("already_owned", "You already have lifetime access to this product."),
    ("coupon_exhausted", "This coupon has been used up."),
    ("idempotency_key_reused", "This Idempotency-Key was used for a different request."),
)
_E429 = errors(429)[429]

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


class OrderCreateThrottle(UserRateThrottle):
    scope = "order_create"


class CouponPreviewThrottle(UserRateThrottle):
    scope = "coupon_preview"


IN_PROGRESS = "Another delivery of this event is being processed; retry later."


class RazorpayWebhookThrottle(ScopedIPThrottle):
    scope = "razorpay_webhook"


def _context(request: Request, orders: list[Order]) -> dict[str, Any]:
    """Checkout data for the orders that await payment."""
    checkout: dict[Any, Any] = {}
    urls: dict[Any, Any] = {}
    for order in orders:
        if order.status != Order.Status.CREATED or not order.gateway_order_id:
            continue
        user = order.user
        checkout[order.pk] = {
            "key_id": gateway_for(order.gateway).key_id,
            "order_id": order.gateway_order_id,
            "amount": order.total_paise,
            "currency": order.currency,
            "name": settings.PAYMENTS_BRAND_NAME,
            "description": f"{order.product.title} — {order.plan.name}"[:255],
            "prefill": {
                "name": user.get_full_name(),
                "email": user.email or "",
                "contact": str(user.phone or ""),
            },
        }
        path = reverse("checkout", kwargs={"order_id": order.pk})
        urls[order.pk] = request.build_absolute_uri(
            f"{path}?token={services.checkout_token(order)}"
        )
    return {"checkout": checkout, "checkout_url": urls, "request": request}


class OrderViewSet(mixins.ListModelMixin, OwnedViewSet):
    serializer_class = s.OrderSerializer

    def get_owned_queryset(self) -> QuerySet[Order]:
        return Order.objects.select_related("plan", "product", "coupon", "user").order_by(
            "-created_at"
        )

    def get_throttles(self):
        if self.action == "create":
            return [OrderCreateThrottle()]
        return super().get_throttles()

    def _order(self, pk: UUID) -> Order:
        bind_log_context(order_id=pk)
        order = self.get_queryset().filter(pk=pk).first()
        if order is None:
            raise OrderNotFound()
        return order

    def _respond(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        data = s.OrderSerializer(order, context=_context(self.request, [order])).data
        return Response(data, status=code)

    @extend_schema(
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
            400: error_response(400, _E400_INPUT, _E400_COUPON),
            401: _E401,
            409: _E409_ORDER,
            429: _E429,
            502: error_response(
                502,
                (
                    "gateway_unavailable",
                    "The payment gateway did not answer. Nothing was charged; try again.",
                ),
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
    def create(self, request: AuthenticatedRequest) -> Response:
        data = s.OrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 64:
            raise PaymentsInvalid(fields={"Idempotency-Key": ["At most 64 characters."]})
        order, created = services.order_create(
            user=request.user,
            plan_id=data.validated_data["plan"],
            coupon_code=data.validated_data.get("coupon_code"),
            idempotency_key=key or None,
        )
        bind_log_context(order_id=order.pk)
        order = self.get_queryset().get(pk=order.pk)
        return self._respond(order, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        tags=TAG,
        summary="My orders",
        responses={200: s.OrderSerializer(many=True), 401: _E401},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = s.OrderSerializer(page, many=True, context=_context(request, page)).data  # type: ignore[arg-type]  # paginated
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAG,
        summary="One of my orders",
        parameters=[_ORDER_ID],
        responses={200: s.OrderSerializer, 401: _E401, 404: _E404_ORDER},
        examples=[OpenApiExample("Order", value=_ORDER_EXAMPLE, response_only=True)],
    )
    def retrieve(self, request: Request, pk: UUID) -> Response:
        return self._respond(self._order(pk))

    @extend_schema(
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
            400: error_response(
                400,
                ("signature_invalid", "The payment signature does not match this order."),
                (
                    "signature_invalid",
                    "The payment signature does not match this order.",
                    {"razorpay_order_id": ["This gateway order does not belong to this order."]},
                ),
                (
                    "payment_not_verified",
                    "The gateway does not know this payment for this order; nothing was changed.",
                    {
                        "razorpay_payment_id": [
                            "The gateway refused it: The id provided does not exist"
                        ]
                    },
                ),
            ),
            401: _E401,
            404: _E404_ORDER,
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
    @action(detail=True, methods=["post"])
    def verify(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        order = self._order(pk)
        data = s.VerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_verify(user=request.user, order_id=order.pk, **data.validated_data)
        return self._respond(self._order(pk))


class CouponPreviewView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [CouponPreviewThrottle]

    @extend_schema(
        tags=TAG,
        summary="Preview a coupon on a plan",
        description="The price the learner would pay with this coupon; nothing is reserved.",
        request=s.CouponPreviewInputSerializer,
        responses={
            200: s.QuoteSerializer,
            400: error_response(400, _E400_COUPON, _E400_INPUT),
            401: _E401,
            409: error_response(
                409,
                ("coupon_exhausted", "This coupon has been used up."),
                ("plan_unavailable", "This plan is not on sale."),
            ),
            429: _E429,
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
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.CouponPreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.coupon_preview(
            user=request.user,
            plan_id=data.validated_data["plan"],
            coupon_code=data.validated_data["coupon_code"],
        )
        return Response(
            s.QuoteSerializer(
                {
                    "plan": quote.plan.pk,
                    "coupon_code": quote.coupon.code if quote.coupon else None,
                    "base_paise": quote.base_paise,
                    "discount_paise": quote.discount_paise,
                    "total_paise": quote.total_paise,
                    "currency": quote.currency,
                }
            ).data
        )


@method_decorator(csrf_exempt, name="dispatch")
class RazorpayWebhookView(APIView):
    """Public and signed. Reads the raw body (never re-serialised) before any parsing."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [RazorpayWebhookThrottle]

    @extend_schema(
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
            400: error_response(
                400,
                ("signature_invalid", "The webhook signature does not match."),
                ("invalid", "The webhook body is not a JSON event."),
            ),
            429: error_response(429),
            503: error_response(
                503,
                ("webhook_failed", "The event was stored; retry later."),
                ("webhook_in_progress", IN_PROGRESS),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        event = services.webhook_receive(request.body, dict(request.headers))
        if event.outcome == event.Outcome.FAILED:
            return Response(
                {"code": "webhook_failed", "detail": "The event was stored; retry later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        if event.outcome == event.Outcome.RECEIVED:  # a concurrent delivery is processing it
            return Response(
                {"code": "webhook_in_progress", "detail": IN_PROGRESS},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(s.WebhookAckSerializer({"status": event.outcome}).data)
