"""Errors of payments, each with its stable code and HTTP status."""

from http import HTTPStatus

from core.errors import ApplicationError, Conflict, NotFound


class OrderNotFound(NotFound):
    detail = "No such order."


class InvoiceNotFound(NotFound):
    detail = "This order has no invoice: only paid orders above ₹0 get one."


class PlanUnavailable(Conflict):
    code = "plan_unavailable"
    detail = "This plan is not on sale."


class AlreadyOwned(Conflict):
    code = "already_owned"
    detail = "You already have access for longer than this plan would add."


class CouponInvalid(ApplicationError):
    status = HTTPStatus.BAD_REQUEST
    code = "coupon_invalid"
    detail = "This coupon cannot be used here."


class CouponExhausted(Conflict):
    code = "coupon_exhausted"
    detail = "This coupon has been used up."


class GatewayUnavailable(ApplicationError):
    status = HTTPStatus.BAD_GATEWAY
    code = "gateway_unavailable"
    detail = "The payment gateway did not answer. Nothing was charged; try again."


class SignatureInvalid(ApplicationError):
    status = HTTPStatus.BAD_REQUEST
    code = "signature_invalid"
    detail = "The payment signature does not match this order."


class PaymentNotVerified(ApplicationError):
    status = HTTPStatus.BAD_REQUEST
    code = "payment_not_verified"
    detail = "The gateway does not know this payment for this order; nothing was changed."


class PaymentsInvalid(ApplicationError):
    code = "invalid"
    detail = "Some fields are not valid."


class RefundInvalid(ApplicationError):
    code = "refund_invalid"
    detail = "This refund is not possible."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    detail = "This Idempotency-Key was used for a different request."


class WebhookFailed(ApplicationError):
    """Answered, not raised, by the webhook view: the event stays stored for the retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "webhook_failed"
    detail = "The event was stored; retry later."


class WebhookInProgress(WebhookFailed):
    code = "webhook_in_progress"
    detail = "Another delivery of this event is being processed; retry later."


class PlanIsFree(PlanUnavailable):
    """A free plan is not ordered: the learner enrolls in it."""

    code = "plan_is_free"
    detail = "This plan is free: enroll with POST catalogue/products/{slug}/enroll/."
