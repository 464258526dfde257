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
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api.exception_handler import error_body
from core.api.views import OwnedViewSet
from core.request_context import bind_log_context
from core.throttling import ScopedIPThrottle
from payments import services
from payments.api import schema
from payments.api import serializers as s
from payments.errors import OrderNotFound, PaymentsInvalid, WebhookFailed, WebhookInProgress
from payments.gateways import gateway_for
from payments.models import Order

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


class OrderCreateThrottle(UserRateThrottle):
    scope = "order_create"


class CouponPreviewThrottle(UserRateThrottle):
    scope = "coupon_preview"


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

    @schema.order_create
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

    @schema.order_list
    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = s.OrderSerializer(page, many=True, context=_context(request, page)).data  # type: ignore[arg-type]  # paginated
        return self.get_paginated_response(data)

    @schema.order_detail
    def retrieve(self, request: Request, pk: UUID) -> Response:
        return self._respond(self._order(pk))

    @schema.order_verify
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

    @schema.coupon_preview
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

    @schema.razorpay_webhook
    def post(self, request: Request) -> Response:
        event = services.webhook_receive(request.body, dict(request.headers))
        if event.outcome == event.Outcome.FAILED:
            return _answer(WebhookFailed())
        if event.outcome == event.Outcome.RECEIVED:  # a concurrent delivery is processing it
            return _answer(WebhookInProgress())
        return Response(s.WebhookAckSerializer({"status": event.outcome}).data)


def _answer(error: WebhookFailed) -> Response:
    """The error's answer, returned rather than raised: the stored event must survive."""
    return Response(error_body(error.code, error.detail), status=error.status)
