"""Staff API of the catalogue: categories, and products with their plans, tests, cover
image and publication. Every write goes through ``catalogue.services``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue import selectors, services
from catalogue.models import Category, Plan, Product, ProductTest
from core.api.permissions import StaffModelPermissions
from core.api.serializers import StrictInputSerializer
from core.images import media_url, validate_image
from testengine.models import Test

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
        queryset=Test.objects.curated(),
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

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def create(self, request: Request) -> Response:
        values = _validated(StaffCategoryInputSerializer(data=request.data))
        category = services.category_save(**values)
        return Response(self._out(category), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        values = _validated(StaffCategoryInputSerializer(data=request.data, partial=True))
        return Response(self._out(services.category_save(category=category, **values)))

    def destroy(self, request: Request, pk: str) -> Response:
        services.category_delete(category=self.get_object())
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

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def create(self, request: Request) -> Response:
        values, plans, tests = _split(_validated(StaffProductInputSerializer(data=request.data)))
        product = services.product_create(values=values, plans=plans, tests=tests)
        return Response(self._out(product), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, slug: str) -> Response:
        product = self.get_object()
        serializer = StaffProductInputSerializer(data=request.data, patch=True)
        values, plans, tests = _split(_validated(serializer))
        product = services.product_update(product=product, values=values, plans=plans, tests=tests)
        return Response(self._out(product))

    def destroy(self, request: Request, slug: str) -> Response:
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.product_publish(product=self.get_object())))

    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.product_unpublish(product=self.get_object())))

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
