"""Payments: orders, gateway payments, refunds, webhook events, coupons and invoices.

Money is an integer number of paise with a currency code, never a float. Every amount a
learner pays is computed on the server (``payments.pricing``). Every state change happens in
a service (``payments.services``) under a row lock on the order, so verify, webhooks,
reconciliation and refunds arriving in any order give one outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from core.models import PublicIdModel, TimeStampedModel
from core.money import rupees


class Coupon(TimeStampedModel):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percentage off"
        FIXED = "fixed", "Fixed amount off"

    code = models.CharField(max_length=40, help_text="Case-insensitive; shown to learners.")
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    percent_off = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Percentage coupons."
    )
    amount_off_paise = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fixed coupons: paise off the plan's price."
    )
    max_discount_paise = models.PositiveIntegerField(
        null=True, blank=True, help_text="Percentage coupons: a cap on the discount."
    )
    min_amount_paise = models.PositiveIntegerField(
        default=0, help_text="The plan's price must be at least this."
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(
        null=True, blank=True, help_text="In total; empty for unlimited."
    )
    max_per_user = models.PositiveIntegerField(
        null=True, blank=True, default=1, help_text="Per learner; empty for unlimited."
    )
    products = models.ManyToManyField(
        "catalogue.Product", blank=True, related_name="+", help_text="Empty: any product."
    )
    categories = models.ManyToManyField(
        "catalogue.Category",
        blank=True,
        related_name="+",
        help_text="Empty: any category. A product qualifies if it is listed or in a listed "
        "category (or one of its subcategories).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="payments_coupon_code_ci"),
            models.CheckConstraint(
                condition=(
                    Q(kind="percent", percent_off__gt=0, percent_off__lte=100)
                    & Q(amount_off_paise__isnull=True)
                )
                | (Q(kind="fixed", amount_off_paise__gt=0) & Q(percent_off__isnull=True)),
                name="payments_coupon_kind_fields",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="payments_coupon_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Order(PublicIdModel):
    """One purchase attempt of one plan. States: created → paid → partially_refunded /
    refunded; created → failed / expired (a late captured payment still makes it paid)."""

    class Status(models.TextChoices):
        CREATED = "created", "Created (awaiting payment)"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    class Gateway(models.TextChoices):
        RAZORPAY = "razorpay", "Razorpay"
        SIMULATED = "simulated", "Simulated"
        NONE = "none", "None (fully discounted)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    plan = models.ForeignKey("catalogue.Plan", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalogue.Product", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    currency = models.CharField(max_length=3, default="INR")
    base_paise = models.PositiveIntegerField(help_text="The plan's price when ordered.")
    discount_paise = models.PositiveIntegerField(default=0)
    total_paise = models.PositiveIntegerField(help_text="What the learner pays.")
    refunded_paise = models.PositiveIntegerField(default=0)
    coupon = models.ForeignKey(
        Coupon, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    gateway = models.CharField(max_length=10, choices=Gateway.choices)
    gateway_order_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (unique when set)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it failed or expired.")
    failure_reason = models.CharField(max_length=200, blank=True)
    needs_review = models.BooleanField(
        default=False, help_text="Money arrived that did not match; finance must look."
    )
    review_reason = models.CharField(max_length=300, blank=True)
    coupon_overrun = models.BooleanField(
        default=False,
        help_text="Paid after its coupon hold lapsed, with the coupon's limit already reached: "
        "the discount was honoured over the limit; finance decides (see the runbook).",
    )
    enrollment = models.ForeignKey(
        "catalogue.Enrollment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_paise=F("base_paise") - F("discount_paise")),
                name="payments_order_total_is_base_minus_discount",
            ),
            models.CheckConstraint(
                condition=Q(total_paise=0) | Q(total_paise__gte=100),
                name="payments_order_total_zero_or_min_one_rupee",
            ),
            models.CheckConstraint(
                condition=Q(refunded_paise__lte=F("total_paise")),
                name="payments_order_refund_within_total",
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="payments_order_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(status="created"), name="payments_order_open_idx"
            ),
            models.Index(fields=["user", "-created_at"], name="payments_order_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id} · {self.get_status_display()} · {rupees(self.total_paise)}"


class Payment(TimeStampedModel):
    """A payment the gateway reported for one of our orders (one row per gateway id)."""

    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        CAPTURED = "captured", "Captured"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway_payment_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    amount_paise = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_description = models.CharField(max_length=300, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The gateway's last payload.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.gateway_payment_id} · {self.status}"


class Refund(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending at the gateway"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    gateway_refund_id = models.CharField(max_length=40, null=True, blank=True, unique=True)
    amount_paise = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_paise__gt=0), name="payments_refund_positive")
        ]

    def __str__(self) -> str:
        return f"{self.gateway_refund_id or 'refund'} · {rupees(self.amount_paise)}"


class WebhookEvent(models.Model):
    """Every webhook request, stored raw before processing (the dj-stripe pattern), once per
    ``X-Razorpay-Event-Id``; processing records its outcome so failures can be inspected
    and reprocessed from the admin."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received, not processed yet"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (nothing to do)"
        FAILED = "failed", "Failed (see error)"
        REJECTED = "rejected", "Rejected (bad signature)"

    event_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    event = models.CharField(max_length=60, blank=True)
    headers = models.JSONField(default=dict)
    body = models.TextField(help_text="The raw body, exactly as received.")
    signature_valid = models.BooleanField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    error = models.TextField(blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event or '?'} · {self.event_id or 'no id'} · {self.outcome}"


class CouponRedemption(models.Model):
    """A coupon used on a paid order (counted on payment, never before)."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="redemption")
    discount_paise = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["coupon", "user"], name="payments_redemption_user_idx")]

    def __str__(self) -> str:
        return f"{self.coupon} · {self.order_id}"


class InvoiceSequence(models.Model):
    """The last invoice number issued per financial year; locked while numbering, in the
    payment's transaction, so numbers are gap-free (a rolled-back payment takes none)."""

    financial_year = models.CharField(max_length=7, primary_key=True, help_text="e.g. 2026-27")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.financial_year}: {self.last_number}"


class Invoice(TimeStampedModel):
    """A tax invoice for a paid order. Prices are tax-inclusive; the GST is split out."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    financial_year = models.CharField(max_length=7)
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=30, unique=True)
    issued_at = models.DateTimeField()
    buyer_name = models.CharField(max_length=200)
    buyer_email = models.CharField(max_length=254, blank=True)
    buyer_state = models.CharField(max_length=2, blank=True, help_text="GST state code.")
    supplier_name = models.CharField(max_length=200)
    supplier_gstin = models.CharField(max_length=15, blank=True)
    supplier_state = models.CharField(max_length=2, blank=True)
    supplier_address = models.TextField(blank=True)
    sac_code = models.CharField(max_length=8)
    description = models.CharField(max_length=300)
    gst_rate = models.DecimalField(max_digits=5, decimal_places=2)
    total_paise = models.PositiveIntegerField()
    taxable_paise = models.PositiveIntegerField()
    cgst_paise = models.PositiveIntegerField(default=0)
    sgst_paise = models.PositiveIntegerField(default=0)
    igst_paise = models.PositiveIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["financial_year", "sequence"], name="payments_invoice_number_per_year"
            ),
            models.CheckConstraint(
                condition=Q(
                    total_paise=F("taxable_paise")
                    + F("cgst_paise")
                    + F("sgst_paise")
                    + F("igst_paise")
                ),
                name="payments_invoice_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class GatewayRecord(models.Model):
    """The simulated gateway's own store (its "Razorpay account"): orders, payments and
    refunds it created, as Razorpay-shaped JSON. Never read by our order logic, only through
    the gateway interface, exactly as Razorpay's API would be."""

    id = models.CharField(max_length=40, primary_key=True)
    kind = models.CharField(max_length=10)  # order, payment, refund
    parent = models.CharField(max_length=40, blank=True, db_index=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id
