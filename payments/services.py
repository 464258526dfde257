"""Every write of payments: create an order, verify Checkout's callback, receive and process
webhooks, refund, reconcile.

Each change to an order happens under its row lock (``SELECT … FOR UPDATE``) and the
fulfilment (paid, coupon redemption, enrollment, invoice) happens once, when an order first
becomes paid — so the verify call, ``payment.captured`` and ``order.paid``, retried and in
any order, give one paid order, one payment row per gateway payment and one enrollment.
Calls to the gateway are never made while holding a lock or an open transaction, except
the capture of an authorized payment (bounded by the gateway timeout).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalogue import services as catalogue_services
from catalogue.models import Enrollment, Plan
from payments import invoices, pricing
from payments.errors import (
    AlreadyOwned,
    GatewayUnavailable,
    IdempotencyKeyReused,
    OrderNotFound,
    PaymentNotVerified,
    PaymentsInvalid,
    PlanIsFree,
    PlanUnavailable,
    RefundInvalid,
    SignatureInvalid,
)
from payments.gateways import GatewayError, gateway_for, get_gateway, verify_webhook_signature
from payments.gateways.base import Gateway, GatewayRejected
from payments.models import CouponRedemption, Order, Payment, Refund, WebhookEvent
from payments.selectors import PAID_STATES, order_is_refundable

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# What is kept of a badly signed webhook body: enough to recognise a misconfigured secret
# (the event name and ids come first), never a forger's megabytes.
REJECTED_BODY_MAX_BYTES = 2048
CHECKOUT_SALT = "payments.checkout"


# --- orders ----------------------------------------------------------------------------------


def _check_not_owned(user: User, plan: Plan) -> None:
    """Refuse buying what the learner already holds for longer than the plan would add:
    lifetime access, or more days left than the plan's validity."""
    current = (
        Enrollment.objects.filter(user=user, product_id=plan.product_id, revoked_at__isnull=True)
        .order_by("-expires_at")
        .first()
    )
    if current is None or not current.is_live():
        return
    if current.expires_at is None:
        raise AlreadyOwned("You already have lifetime access to this product.")
    if plan.is_lifetime:
        return
    left = current.expires_at - timezone.now()
    if plan.validity_days is not None and left > timedelta(days=plan.validity_days):
        raise AlreadyOwned(
            f"You already have access until {current.expires_at:%d %b %Y}, longer than this "
            f"plan's {plan.validity_days} days."
        )


def _same_request(order: Order, plan_id: int, coupon_code: str | None) -> bool:
    code = (coupon_code or "").strip().lower()
    ordered = order.coupon.code.lower() if order.coupon_id else ""  # type: ignore[union-attr]
    return order.plan_id == plan_id and code == ordered


def order_create(
    *,
    user: User,
    plan_id: int,
    coupon_code: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Create an order for ``plan_id`` (and its gateway order). Returns (order, created).
    The same ``idempotency_key`` returns the same order. A gateway failure marks the order
    failed (it can never be paid) and raises 502 ``gateway_unavailable``."""
    if idempotency_key:
        existing = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            if not _same_request(existing, plan_id, coupon_code):
                raise IdempotencyKeyReused()
            return existing, False
    plan = Plan.objects.select_related("product").filter(pk=plan_id).first()
    if plan is None:
        raise PaymentsInvalid(fields={"plan": [f"No plan {plan_id}."]})
    if not plan.is_active or not plan.product.is_published:
        raise PlanUnavailable()
    if plan.price_paise == 0:
        raise PlanIsFree()
    _check_not_owned(user, plan)
    gateway = get_gateway()
    try:
        with transaction.atomic():
            quote = pricing.quote(
                user=user, plan=plan, coupon_code=coupon_code, now=timezone.now(), lock=True
            )
            order = Order.objects.create(
                user=user,
                plan=plan,
                product=plan.product,
                currency=quote.currency,
                base_paise=quote.base_paise,
                discount_paise=quote.discount_paise,
                total_paise=quote.total_paise,
                coupon=quote.coupon,
                gateway=gateway.name if quote.total_paise else Order.Gateway.NONE,
                idempotency_key=idempotency_key or None,
            )
            if quote.total_paise == 0:  # fully discounted: nothing to charge
                _fulfil(Order.objects.select_for_update().get(pk=order.pk), payment=None)
                return Order.objects.get(pk=order.pk), True
    except IntegrityError:
        if idempotency_key:  # a concurrent retry with the same key won the insert
            existing = Order.objects.filter(user=user, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
        raise
    try:
        entity = gateway.create_order(
            amount_paise=order.total_paise,
            currency=order.currency,
            receipt=str(order.pk),
            notes={"order": str(order.pk), "user": str(user.public_id), "plan": str(plan.pk)},
        )
    except GatewayError as exc:
        logger.warning("gateway order create failed", extra={"order_id": str(order.pk)})
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.FAILED,
            closed_at=timezone.now(),
            failure_reason=f"gateway_unavailable: {exc}"[:200],
            idempotency_key=None,  # a retry with the same key starts afresh
        )
        raise GatewayUnavailable() from exc
    Order.objects.filter(pk=order.pk).update(gateway_order_id=entity["id"])
    order.gateway_order_id = entity["id"]
    return order, True


def coupon_preview(*, user: User, plan_id: int, coupon_code: str) -> pricing.Quote:
    """The price of a plan on sale with a coupon, for the learner; nothing is reserved."""
    plan = (
        Plan.objects.select_related("product")
        .filter(pk=plan_id, is_active=True, product__is_published=True)
        .first()
    )
    if plan is None:
        raise PaymentsInvalid(fields={"plan": ["No such plan on sale."]})
    return pricing.quote(user=user, plan=plan, coupon_code=coupon_code, now=timezone.now())


def checkout_token(order: Order) -> str:
    return signing.TimestampSigner(salt=CHECKOUT_SALT).sign(str(order.pk))


def checkout_order(order_id: str, token: str) -> Order:
    """The order a signed, short-lived checkout link points to (404 otherwise)."""
    try:
        value = signing.TimestampSigner(salt=CHECKOUT_SALT).unsign(
            token, max_age=settings.CHECKOUT_LINK_MAX_AGE_SECONDS
        )
    except signing.BadSignature as exc:
        raise OrderNotFound() from exc
    if value != str(order_id):
        raise OrderNotFound()
    order = Order.objects.select_related("user", "plan", "product").filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


# --- verify (Checkout's callback) --------------------------------------------------------------


def order_verify(
    *,
    user: User,
    order_id: uuid.UUID | str,
    razorpay_order_id: str,
    razorpay_payment_id: str,
    razorpay_signature: str,
) -> Order:
    """Verify Checkout's signature against the gateway order id **we stored**, record the
    payment and fulfil the order, once. Idempotent. The payment is fetched from the gateway;
    a refusal (4xx: no such payment) is 400 ``payment_not_verified`` and changes nothing;
    only a gateway that cannot answer (timeout, 5xx) lets the signature stand alone."""
    order = Order.objects.filter(pk=order_id, user=user).first()
    if order is None:
        raise OrderNotFound()
    if not order.gateway_order_id or razorpay_order_id != order.gateway_order_id:
        raise SignatureInvalid(
            fields={"razorpay_order_id": ["This gateway order does not belong to this order."]}
        )
    gateway = gateway_for(order.gateway)
    if not gateway.verify_payment_signature(
        gateway_order_id=order.gateway_order_id,
        gateway_payment_id=razorpay_payment_id,
        signature=razorpay_signature,
    ):
        raise SignatureInvalid()
    try:
        entity = gateway.fetch_payment(razorpay_payment_id)
    except GatewayRejected as exc:
        # The gateway answered, and refused: no such payment (or not ours). A signature alone
        # proves nothing then — with a leaked or default secret anyone can make one.
        logger.warning("verify: the gateway refused the payment", extra={"order_id": str(order.pk)})
        raise PaymentNotVerified(
            fields={"razorpay_payment_id": [f"The gateway refused it: {exc.description}"[:300]]}
        ) from exc
    except GatewayError:
        # Only when the gateway could not answer (timeout, connection, 5xx): the signature
        # proves the payment was authorized for this order and amount; the webhook and
        # reconciliation confirm it later.
        entity = {
            "id": razorpay_payment_id,
            "order_id": order.gateway_order_id,
            "amount": order.total_paise,
            "currency": order.currency,
            "status": "authorized",
        }
    if entity.get("order_id") not in (None, order.gateway_order_id):
        raise SignatureInvalid(
            fields={"razorpay_payment_id": ["This payment belongs to another order."]}
        )
    entity = _capture_if_manual(gateway, order, entity)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        payment = _record_payment(order, {**entity, "status": entity.get("status") or "authorized"})
        if payment.status in (Payment.Status.AUTHORIZED, Payment.Status.CAPTURED):
            _fulfil(order, payment=payment)
    return Order.objects.get(pk=order.pk)


def _capture_if_manual(gateway: Gateway, order: Order, entity: dict[str, Any]) -> dict[str, Any]:
    """Capture an authorized payment now when the account does not auto-capture: Razorpay
    refunds an uncaptured payment after a few days, and the ``payment.authorized`` webhook
    may never come. A failed capture is logged and left for ``orders_reconcile``."""
    if entity.get("status") != "authorized" or settings.RAZORPAY_AUTO_CAPTURE:
        return entity
    try:
        return gateway.capture_payment(
            entity["id"], amount_paise=order.total_paise, currency=order.currency
        )
    except GatewayError:
        logger.warning("capture failed", extra={"order_id": str(order.pk)})
        return entity


# --- the one place an order becomes paid -------------------------------------------------------


def _record_payment(order: Order, entity: dict[str, Any]) -> Payment:
    """Upsert our row for a gateway payment (one row per gateway payment id). A status
    never moves backwards (captured stays captured if a late 'authorized' arrives)."""
    status = entity.get("status") or "authorized"
    rank = {"failed": 0, "authorized": 1, "captured": 2, "refunded": 3}
    payment = Payment.objects.select_for_update().filter(gateway_payment_id=entity["id"]).first()
    fields = {
        "amount_paise": int(entity.get("amount") or 0),
        "currency": entity.get("currency") or order.currency,
        "method": (entity.get("method") or "")[:20],
        "error_code": (entity.get("error_code") or "")[:60],
        "error_description": (entity.get("error_description") or "")[:300],
        "raw": entity,
    }
    if status not in rank:
        status = "authorized"
    if payment is None:
        payment = Payment.objects.create(
            order=order, gateway_payment_id=entity["id"], status=status, **fields
        )
    elif rank[status] >= rank.get(payment.status, 0):
        for name, value in fields.items():
            setattr(payment, name, value)
        payment.status = status
        payment.save()
    if payment.status == Payment.Status.CAPTURED and payment.captured_at is None:
        payment.captured_at = timezone.now()
        payment.save(update_fields=["captured_at", "updated_at"])
    return payment


def _flag(order: Order, reason: str) -> None:
    order.needs_review = True
    order.review_reason = reason[:300]
    order.save(update_fields=["needs_review", "review_reason", "updated_at"])
    logger.warning("order flagged for review", extra={"order_id": str(order.pk)})


def _fulfil(order: Order, *, payment: Payment | None) -> None:
    """Mark ``order`` (locked by the caller) paid and grant access — once. A payment whose
    amount or currency does not match flags the order for review and grants nothing; a
    second payment on an order already paid is flagged too (finance refunds it). A payment
    for an order whose coupon hold lapsed while others used the coupon up is honoured and
    flagged ``coupon_overrun`` (the coupon's limit is never exceeded silently)."""
    if payment is not None and (
        payment.amount_paise != order.total_paise or payment.currency != order.currency
    ):
        _flag(
            order,
            f"Payment {payment.gateway_payment_id} of {payment.amount_paise} "
            f"{payment.currency} does not match the order's {order.total_paise} "
            f"{order.currency}.",
        )
        return
    if order.status in PAID_STATES:
        first = order.payments.filter(
            status__in=[Payment.Status.AUTHORIZED, Payment.Status.CAPTURED, Payment.Status.REFUNDED]
        ).exclude(pk=payment.pk if payment else None)  # type: ignore[misc]  # None: none
        if payment is not None and first.exists() and not order.needs_review:
            _flag(order, f"A second payment {payment.gateway_payment_id} arrived for a paid order.")
        return
    now = timezone.now()
    honoured = pricing.coupon_honoured(order=order, now=now)
    enrollment, _ = catalogue_services.enrollment_add(
        user=order.user,
        product=order.product,
        plan=order.plan,
        source=Enrollment.Source.PURCHASE,
        order_id=order.pk,
    )
    order.status = Order.Status.PAID
    order.paid_at = now
    order.closed_at = None
    order.failure_reason = ""
    order.enrollment = enrollment
    if not honoured:
        # The learner paid the discounted price the gateway order asked for: access is
        # granted, and the redemption over the limit is flagged, never silent.
        order.coupon_overrun = True
        order.needs_review = True
        order.review_reason = (
            f"coupon_overrun: {order.coupon.code} was used up when this payment arrived "  # type: ignore[union-attr]
            f"(its hold had lapsed); {order.discount_paise} paise of discount over the limit."
        )[:300]
        logger.warning("coupon redeemed over its limit", extra={"order_id": str(order.pk)})
    order.save()
    if order.coupon_id:
        CouponRedemption.objects.get_or_create(
            order=order,
            defaults={
                "coupon_id": order.coupon_id,
                "user_id": order.user_id,
                "discount_paise": order.discount_paise,
            },
        )
    invoices.invoice_issue(order=order)  # numbered in this transaction


@transaction.atomic
def order_mark_reviewed(*, order: Order, by: User) -> Order:
    """Finance has settled a flagged order (refunded it or honoured it): the flag clears and
    the reason is kept, with who cleared it. The redemption, if any, stays counted."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not order.needs_review:
        return order
    order.needs_review = False
    order.review_reason = f"{order.review_reason} [reviewed by {by}]"[:300]
    order.save(update_fields=["needs_review", "review_reason", "updated_at"])
    return order


# --- webhooks ----------------------------------------------------------------------------------


def _header(headers: dict[str, str], name: str) -> str:
    lowered = {key.lower(): value for key, value in headers.items()}
    return (lowered.get(name.lower()) or "").strip()


def webhook_receive(raw_body: bytes, headers: dict[str, str]) -> WebhookEvent:
    """Store the request raw, then process it. Wrong or missing signature: 400, stored as
    rejected without its event id (a forged event cannot block the real one) and with only
    the first ``REJECTED_BODY_MAX_BYTES`` of its body. A replay of
    a processed event changes nothing; a replay of a failed one processes it again."""
    signature = _header(headers, "X-Razorpay-Signature")
    event_id = _header(headers, "X-Razorpay-Event-Id")[:64]
    kept_headers = {
        key: value
        for key, value in headers.items()
        if key.lower().startswith("x-razorpay") or key.lower() == "content-type"
    }
    valid = verify_webhook_signature(raw_body, signature)
    if not valid:
        verdict = "missing signature" if not signature else "signature mismatch"
        kept = raw_body[:REJECTED_BODY_MAX_BYTES]
        WebhookEvent.objects.create(
            event_id=None,
            headers=kept_headers,
            body=kept.decode("utf-8", errors="replace"),
            signature_valid=False,
            outcome=WebhookEvent.Outcome.REJECTED,
            error=f"{verdict}; body of {len(raw_body)} bytes, the first {len(kept)} kept",
        )
        raise SignatureInvalid("The webhook signature does not match.")
    body = raw_body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
            raise ValueError("not an event object")
    except ValueError as exc:
        WebhookEvent.objects.create(
            event_id=None,
            headers=kept_headers,
            body=body,
            signature_valid=True,
            outcome=WebhookEvent.Outcome.REJECTED,
            error=f"not a JSON event: {exc}"[:500],
        )
        raise PaymentsInvalid("The webhook body is not a JSON event.") from exc
    if not event_id:
        raise PaymentsInvalid(fields={"X-Razorpay-Event-Id": ["This header is required."]})
    event, created = WebhookEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "event": payload["event"][:60],
            "headers": kept_headers,
            "body": body,
            "signature_valid": True,
        },
    )
    if not created and event.outcome in DONE_OUTCOMES:
        return event  # a replay: at-least-once delivery
    return webhook_process(event)


DONE_OUTCOMES = (WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.IGNORED)


def webhook_process(event: WebhookEvent) -> WebhookEvent:
    """Apply one stored event, once: the event row is claimed (locked, ``SKIP LOCKED``) for
    the whole processing, so concurrent deliveries of one event id — Razorpay's retries,
    the admin's reprocess — apply it once. A delivery that finds the event claimed returns
    it still ``received`` (the caller answers "retry later"); one that finds it done
    returns it as it is. The outcome (and error) is recorded either way."""
    with transaction.atomic():
        claimed = (
            WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event.pk).first()
        )
        if claimed is None:  # another delivery is processing it right now
            event.refresh_from_db()
            if event.outcome not in DONE_OUTCOMES:
                event.outcome = WebhookEvent.Outcome.RECEIVED
            return event
        if claimed.outcome in DONE_OUTCOMES:
            return claimed
        WebhookEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
        try:
            with transaction.atomic():
                outcome, order = _apply_event(json.loads(claimed.body))
        except Exception as exc:  # recorded for the admin's "reprocess"; Razorpay retries too
            logger.exception("webhook processing failed", extra={"event_id": event.event_id})
            WebhookEvent.objects.filter(pk=event.pk).update(
                outcome=WebhookEvent.Outcome.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
            )
        else:
            WebhookEvent.objects.filter(pk=event.pk).update(
                outcome=outcome, error="", order=order, processed_at=timezone.now()
            )
    event.refresh_from_db()
    return event


def _entity(payload: dict[str, Any], name: str) -> dict[str, Any]:
    entity = (payload.get("payload") or {}).get(name) or {}
    entity = entity.get("entity") if isinstance(entity, dict) else None
    if isinstance(entity, dict) and isinstance(entity.get("notes"), list):
        entity = {**entity, "notes": {}}  # Razorpay sends [] for empty notes
    return entity if isinstance(entity, dict) else {}


def _find_order(payment: dict[str, Any], order_entity: dict[str, Any]) -> Order | None:
    gateway_order_id = payment.get("order_id") or order_entity.get("id")
    if not gateway_order_id:
        return None
    return Order.objects.select_for_update().filter(gateway_order_id=gateway_order_id).first()


def _apply_event(payload: dict[str, Any]) -> tuple[str, Order | None]:
    kind = payload["event"]
    payment = _entity(payload, "payment")
    if kind.startswith("refund."):
        refund = _entity(payload, "refund")
        return _apply_refund_event(kind, refund, payment)
    if kind not in ("payment.authorized", "payment.captured", "order.paid", "payment.failed"):
        return WebhookEvent.Outcome.IGNORED, None
    order = _find_order(payment, _entity(payload, "order"))
    if order is None or not payment.get("id"):
        return WebhookEvent.Outcome.IGNORED, order
    if kind == "payment.failed":
        _record_payment(order, {**payment, "status": "failed"})
        if order.status == Order.Status.CREATED:
            order.status = Order.Status.FAILED
            order.closed_at = timezone.now()
            order.failure_reason = (payment.get("error_description") or "payment failed")[:200]
            order.save()
        return WebhookEvent.Outcome.PROCESSED, order
    manual_capture = kind == "payment.authorized" and not settings.RAZORPAY_AUTO_CAPTURE
    if manual_capture and payment.get("status") == "authorized":
        payment = gateway_for(order.gateway).capture_payment(
            payment["id"], amount_paise=int(payment["amount"]), currency=payment["currency"]
        )
    recorded = _record_payment(order, payment)
    if recorded.status in (Payment.Status.AUTHORIZED, Payment.Status.CAPTURED):
        if kind == "payment.authorized" and settings.RAZORPAY_AUTO_CAPTURE:
            return WebhookEvent.Outcome.PROCESSED, order  # captured (or verify) fulfils
        _fulfil(order, payment=recorded)
    return WebhookEvent.Outcome.PROCESSED, order


# --- refunds -----------------------------------------------------------------------------------


def order_refundable_paise(order: Order) -> int:
    """What is left to refund: the total less processed and pending refunds."""
    held = sum(
        order.refunds.exclude(status=Refund.Status.FAILED).values_list("amount_paise", flat=True)
    )
    return order.total_paise - held


def refund_create(*, order: Order, amount_paise: int, reason: str, by: User) -> Refund:
    """Refund (part of) a paid order through the gateway. The amount is reserved first (a
    pending row), so two refunds at once cannot exceed what was paid; a gateway failure
    marks the row failed and releases it."""
    reason = (reason or "").strip()
    if not reason:
        raise RefundInvalid(fields={"reason": ["Say why (the learner may ask)."]})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order_is_refundable(order):
            raise RefundInvalid("Only paid orders can be refunded.")
        payment = (
            order.payments.filter(status__in=[Payment.Status.CAPTURED, Payment.Status.AUTHORIZED])
            .order_by("created_at")
            .first()
        )
        if payment is None:
            raise RefundInvalid("This order has no captured payment to refund.")
        left = order_refundable_paise(order)
        if not 0 < amount_paise <= left:
            raise RefundInvalid(
                fields={"amount_paise": [f"Between 1 and {left} paise (what is left to refund)."]}
            )
        refund = Refund.objects.create(
            order=order,
            payment=payment,
            amount_paise=amount_paise,
            reason=reason[:200],
            requested_by=by,
        )
    try:
        entity = gateway_for(order.gateway).refund_payment(
            payment.gateway_payment_id,
            amount_paise=amount_paise,
            notes={"order": str(order.pk), "refund": str(refund.pk)},
        )
    except GatewayError as exc:
        Refund.objects.filter(pk=refund.pk).update(
            status=Refund.Status.FAILED, raw={"error": str(exc)}
        )
        if isinstance(exc, GatewayRejected):
            raise RefundInvalid(f"The gateway refused the refund: {exc.description}") from exc
        raise GatewayUnavailable() from exc
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        twin = Refund.objects.filter(gateway_refund_id=entity["id"]).exclude(pk=refund.pk).first()
        if twin is not None:  # the webhook got here first and adopted another row: merge
            refund.delete()
            return twin
        if refund.gateway_refund_id is None:
            refund.gateway_refund_id = entity["id"]
            refund.raw = entity
            refund.save(update_fields=["gateway_refund_id", "raw", "updated_at"])
        if entity.get("status") == "processed":
            _settle_refund(refund, processed=True)
    return Refund.objects.get(pk=refund.pk)


def _settle_refund(refund: Refund, *, processed: bool) -> None:
    """Final state of a refund (the order is locked by the caller). A processed refund adds
    to the order's refunded amount; refunding it all revokes the enrollment."""
    if refund.status != Refund.Status.PENDING:
        return
    order = refund.order
    refund.status = Refund.Status.PROCESSED if processed else Refund.Status.FAILED
    refund.processed_at = timezone.now()
    refund.save(update_fields=["status", "processed_at", "updated_at"])
    if not processed:
        return
    order.refunded_paise += refund.amount_paise
    full = order.refunded_paise >= order.total_paise
    order.status = Order.Status.REFUNDED if full else Order.Status.PARTIALLY_REFUNDED
    order.save(update_fields=["refunded_paise", "status", "updated_at"])
    if full:
        Payment.objects.filter(pk=refund.payment_id).update(status=Payment.Status.REFUNDED)
        if order.enrollment_id:
            catalogue_services.enrollment_revoke(
                enrollment=order.enrollment,  # type: ignore[arg-type]  # enrollment_id is set
                reason=f"Refunded: {refund.reason}"[:200],
            )


def _apply_refund_event(
    kind: str, entity: dict[str, Any], payment: dict[str, Any]
) -> tuple[str, Order | None]:
    if kind not in ("refund.processed", "refund.failed") or not entity.get("id"):
        return WebhookEvent.Outcome.IGNORED, None
    payment_id = entity.get("payment_id") or payment.get("id")
    ours = Payment.objects.filter(gateway_payment_id=payment_id).first()
    if ours is None:
        return WebhookEvent.Outcome.IGNORED, None
    order = Order.objects.select_for_update().get(pk=ours.order_id)
    refund = Refund.objects.select_for_update().filter(gateway_refund_id=entity["id"]).first()
    if refund is None:
        # Our refund call has not stored the gateway id yet (the webhook was faster), or
        # the refund was made in Razorpay's dashboard: adopt a pending row, or record it.
        refund = (
            Refund.objects.select_for_update()
            .filter(
                payment=ours,
                gateway_refund_id__isnull=True,
                status=Refund.Status.PENDING,
                amount_paise=int(entity.get("amount") or 0),
            )
            .order_by("created_at")
            .first()
        )
        if refund is None:
            if int(entity.get("amount") or 0) > order_refundable_paise(order):
                _flag(order, f"Refund {entity['id']} is larger than what is left to refund.")
                return WebhookEvent.Outcome.PROCESSED, order
            refund = Refund.objects.create(
                order=order,
                payment=ours,
                amount_paise=int(entity["amount"]),
                reason="Refunded at the gateway",
            )
        refund.gateway_refund_id = entity["id"]
        refund.raw = entity
        refund.save(update_fields=["gateway_refund_id", "raw", "updated_at"])
    refund.order = order
    _settle_refund(refund, processed=kind == "refund.processed")
    return WebhookEvent.Outcome.PROCESSED, order


# --- reconciliation ----------------------------------------------------------------------------


def orders_reconcile(*, limit: int = 200) -> dict[str, int]:
    """Orders left ``created`` longer than ``ORDER_RECONCILE_AFTER_MINUTES`` are looked up at
    the gateway: a successful payment fulfils them (the learner closed the browser, the
    webhook never came); past ``ORDER_EXPIRE_AFTER_MINUTES`` with none, they expire. Orders
    marked ``failed`` are looked up the same way while their gateway order can still take
    a payment (until ``ORDER_EXPIRE_AFTER_MINUTES``, plus one reconciliation delay so the
    last minutes are seen): Checkout lets the learner retry on the same gateway order, and
    a retry that succeeds with neither verify nor webhook arriving must still be paid for;
    a failed order with no payment stays failed. Then payments of paid orders still only
    *authorized* that long (a capture that failed, on an account that does not
    auto-capture) are looked up and captured."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=settings.ORDER_RECONCILE_AFTER_MINUTES)
    retry_window = now - timedelta(
        minutes=settings.ORDER_EXPIRE_AFTER_MINUTES + settings.ORDER_RECONCILE_AFTER_MINUTES
    )
    counts = {"checked": 0, "paid": 0, "expired": 0, "captured": 0}
    stale = Order.objects.filter(
        Q(status=Order.Status.CREATED)
        | Q(status=Order.Status.FAILED, created_at__gte=retry_window),
        created_at__lt=cutoff,
    ).order_by("created_at")[:limit]
    for order in stale:
        counts["checked"] += 1
        gateway = gateway_for(order.gateway)
        payments: list[dict[str, Any]] = []
        if order.gateway_order_id:
            try:
                payments = gateway.fetch_order_payments(order.gateway_order_id)
            except GatewayError:
                logger.warning(
                    "reconcile: gateway lookup failed", extra={"order_id": str(order.pk)}
                )
                continue
        good = [
            _capture_if_manual(gateway, order, p)
            for p in payments
            if p.get("status") in ("captured", "authorized")
        ]
        with transaction.atomic():
            locked = Order.objects.select_for_update(skip_locked=True).filter(pk=order.pk).first()
            if locked is None or locked.status != order.status:
                continue  # settled meanwhile (verify, a webhook, another run)
            if good:
                for entity in good:
                    _record_payment(locked, entity)
                captured = [p for p in good if p.get("status") == "captured"] or good
                _fulfil(locked, payment=Payment.objects.get(gateway_payment_id=captured[0]["id"]))
                counts["paid"] += locked.status == Order.Status.PAID
            elif locked.status == Order.Status.CREATED and locked.created_at < now - timedelta(
                minutes=settings.ORDER_EXPIRE_AFTER_MINUTES
            ):
                for entity in payments:
                    _record_payment(locked, entity)
                locked.status = Order.Status.EXPIRED
                locked.closed_at = now
                locked.failure_reason = "No successful payment before the order expired."
                locked.save()
                counts["expired"] += 1
    counts["captured"] = _capture_stale_authorizations(cutoff=cutoff, limit=limit)
    return counts


def _capture_stale_authorizations(*, cutoff: datetime, limit: int) -> int:
    uncaptured = (
        Payment.objects.filter(status=Payment.Status.AUTHORIZED, created_at__lt=cutoff)
        .exclude(order__status__in=[Order.Status.CREATED, Order.Status.FAILED])
        .select_related("order")
        .order_by("created_at")[:limit]
    )
    captured = 0
    for payment in uncaptured:
        gateway = gateway_for(payment.order.gateway)
        try:
            entity = gateway.fetch_payment(payment.gateway_payment_id)
        except GatewayError:
            logger.warning(
                "reconcile: payment lookup failed", extra={"order_id": str(payment.order_id)}
            )
            continue
        entity = _capture_if_manual(gateway, payment.order, entity)
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=payment.order_id)
            captured += _record_payment(order, entity).status == Payment.Status.CAPTURED
    return captured
