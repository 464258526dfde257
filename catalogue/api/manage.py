"""Staff API of the catalogue: categories, and products with their plans, tests, cover
image and publication. Every write goes through ``catalogue.services``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue import selectors, services
from catalogue.models import Category, Plan, Product, ProductTest
from core.api.schema import error_response, errors
from core.api.serializers import StrictInputSerializer
from core.errors import Conflict
from core.images import media_url, validate_image
from testengine.api.permissions import StaffModelPermissions
from testengine.models import Test

TAG = ["catalogue-staff"]
_MAX_INT = 2_147_483_647  # PostgreSQL integer

# --- serializers: output ------------------------------------------------------------------


class StaffCategorySerializer(serializers.ModelSerializer):
    product_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "parent",
            "order",
            "description",
            "product_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StaffPlanSerializer(serializers.ModelSerializer):
    is_free = serializers.BooleanField(read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "price_paise",
            "list_price_paise",
            "currency",
            "validity_days",
            "is_lifetime",
            "is_active",
            "is_free",
            "order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StaffProductTestSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(source="test.slug", read_only=True)
    title = serializers.CharField(source="test.title", read_only=True)

    class Meta:
        model = ProductTest
        fields = ["slug", "title", "order", "unlock_at"]
        read_only_fields = fields


class StaffProductSerializer(serializers.ModelSerializer):
    """A product as staff see it: drafts included, every plan (inactive ones too)."""

    image = serializers.SerializerMethodField()
    plans = StaffPlanSerializer(many=True, read_only=True)
    tests = StaffProductTestSerializer(many=True, read_only=True, source="product_tests")
    is_visible = serializers.BooleanField(
        read_only=True, help_text="Published with at least one active plan: learners see it."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "kind",
            "title",
            "slug",
            "category",
            "summary",
            "description_md",
            "description_html",
            "image",
            "language",
            "level",
            "tags",
            "is_featured",
            "sort_order",
            "seo_title",
            "seo_description",
            "is_published",
            "published_at",
            "is_visible",
            "price_from_paise",
            "price_to_paise",
            "is_free",
            "live_enrollments",
            "plans",
            "tests",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, product: Product) -> str | None:
        return media_url(product.image, self.context["request"])


# --- serializers: input --------------------------------------------------------------------


class StaffCategoryInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(
        max_length=140, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # the category's
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    order = serializers.IntegerField(min_value=0, max_value=_MAX_INT, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class StaffPlanInputSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        required=False, help_text="An existing plan of this product, to keep it (and its id)."
    )
    name = serializers.CharField(max_length=80)
    # Rules across fields (price ≥ 0, list price ≥ price, validity xor lifetime) are the
    # service's; here only what the column can hold.
    price_paise = serializers.IntegerField(max_value=_MAX_INT, help_text="0 makes it free.")
    list_price_paise = serializers.IntegerField(
        max_value=_MAX_INT,
        required=False,
        allow_null=True,
        default=None,
        help_text="The struck-through price; at least the price.",
    )
    validity_days = serializers.IntegerField(
        min_value=1, max_value=36_500, required=False, allow_null=True, default=None
    )
    is_lifetime = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)


class StaffProductTestInputSerializer(StrictInputSerializer):
    test = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Test.objects.filter(practice_owner__isnull=True),
        help_text="The test's slug.",
    )
    unlock_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Locked for learners until then; empty: open at once.",
    )


def _indexed(detail: Any) -> Any:
    """``{"plans": {1: {"name": [...]}}}`` → ``{"plans.1": ["name: ..."]}``: the shape the
    services use for errors in a list, so a client finds every item's errors one way."""
    if not isinstance(detail, dict):
        return detail
    shaped: dict[str, Any] = {}
    for key, value in detail.items():
        items = value.items() if isinstance(value, dict) else ()
        if items and all(isinstance(index, int) for index in value):
            for index, item in items:
                shaped[f"{key}.{index}"] = (
                    [
                        f"{name}: {message}"
                        for name, messages in item.items()
                        for message in messages
                    ]
                    if isinstance(item, dict)
                    else item
                )
        else:
            shaped[key] = value
    return shaped


class StaffProductInputSerializer(StrictInputSerializer):
    """A product with its plans and tests. When changing one, fields not sent keep their
    values."""

    kind = serializers.ChoiceField(choices=Product.Kind.choices)
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=200, required=False, allow_blank=True, help_text="Made from the title if empty."
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    description_md = serializers.CharField(max_length=50_000, required=False, allow_blank=True)
    language = serializers.CharField(max_length=8, required=False)
    level = serializers.ChoiceField(choices=Product.Level.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=30, required=False
    )
    is_featured = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(
        min_value=-_MAX_INT, max_value=_MAX_INT, required=False, help_text="Lower shows first."
    )
    seo_title = serializers.CharField(max_length=70, required=False, allow_blank=True)
    seo_description = serializers.CharField(max_length=160, required=False, allow_blank=True)
    plans = StaffPlanInputSerializer(
        many=True,
        required=False,
        max_length=20,
        help_text=(
            "Replaces the plans, in display order. Send each plan whole; with its `id` to "
            "keep it. A plan left out is deleted, or deactivated if anyone enrolled through it."
        ),
    )
    tests = StaffProductTestInputSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="Replaces the tests, in order.",
    )

    # PATCH uses ``patch=True`` (StrictInputSerializer): the nested plans and tests are
    # still checked whole.

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_indexed(exc.detail)) from None


class StaffProductFilterSerializer(StrictInputSerializer):
    """Query parameters of the staff product list."""

    kind = serializers.ChoiceField(choices=Product.Kind.choices, required=False)
    is_published = serializers.BooleanField(required=False, allow_null=True, default=None)
    category = serializers.SlugField(
        required=False, help_text="Category slug (includes its subcategories)."
    )
    q = serializers.CharField(
        required=False, max_length=200, help_text="Part of the title or slug (any case)."
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class StaffImageInputSerializer(StrictInputSerializer):
    image = serializers.FileField(help_text="JPEG, PNG or WebP, within the size limit.")

    def validate_image(self, file: Any) -> Any:
        try:
            validate_image(file)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return file


# --- schema helpers ---------------------------------------------------------------------------

_STAFF_ERRORS = {401: errors(401)[401], 403: errors(403)[403]}
_NOT_FOUND = error_response(404)
_CATEGORY_INVALID = error_response(
    400,
    (
        "invalid",
        "Some fields are not valid.",
        {"slug": ["A category with this slug already exists."]},
    ),
    ("invalid", "Some fields are not valid.", {"parent": ["A category cannot sit under itself."]}),
)
_PRODUCT_INVALID = error_response(
    400,
    (
        "invalid",
        "Some fields are not valid.",
        {"slug": ["A product with this slug already exists."]},
    ),
    (
        "invalid",
        "Some fields are not valid.",
        {"plans.1": ["list_price_paise: the list price cannot be below the price."]},
    ),
    (
        "invalid",
        "Some fields are not valid.",
        {"plans.0": ["validity_days: give the validity in days, or make it lifetime."]},
    ),
    (
        "invalid",
        "Some fields are not valid.",
        {"tests.2": ["test: Object with slug=sql-mock-9 does not exist."]},
    ),
    ("invalid", "Some fields are not valid.", {"tests": ["A test is listed twice."]}),
    ("invalid", "Some fields are not valid.", {"is_published": ["Unknown field."]}),
)
_CHANGED_MEANWHILE = ("conflict", "The product changed meanwhile; try again.")
_NOT_PUBLISHABLE = (
    "not_publishable",
    "A product needs at least one active plan to be published.",
)

_PRODUCT_EXAMPLE = {
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


def _validated(serializer: serializers.Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- categories ----------------------------------------------------------------------------


class StaffCategoryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Categories (a tree: ``parent`` links the nodes), with how many products each holds."""

    permission_classes = [StaffModelPermissions]
    serializer_class = StaffCategorySerializer
    queryset = Category.objects.none()

    def get_queryset(self) -> QuerySet[Category]:
        return Category.objects.annotate(product_count=Count("products")).order_by(
            "order", "name", "id"
        )

    @extend_schema(
        tags=TAG,
        summary="List categories",
        responses={200: StaffCategorySerializer, **_STAFF_ERRORS},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Get a category",
        responses={200: StaffCategorySerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Create a category",
        request=StaffCategoryInputSerializer,
        responses={201: StaffCategorySerializer, 400: _CATEGORY_INVALID, **_STAFF_ERRORS},
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
    def create(self, request: Request) -> Response:
        values = _validated(StaffCategoryInputSerializer(data=request.data))
        category = services.category_save(**values)
        return Response(self._out(category), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Change a category",
        request=StaffCategoryInputSerializer,
        responses={
            200: StaffCategorySerializer,
            400: _CATEGORY_INVALID,
            404: _NOT_FOUND,
            **_STAFF_ERRORS,
        },
        examples=[
            OpenApiExample("Move", value={"parent": 2, "order": 4}, request_only=True),
        ],
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        values = _validated(StaffCategoryInputSerializer(data=request.data, partial=True))
        return Response(self._out(services.category_save(category=category, **values)))

    @extend_schema(
        tags=TAG,
        summary="Delete an empty category",
        description="Refused while products or subcategories sit in it: move them first.",
        responses={
            204: None,
            404: _NOT_FOUND,
            409: error_response(
                409,
                (
                    "category_in_use",
                    "This category still holds products or subcategories; move them first.",
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    def destroy(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        with transaction.atomic():
            locked = Category.objects.select_for_update().get(pk=category.pk)
            if locked.products.exists() or locked.children.exists():
                raise Conflict(
                    "This category still holds products or subcategories; move them first.",
                    code="category_in_use",
                )
            locked.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, category: Category) -> dict:
        return StaffCategorySerializer(self.get_queryset().get(pk=category.pk)).data


# --- products ------------------------------------------------------------------------------


def _split(values: dict[str, Any]) -> tuple[dict[str, Any], list | None, list | None]:
    plans = values.pop("plans", None)
    tests = values.pop("tests", None)
    return (
        values,
        None if plans is None else [dict(plan) for plan in plans],
        None if tests is None else [dict(row) for row in tests],
    )


class StaffProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Products, drafts included, with all their plans and tests."""

    permission_classes = [StaffModelPermissions]
    change_actions = ("publish", "unpublish", "image")
    serializer_class = StaffProductSerializer
    lookup_field = "slug"
    queryset = Product.objects.none()

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.prefetch_related(
            Prefetch("plans", queryset=Plan.objects.order_by("order", "price_paise", "id")),
            selectors.tests_prefetch(),
        ).order_by("sort_order", "-created_at", "-id")

    def filter_queryset(self, queryset: QuerySet[Product]) -> QuerySet[Product]:  # type: ignore[override]
        if self.action != "list":
            return queryset
        params = _validated(StaffProductFilterSerializer(data=self.request.query_params.dict()))
        if params.get("kind"):
            queryset = queryset.filter(kind=params["kind"])
        if params.get("is_published") is not None:
            queryset = queryset.filter(is_published=params["is_published"])
        if params.get("category"):
            category = Category.objects.filter(slug=params["category"]).first()
            if category is None:
                return queryset.none()
            queryset = queryset.filter(category_id__in=selectors.category_descendant_ids(category))
        if params.get("q"):
            text = params["q"]
            queryset = queryset.filter(Q(title__icontains=text) | Q(slug__icontains=text))
        return queryset

    @extend_schema(
        tags=TAG,
        summary="List products (drafts included)",
        parameters=[StaffProductFilterSerializer],
        responses={
            200: StaffProductSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"kind": ['"ebook" is not a valid choice.']},
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Get a product with all its plans and tests",
        responses={200: StaffProductSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Create a product",
        description=(
            "Created unpublished, with its plans and tests. Markdown is rendered to "
            "sanitised HTML; script-capable HTML is refused. Plans: a price in paise (0 makes "
            "the plan free), a list price of at least the price, and either `validity_days` "
            "or `is_lifetime`. A refused product writes nothing."
        ),
        request=StaffProductInputSerializer,
        responses={
            201: StaffProductSerializer,
            400: _PRODUCT_INVALID,
            409: error_response(409, _CHANGED_MEANWHILE),
            **_STAFF_ERRORS,
        },
        examples=[OpenApiExample("Program", value=_PRODUCT_EXAMPLE, request_only=True)],
    )
    def create(self, request: Request) -> Response:
        values, plans, tests = _split(_validated(StaffProductInputSerializer(data=request.data)))
        product = services.product_create(values=values, plans=plans, tests=tests)
        return Response(self._out(product), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Change a product",
        description=(
            "Fields not sent keep their values. `plans`, when sent, replaces the plans: "
            "send a plan with its `id` to keep it; a plan left out is deleted, or only "
            "deactivated when learners enrolled through it. `tests`, when sent, replaces "
            "the tests. A published product must keep an active plan (409 otherwise)."
        ),
        request=StaffProductInputSerializer,
        responses={
            200: StaffProductSerializer,
            400: _PRODUCT_INVALID,
            404: _NOT_FOUND,
            409: error_response(
                409,
                (
                    "not_publishable",
                    "A published product must keep at least one active plan.",
                ),
                _CHANGED_MEANWHILE,
            ),
            **_STAFF_ERRORS,
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
    def partial_update(self, request: Request, slug: str) -> Response:
        product = self.get_object()
        serializer = StaffProductInputSerializer(data=request.data, patch=True)
        values, plans, tests = _split(_validated(serializer))
        product = services.product_update(product=product, values=values, plans=plans, tests=tests)
        return Response(self._out(product))

    @extend_schema(
        tags=TAG,
        summary="Delete a draft product",
        description=(
            "Only an unpublished product that nobody ever enrolled in can be deleted; "
            "unpublish the others instead (learners keep their access)."
        ),
        responses={
            204: None,
            404: _NOT_FOUND,
            409: error_response(
                409,
                ("product_published", "Unpublish the product before deleting it."),
                (
                    "product_in_use",
                    "Learners enrolled in this product; unpublish it instead of deleting it.",
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    def destroy(self, request: Request, slug: str) -> Response:
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=TAG,
        summary="Publish a product",
        description="Refused without an active plan. Publishing again changes nothing.",
        request=None,
        responses={
            200: StaffProductSerializer,
            404: _NOT_FOUND,
            409: error_response(409, _NOT_PUBLISHABLE),
            **_STAFF_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.product_publish(product=self.get_object())))

    @extend_schema(
        tags=TAG,
        summary="Unpublish a product",
        description="Hides it from the catalogue; enrolled learners keep their access.",
        request=None,
        responses={200: StaffProductSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.product_unpublish(product=self.get_object())))

    @extend_schema(
        tags=TAG,
        summary="Upload the cover image",
        description=(
            "Multipart form with one `image` file: JPEG, PNG or WebP, checked from its "
            "content (not its name), within the size and pixel limits. Replaces the "
            "current image."
        ),
        methods=["POST"],
        request={"multipart/form-data": StaffImageInputSerializer},
        responses={
            200: StaffProductSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {
                        "image": [
                            "This file is not an image that can be read (or it is damaged); "
                            "upload a JPEG, PNG or WebP image."
                        ]
                    },
                ),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"image": ["The image is 3.4 MB; the largest allowed is 2 MB."]},
                ),
            ),
            404: _NOT_FOUND,
            415: error_response(
                415, ("unsupported_media_type", 'Unsupported media type "application/json".')
            ),
            **_STAFF_ERRORS,
        },
    )
    @extend_schema(
        tags=TAG,
        summary="Remove the cover image",
        methods=["DELETE"],
        request=None,
        responses={200: StaffProductSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    @action(detail=True, methods=["post", "delete"], parser_classes=[MultiPartParser])
    def image(self, request: Request, slug: str) -> Response:
        product = self.get_object()
        upload = None
        if request.method == "POST":
            upload = _validated(StaffImageInputSerializer(data=request.data))["image"]
        locked = services.product_set_image(product=product, image=upload)
        return Response(self._out(locked))

    def _out(self, product: Product) -> dict:
        return StaffProductSerializer(
            self.get_queryset().get(pk=product.pk), context=self.get_serializer_context()
        ).data
