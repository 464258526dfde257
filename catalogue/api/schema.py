"""OpenAPI documentation of the catalogue API: the learner-facing views
(``catalogue.api.views``, applied there as ``@schema.<name>``) and the staff API
(``catalogue.api.staff``, whose serializers live in that module: documented from here by
``document_staff``, which ``catalogue.api.urls`` calls). Error responses are
declared with the errors each operation raises (core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import UnsupportedMediaType, ValidationError
from rest_framework_simplejwt.exceptions import InvalidToken

from catalogue.api import serializers as s
from catalogue.api import staff
from catalogue.errors import (
    CatalogueInvalid,
    CategoryInUse,
    NotPublishable,
    PaymentRequired,
    PlanUnavailable,
    ProductInUse,
    ProductNotFound,
    ProductPublished,
    TrialUsed,
)
from catalogue.models import Product
from core.api.schema import ErrorCase, error_responses
from core.errors import Conflict

TAG = ["catalogue"]

_PRODUCT_EXAMPLE = {
    "slug": "backend-engineering-internship-program",
    "title": "Backend Engineering Internship Program",
    "kind": "program",
    "summary": "Twelve weeks from HTTP basics to a deployed Django service.",
    "image": None,
    "category": "backend",
    "language": "en",
    "level": "intermediate",
    "tags": ["django", "postgresql"],
    "is_featured": True,
    "is_free": False,
    "price_from_paise": 499900,
    "price_to_paise": 1199900,
    "plans": [
        {
            "id": 12,
            "name": "1 month",
            "price_paise": 499900,
            "list_price_paise": 699900,
            "currency": "INR",
            "validity_days": 30,
            "is_lifetime": False,
            "is_free": False,
        }
    ],
    "published_at": "2026-11-01T04:30:00Z",
}

_FILTER_PARAMS = [
    OpenApiParameter("category", str, description="Category slug; includes subcategories."),
    OpenApiParameter("kind", str, enum=Product.Kind.values),
    OpenApiParameter("free", bool, description="Only free (true) or only paid (false)."),
    OpenApiParameter("price_min", int, description="Lowest active plan price ≥ this (paise)."),
    OpenApiParameter("price_max", int, description="Lowest active plan price ≤ this (paise)."),
    OpenApiParameter("language", str),
    OpenApiParameter("level", str, enum=Product.Level.values),
    OpenApiParameter("tag", str),
    OpenApiParameter(
        "q",
        str,
        description=(
            "Search title, summary and description, ranked; web-search syntax (quotes, `or`, "
            "`-word`). Forgives typos: when the words match nothing, each may match as a "
            "prefix, with two neighbouring letters swapped (`djnago`) or as the catalogue "
            "words closest to it (`postgrsql`); exact hits never mix with near ones. Up "
            "to 200 characters; a NUL byte is a 400."
        ),
    ),
    OpenApiParameter(
        "ordering",
        str,
        enum=list(s.ProductFilterSerializer.ORDERINGS),
        description="Default: relevance when searching, else featured.",
    ),
]

category_tree = extend_schema(
    tags=TAG,
    summary="The category tree",
    description="Top-level categories with their `children`, recursively. Public.",
    responses={
        200: s.CategoryTreeSerializer(many=True),
        **error_responses(ValidationError({"parent": ["Unknown field."]})),
    },
)

product_list = extend_schema(
    tags=TAG,
    summary="Browse the catalogue",
    parameters=_FILTER_PARAMS,
    responses={
        200: s.ProductListSerializer(many=True),
        **error_responses(ValidationError({"price_min": ["A valid integer is required."]})),
    },
    examples=[OpenApiExample("Product", value=_PRODUCT_EXAMPLE, response_only=True)],
)

product_detail = extend_schema(
    tags=TAG,
    summary="A product: plans, the tests it grants, and whether I own it",
    description=(
        "Tests appear with title, duration and question count, never their questions. "
        "The token is optional: without one `ownership` is null; a token sent must be "
        "valid (401 otherwise)."
    ),
    responses={
        200: s.ProductDetailSerializer,
        **error_responses(
            # What the bearer authenticator raises for a token it cannot read.
            InvalidToken({"detail": "Given token not valid for any token type", "messages": []}),
            ProductNotFound,
            descriptions={401: "A token was sent and it is not valid (expired or revoked)."},
        ),
    },
)

enroll = extend_schema(
    tags=TAG,
    summary="Enroll with a free plan",
    description=(
        "Idempotent: enrolling again while enrolled returns the same enrollment (200). "
        "A paid plan answers 402 `payment_required`: buy it with `POST /api/v1/orders/`. "
        "A free plan with a validity is a trial, once per learner: a learner who has "
        "held any enrollment of the product before (lapsed or revoked) gets 409 "
        "`trial_used`. Free lifetime plans can always be taken."
    ),
    request=s.EnrollInputSerializer,
    responses={
        201: s.EnrollmentSerializer,
        200: s.EnrollmentSerializer,
        **error_responses(
            CatalogueInvalid(fields={"plan": ["This plan does not belong to the product."]}),
            401,
            PaymentRequired,
            ProductNotFound,
            PlanUnavailable,
            TrialUsed,
            descriptions={402: "A paid plan: use the orders API."},
        ),
    },
    examples=[OpenApiExample("Enroll", value={"plan": 31}, request_only=True)],
)

my_enrollments = extend_schema(
    tags=TAG,
    summary="My enrollments",
    description="With expiry and the tests each unlocks. `?live=true` for current ones.",
    parameters=[OpenApiParameter("live", OpenApiTypes.BOOL)],
    responses={200: s.EnrollmentSerializer(many=True), **error_responses(401)},
)


# --- the staff API (catalogue.api.staff) ---------------------------------------------------

STAFF_TAG = ["catalogue-staff"]


def _staff(*cases: ErrorCase) -> dict[int, OpenApiResponse]:
    """A staff operation's errors, with the 401 and 403 every one of them answers."""
    return error_responses(*cases, 401, 403)


_CATEGORY_INVALID = (
    CatalogueInvalid(fields={"slug": ["A category with this slug already exists."]}),
    CatalogueInvalid(fields={"parent": ["A category cannot sit under itself."]}),
)
_PRODUCT_INVALID = (
    CatalogueInvalid(fields={"slug": ["A product with this slug already exists."]}),
    CatalogueInvalid(
        fields={"plans.1": ["list_price_paise: the list price cannot be below the price."]}
    ),
    CatalogueInvalid(
        fields={"plans.0": ["validity_days: give the validity in days, or make it lifetime."]}
    ),
    ValidationError({"tests.2": ["test: Object with slug=sql-mock-9 does not exist."]}),
    CatalogueInvalid(fields={"tests": ["A test is listed twice."]}),
    ValidationError({"is_published": ["Unknown field."]}),
)
_CHANGED_MEANWHILE = Conflict("The product changed meanwhile; try again.")

_STAFF_PRODUCT_EXAMPLE = {
    "kind": "program",
    "title": "Backend Engineering Internship Program",
    "slug": "backend-engineering-internship-program",
    "category": 3,
    "summary": "Twelve weeks from HTTP basics to a deployed Django service.",
    "description_md": "## What you build\n\nA REST API on **PostgreSQL**, tested and deployed.",
    "language": "en",
    "level": "intermediate",
    "tags": ["django", "postgresql"],
    "is_featured": True,
    "sort_order": 10,
    "seo_title": "Backend Engineering Internship Program",
    "seo_description": "Learn backend engineering with Django and PostgreSQL in twelve weeks.",
    "plans": [
        {
            "name": "1 month",
            "price_paise": 499900,
            "list_price_paise": 699900,
            "validity_days": 30,
        },
        {"name": "Lifetime", "price_paise": 1199900, "is_lifetime": True},
    ],
    "tests": [
        {"test": "backend-mock-1"},
        {"test": "backend-mock-2", "unlock_at": "2026-12-01T04:30:00Z"},
    ],
}


staff_category_list = extend_schema(
    tags=STAFF_TAG,
    summary="List categories",
    responses={200: staff.StaffCategorySerializer, **_staff()},
)

staff_category_detail = extend_schema(
    tags=STAFF_TAG,
    summary="Get a category",
    responses={200: staff.StaffCategorySerializer, **_staff(404)},
)

staff_category_create = extend_schema(
    tags=STAFF_TAG,
    summary="Create a category",
    request=staff.StaffCategoryInputSerializer,
    responses={201: staff.StaffCategorySerializer, **_staff(*_CATEGORY_INVALID)},
    examples=[
        OpenApiExample(
            "Create",
            value={
                "name": "Backend engineering",
                "slug": "backend",
                "parent": None,
                "order": 1,
                "description": "Servers, databases and APIs.",
            },
            request_only=True,
        )
    ],
)

staff_category_update = extend_schema(
    tags=STAFF_TAG,
    summary="Change a category",
    request=staff.StaffCategoryInputSerializer,
    responses={
        200: staff.StaffCategorySerializer,
        **_staff(*_CATEGORY_INVALID, 404),
    },
    examples=[
        OpenApiExample("Move", value={"parent": 2, "order": 4}, request_only=True),
    ],
)

staff_category_delete = extend_schema(
    tags=STAFF_TAG,
    summary="Delete an empty category",
    description="Refused while products or subcategories sit in it: move them first.",
    responses={
        204: None,
        **_staff(
            404,
            CategoryInUse,
        ),
    },
)

staff_product_list = extend_schema(
    tags=STAFF_TAG,
    summary="List products (drafts included)",
    parameters=[staff.StaffProductFilterSerializer],
    responses={
        200: staff.StaffProductSerializer,
        **_staff(ValidationError({"kind": ['"ebook" is not a valid choice.']})),
    },
)

staff_product_detail = extend_schema(
    tags=STAFF_TAG,
    summary="Get a product with all its plans and tests",
    responses={200: staff.StaffProductSerializer, **_staff(404)},
)

staff_product_create = extend_schema(
    tags=STAFF_TAG,
    summary="Create a product",
    description=(
        "Created unpublished, with its plans and tests. Markdown is rendered to "
        "sanitised HTML; script-capable HTML is refused. Plans: a price in paise (0 makes "
        "the plan free), a list price of at least the price, and either `validity_days` "
        "or `is_lifetime`. A refused product writes nothing."
    ),
    request=staff.StaffProductInputSerializer,
    responses={
        201: staff.StaffProductSerializer,
        **_staff(*_PRODUCT_INVALID, _CHANGED_MEANWHILE),
    },
    examples=[OpenApiExample("Program", value=_STAFF_PRODUCT_EXAMPLE, request_only=True)],
)

staff_product_update = extend_schema(
    tags=STAFF_TAG,
    summary="Change a product",
    description=(
        "Fields not sent keep their values. `plans`, when sent, replaces the plans: "
        "send a plan with its `id` to keep it; a plan left out is deleted, or only "
        "deactivated when learners enrolled through it. `tests`, when sent, replaces "
        "the tests. A published product must keep an active plan (409 otherwise)."
    ),
    request=staff.StaffProductInputSerializer,
    responses={
        200: staff.StaffProductSerializer,
        **_staff(
            *_PRODUCT_INVALID,
            404,
            NotPublishable("A published product must keep at least one active plan."),
            _CHANGED_MEANWHILE,
        ),
    },
    examples=[
        OpenApiExample(
            "Raise a price, keep the plans",
            value={
                "plans": [
                    {
                        "id": 12,
                        "name": "1 month",
                        "price_paise": 549900,
                        "list_price_paise": 699900,
                        "validity_days": 30,
                    },
                    {"id": 13, "name": "Lifetime", "price_paise": 1199900, "is_lifetime": True},
                ]
            },
            request_only=True,
        )
    ],
)

staff_product_delete = extend_schema(
    tags=STAFF_TAG,
    summary="Delete a draft product",
    description=(
        "Only an unpublished product that nobody ever enrolled in can be deleted; "
        "unpublish the others instead (learners keep their access)."
    ),
    responses={
        204: None,
        **_staff(
            404,
            ProductPublished,
            ProductInUse,
        ),
    },
)

staff_product_publish = extend_schema(
    tags=STAFF_TAG,
    summary="Publish a product",
    description="Refused without an active plan. Publishing again changes nothing.",
    request=None,
    responses={
        200: staff.StaffProductSerializer,
        **_staff(404, NotPublishable),
    },
)

staff_product_unpublish = extend_schema(
    tags=STAFF_TAG,
    summary="Unpublish a product",
    description="Hides it from the catalogue; enrolled learners keep their access.",
    request=None,
    responses={200: staff.StaffProductSerializer, **_staff(404)},
)

# Applied in this order: the DELETE operation, then the POST one.
staff_product_image = [
    extend_schema(
        tags=STAFF_TAG,
        summary="Remove the cover image",
        methods=["DELETE"],
        request=None,
        responses={200: staff.StaffProductSerializer, **_staff(404)},
    ),
    extend_schema(
        tags=STAFF_TAG,
        summary="Upload the cover image",
        description=(
            "Multipart form with one `image` file: JPEG, PNG or WebP, checked from its "
            "content (not its name), within the size and pixel limits. Replaces the "
            "current image."
        ),
        methods=["POST"],
        request={"multipart/form-data": staff.StaffImageInputSerializer},
        responses={
            200: staff.StaffProductSerializer,
            **_staff(
                ValidationError(
                    {
                        "image": [
                            "This file is not an image that can be read (or it is damaged); "
                            "upload a JPEG, PNG or WebP image."
                        ]
                    }
                ),
                ValidationError({"image": ["The image is 3.4 MB; the largest allowed is 2 MB."]}),
                404,
                UnsupportedMediaType("application/json"),
            ),
        },
    ),
]


def document_staff() -> None:
    """Attach the documentation above to the staff viewsets, whose serializers live in
    their own module (so it cannot import this one). Called by ``catalogue.api.urls``."""
    extend_schema_view(
        list=staff_category_list,
        retrieve=staff_category_detail,
        create=staff_category_create,
        partial_update=staff_category_update,
        destroy=staff_category_delete,
    )(staff.StaffCategoryViewSet)
    extend_schema_view(
        list=staff_product_list,
        retrieve=staff_product_detail,
        create=staff_product_create,
        partial_update=staff_product_update,
        destroy=staff_product_delete,
        publish=staff_product_publish,
        unpublish=staff_product_unpublish,
        image=staff_product_image,
    )(staff.StaffProductViewSet)
