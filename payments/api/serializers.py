"""Serializers of the payments API. Amounts are integers in paise; the client never sends
one (anything that decides money is computed on the server)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictInputSerializer
from payments.models import Order

# The media types of the invoice PDF download (payments.api.invoices): PDF, or the same bytes
# as a generic binary for generated clients that read any download as a file.
PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"


class OrderInputSerializer(serializers.Serializer):
    """The plan to buy and an optional coupon. Other fields are ignored, amounts included
    (``amount``, ``total_paise``…): the server prices every order."""

    plan = serializers.IntegerField(min_value=1, help_text="The plan's id (product page).")
    coupon_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, trim_whitespace=True
    )


class CouponPreviewInputSerializer(OrderInputSerializer):  # amounts ignored here too
    coupon_code = serializers.CharField(max_length=40, trim_whitespace=True)


class VerifyInputSerializer(StrictInputSerializer):
    razorpay_order_id = serializers.CharField(max_length=40)
    razorpay_payment_id = serializers.CharField(max_length=40)
    razorpay_signature = serializers.CharField(max_length=128)


class OrderPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    validity_days = serializers.IntegerField(allow_null=True)
    is_lifetime = serializers.BooleanField()


class OrderProductSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()


class PrefillSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    contact = serializers.CharField(allow_blank=True)


class CheckoutSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    order_id = serializers.CharField(help_text="The gateway's order id (`order_…`).")
    amount = serializers.IntegerField(help_text="Paise.")
    currency = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    prefill = PrefillSerializer()


class OrderSerializer(serializers.ModelSerializer):
    plan = OrderPlanSerializer(read_only=True)
    product = OrderProductSerializer(read_only=True)
    coupon_code = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=Order.Status.choices,
        read_only=True,
        help_text="`created`, `paid`, `partially_refunded`, `refunded`, `failed` or `expired`.",
    )
    checkout = serializers.SerializerMethodField(
        help_text="What Razorpay Checkout needs; null unless the order awaits payment."
    )
    checkout_url = serializers.SerializerMethodField(
        help_text="A signed, short-lived web checkout page; null unless awaiting payment."
    )
    enrollment = serializers.UUIDField(source="enrollment.id", read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "plan",
            "product",
            "base_paise",
            "discount_paise",
            "total_paise",
            "refunded_paise",
            "currency",
            "coupon_code",
            "gateway",
            "checkout",
            "checkout_url",
            "enrollment",
            "created_at",
            "paid_at",
            "failure_reason",
        ]
        read_only_fields = fields

    def get_coupon_code(self, order: Order) -> str | None:
        return order.coupon.code if order.coupon_id else None  # type: ignore[union-attr]

    @extend_schema_field(CheckoutSerializer(allow_null=True))
    def get_checkout(self, order: Order) -> dict | None:
        return self.context.get("checkout", {}).get(order.pk)

    def get_checkout_url(self, order: Order) -> str | None:
        return self.context.get("checkout_url", {}).get(order.pk)


class QuoteSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    coupon_code = serializers.CharField(allow_null=True)
    base_paise = serializers.IntegerField()
    discount_paise = serializers.IntegerField()
    total_paise = serializers.IntegerField()
    currency = serializers.CharField()


class WebhookAckSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="`processed`, `ignored` (nothing to do) or a replay's."
    )
