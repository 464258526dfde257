"""Back office for finance: orders with their payments, refunds and webhook events, refunds
through the gateway, webhook reprocessing, and coupons.

Orders, payments, refunds and webhook events are read-only here: they change only through
``payments.services`` (a refund from the order's refund page, a reprocess action on the
webhook list), so every rupee stays traceable to a gateway call or a signed event.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin import fields_text
from core.money import rupees
from payments import selectors, services
from payments.errors import GatewayUnavailable, RefundInvalid
from payments.models import Coupon, Order, Payment, Refund, WebhookEvent

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedHttpRequest

EMPTY = "—"


# --- shared helpers -----------------------------------------------------------------------------


def pretty_json(value: Any) -> SafeString:
    """A payload as indented JSON in <pre>, escaped. A body that is not JSON is shown as
    received."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return format_html('<pre class="payload">{}</pre>', value)
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre class="payload" style="white-space: pre-wrap">{}</pre>', text)


def _collapsed(value: Any) -> SafeString:
    return format_html("<details><summary>show</summary>{}</details>", pretty_json(value))


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, ZoneInfo(settings.DISPLAY_TIME_ZONE))


def _order_link(order: Order | None) -> SafeString | str:
    if order is None:
        return EMPTY
    url = reverse("admin:payments_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.pk)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff with the view (or change) permission; never added, changed or
    deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- orders -------------------------------------------------------------------------------------


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = (
        "gateway_payment_id",
        "status",
        "amount",
        "method",
        "error",
        "captured_at",
        "created_at",
        "payload",
    )
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount(self, obj: Payment) -> str:
        return f"{rupees(obj.amount_paise)} {obj.currency}"

    @admin.display(description="Error")
    def error(self, obj: Payment) -> str:
        return f"{obj.error_code}: {obj.error_description}" if obj.error_code else EMPTY

    @admin.display(description="Gateway payload")
    def payload(self, obj: Payment) -> SafeString:
        return _collapsed(obj.raw)


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = (
        "gateway_refund_id",
        "status",
        "amount",
        "reason",
        "requested_by",
        "created_at",
        "processed_at",
        "payload",
    )
    readonly_fields = fields

    @admin.display(description="Amount")
    def amount(self, obj: Refund) -> str:
        return rupees(obj.amount_paise)

    @admin.display(description="Gateway payload")
    def payload(self, obj: Refund) -> SafeString:
        return _collapsed(obj.raw)


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    fields = ("event", "event_id", "outcome", "error", "received_at", "attempts", "payload")
    readonly_fields = fields
    ordering = ("received_at",)

    @admin.display(description="Body")
    def payload(self, obj: WebhookEvent) -> SafeString:
        return _collapsed(obj.body)


class OrderRefundedFilter(admin.SimpleListFilter):
    title = "refunds"
    parameter_name = "refunded"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "With refunds"), ("no", "Without refunds")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(refunded_paise__gt=0)
        if self.value() == "no":
            return queryset.filter(refunded_paise=0)
        return queryset


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount (₹)",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text="Empty: a full refund of what is left.",
    )
    reason = forms.CharField(
        max_length=200, help_text="Why (the learner may ask); kept on the refund."
    )

    def amount_paise(self, left: int) -> int:
        amount = self.cleaned_data.get("amount")
        return left if amount is None else int(amount * 100)


ORDER_FIELDS = (
    "id",
    "user",
    "product",
    "plan",
    "status",
    "total",
    "base",
    "discount",
    "coupon",
    "refunded",
    "refundable",
    "currency",
    "gateway",
    "gateway_order_id",
    "idempotency_key",
    "created_at",
    "paid_at",
    "closed_at",
    "failure_reason",
    "needs_review",
    "review_reason",
    "coupon_overrun",
    "enrollment",
    "invoice_number",
    "refund_link",
    "updated_at",
)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    inlines = [PaymentInline, RefundInline, WebhookEventInline]
    list_display = (
        "id",
        "user_email",
        "product",
        "plan",
        "status",
        "total",
        "gateway",
        "coupon",
        "created_at",
        "paid_at",
        "needs_review",
    )
    list_select_related = ("user", "product", "plan", "coupon")
    list_filter = (
        "status",
        "created_at",
        "gateway",
        "needs_review",
        "coupon_overrun",
        OrderRefundedFilter,
        ("coupon", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = (
        "id",
        "gateway_order_id",
        "payments__gateway_payment_id",
        "refunds__gateway_refund_id",
        "user__email",
    )
    date_hierarchy = "created_at"
    fields = ORDER_FIELDS
    readonly_fields = ORDER_FIELDS
    actions = ["refund", "mark_reviewed"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_refund")

    # -- columns and read-only parts

    @admin.display(description="Learner", ordering="user__email")
    def user_email(self, obj: Order) -> str:
        return obj.user.email or obj.user.phone or str(obj.user)

    @admin.display(description="Total", ordering="total_paise")
    def total(self, obj: Order) -> str:
        return rupees(obj.total_paise)

    @admin.display(description="Price")
    def base(self, obj: Order) -> str:
        return rupees(obj.base_paise)

    @admin.display(description="Discount")
    def discount(self, obj: Order) -> str:
        return rupees(obj.discount_paise)

    @admin.display(description="Refunded")
    def refunded(self, obj: Order) -> str:
        return rupees(obj.refunded_paise)

    @admin.display(description="Left to refund")
    def refundable(self, obj: Order) -> str:
        if not selectors.order_is_refundable(obj):
            return EMPTY
        return rupees(services.order_refundable_paise(obj))

    @admin.display(description="Invoice")
    def invoice_number(self, obj: Order) -> str:
        invoice = getattr(obj, "invoice", None)
        return invoice.number if invoice else EMPTY

    @admin.display(description="Refund")
    def refund_link(self, obj: Order) -> SafeString | str:
        if not selectors.order_is_refundable(obj):
            return EMPTY
        url = reverse("admin:payments_order_refund", args=[obj.pk])
        return format_html('<a class="button" href="{}">Refund…</a>', url)

    # -- totals of the filtered list

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is None or "cl" not in context:
            return response  # a redirect (after an action) or an error page
        totals = selectors.order_totals(orders=context["cl"].queryset)
        context["totals"] = {
            "revenue": rupees(totals.revenue_paise),
            "refunds": rupees(totals.refunds_paise),
            "net": rupees(totals.net_paise),
            "paid_orders": totals.paid_orders,
        }
        return response

    # -- refunds

    def get_urls(self):
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name="payments_order_refund",
        )
        return [refund, *super().get_urls()]

    @admin.action(description="Mark reviewed (settled by finance)", permissions=["refund"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        flagged = list(queryset.filter(needs_review=True))
        for order in flagged:
            services.order_mark_reviewed(order=order, by=request.user)  # type: ignore[arg-type]  # signed-in staff
        self.message_user(request, f"{len(flagged)} order(s) marked reviewed.", messages.SUCCESS)

    @admin.action(description="Refund the selected order…", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        """One order at a time, on a confirmation page."""
        orders = list(queryset[:2])
        if len(orders) != 1:
            self.message_user(request, "Select exactly one order to refund.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:payments_order_refund", args=[orders[0].pk]))

    def refund_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not (self.has_view_permission(request, order) and self.has_refund_permission(request)):
            raise PermissionDenied
        refundable = selectors.order_is_refundable(order)
        left = services.order_refundable_paise(order) if refundable else 0
        change_url = reverse("admin:payments_order_change", args=[order.pk])
        form = RefundForm(request.POST or None)
        if request.method == "POST" and refundable and form.is_valid():
            amount_paise = form.amount_paise(left)
            try:
                refund = services.refund_create(
                    order=order,
                    amount_paise=amount_paise,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except (RefundInvalid, GatewayUnavailable) as exc:
                detail = fields_text(exc)
                self.message_user(
                    request,
                    f"Nothing was refunded. {exc.detail}" + (f" {detail}" if detail else ""),
                    messages.ERROR,
                )
            else:
                order.refresh_from_db()
                self.message_user(
                    request,
                    f"Refund of {rupees(refund.amount_paise)} is {refund.get_status_display()}"
                    f" ({refund.gateway_refund_id or 'no gateway id yet'}); the order is "
                    f"{order.get_status_display().lower()}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.pk}",
            "opts": self.opts,
            "original": order,
            "order": order,
            "form": form,
            "refundable": refundable,
            "total": rupees(order.total_paise),
            "refunded": rupees(order.refunded_paise),
            "left": rupees(left),
            "change_url": change_url,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/payments/order/refund.html", context)


# --- payments and refunds -----------------------------------------------------------------------


class _GatewayRowAdmin(ReadOnlyAdmin):
    """A payment or refund: its order, amount in rupees and the gateway's payload."""

    @admin.display(description="Order", ordering="order__created_at")
    def order_link(self, obj: Payment | Refund) -> SafeString | str:
        return _order_link(obj.order)

    @admin.display(description="Amount", ordering="amount_paise")
    def amount(self, obj: Payment | Refund) -> str:
        return rupees(obj.amount_paise)

    @admin.display(description="Gateway payload")
    def payload(self, obj: Payment | Refund) -> SafeString:
        return pretty_json(obj.raw)


@admin.register(Payment)
class PaymentAdmin(_GatewayRowAdmin):
    list_display = (
        "gateway_payment_id",
        "order_link",
        "status",
        "amount",
        "method",
        "captured_at",
        "created_at",
    )
    list_select_related = ("order",)
    list_filter = ("status", "method", "created_at")
    search_fields = ("gateway_payment_id", "order__gateway_order_id", "order__user__email")
    readonly_fields = (
        "order_link",
        "gateway_payment_id",
        "status",
        "amount",
        "currency",
        "method",
        "error_code",
        "error_description",
        "captured_at",
        "created_at",
        "updated_at",
        "payload",
    )
    fields = readonly_fields


@admin.register(Refund)
class RefundAdmin(_GatewayRowAdmin):
    list_display = (
        "gateway_refund_id",
        "order_link",
        "amount",
        "status",
        "reason",
        "requested_by",
        "created_at",
        "processed_at",
    )
    list_select_related = ("order", "requested_by")
    list_filter = ("status", "created_at")
    search_fields = (
        "gateway_refund_id",
        "payment__gateway_payment_id",
        "order__gateway_order_id",
        "order__user__email",
    )
    readonly_fields = (
        "order_link",
        "payment",
        "gateway_refund_id",
        "amount",
        "status",
        "reason",
        "requested_by",
        "created_at",
        "processed_at",
        "updated_at",
        "payload",
    )
    fields = readonly_fields


# --- webhook events -----------------------------------------------------------------------------


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "event",
        "event_id",
        "signature_valid",
        "outcome",
        "order_link",
        "received_at",
        "processed_at",
        "attempts",
    )
    list_select_related = ("order",)
    list_filter = ("outcome", "signature_valid", "event", "received_at")
    search_fields = ("event_id", "order__gateway_order_id")
    date_hierarchy = "received_at"
    readonly_fields = (
        "event",
        "event_id",
        "signature_valid",
        "outcome",
        "error",
        "order_link",
        "received_at",
        "processed_at",
        "attempts",
        "pretty_headers",
        "pretty_body",
    )
    fields = readonly_fields
    actions = ["reprocess"]

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_webhookevent")

    @admin.display(description="Order")
    def order_link(self, obj: WebhookEvent) -> SafeString | str:
        return _order_link(obj.order)

    @admin.display(description="Headers")
    def pretty_headers(self, obj: WebhookEvent) -> SafeString:
        return pretty_json(obj.headers)

    @admin.display(description="Body (raw, as received)")
    def pretty_body(self, obj: WebhookEvent) -> SafeString:
        return pretty_json(obj.body)

    @admin.action(description="Reprocess selected failed events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        """Only events with a valid signature that failed (or were never processed): a
        processed event is never applied twice, a rejected one never at all."""
        events = list(selectors.webhook_events_reprocessable(queryset))
        skipped = queryset.count() - len(events)
        outcomes: dict[str, int] = {}
        for event in events:
            result = services.webhook_process(event)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        if events:
            summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
            failed = outcomes.get(WebhookEvent.Outcome.FAILED, 0)
            self.message_user(
                request,
                f"Reprocessed {len(events)} event(s): {summary}.",
                messages.WARNING if failed else messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} event(s): only failed or unprocessed events with a valid "
                "signature are reprocessed.",
                messages.WARNING,
            )


# --- coupons ------------------------------------------------------------------------------------


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ("code", "kind", "value", "window", "redemption_count", "is_active")
    list_filter = ("kind", "is_active", "valid_until")
    search_fields = ("code", "description")
    filter_horizontal = ("products", "categories")
    ordering = ("-created_at",)
    readonly_fields = ("redemption_count", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "description", "is_active")}),
        ("Discount", {"fields": ("kind", "percent_off", "max_discount_paise", "amount_off_paise")}),
        (
            "Rules",
            {
                "fields": (
                    "min_amount_paise",
                    "valid_from",
                    "valid_until",
                    "max_redemptions",
                    "max_per_user",
                )
            },
        ),
        ("Restricted to", {"fields": ("products", "categories")}),
        ("History", {"fields": ("redemption_count", "created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coupon]:
        return super().get_queryset(request).annotate(_redemptions=Count("redemptions"))

    @admin.display(description="Value")
    def value(self, obj: Coupon) -> str:
        if obj.kind == Coupon.Kind.PERCENT:
            cap = f" (at most {rupees(obj.max_discount_paise)})" if obj.max_discount_paise else ""
            return f"{obj.percent_off.normalize():f} %{cap}"  # type: ignore[union-attr]  # percent
        return rupees(obj.amount_off_paise or 0)

    @admin.display(description="Valid", ordering="valid_from")
    def window(self, obj: Coupon) -> str:
        if obj.valid_from is None and obj.valid_until is None:
            return "Always"
        start = f"{_local(obj.valid_from):%d %b %Y}" if obj.valid_from else "…"
        end = f"{_local(obj.valid_until):%d %b %Y}" if obj.valid_until else "…"
        return f"{start} – {end}"

    @admin.display(description="Redemptions", ordering="_redemptions")
    def redemption_count(self, obj: Coupon) -> str:
        used = getattr(obj, "_redemptions", None)
        if used is None:  # the add page
            used = obj.redemptions.count() if obj.pk else 0
        return f"{used} / {obj.max_redemptions}" if obj.max_redemptions else str(used)
