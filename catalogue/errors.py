"""Errors of the catalogue, each with its stable code and HTTP status."""

from http import HTTPStatus

from core.errors import ApplicationError, Conflict, NotFound


class CatalogueInvalid(ApplicationError):
    code = "invalid"
    detail = "Some fields are not valid."


class ProductNotFound(NotFound):
    detail = "No such product."


class PaymentRequired(ApplicationError):
    status = HTTPStatus.PAYMENT_REQUIRED
    code = "payment_required"
    detail = "This plan is paid: create an order with POST /api/v1/orders/ to buy it."


class PlanUnavailable(Conflict):
    code = "plan_unavailable"
    detail = "This plan is not on sale."


class TrialUsed(Conflict):
    code = "trial_used"
    detail = (
        "You have already had access to this product; its free trial is once per learner. "
        "Choose a paid plan."
    )


class NotPublishable(Conflict):
    code = "not_publishable"
    detail = "A product needs at least one active plan to be published."


class CategoryInUse(Conflict):
    code = "category_in_use"
    detail = "This category still holds products or subcategories; move them first."


class ProductPublished(Conflict):
    code = "product_published"
    detail = "Unpublish the product before deleting it."


class ProductInUse(Conflict):
    code = "product_in_use"
    detail = "Learners enrolled in this product; unpublish it instead of deleting it."
