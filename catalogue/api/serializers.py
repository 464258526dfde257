"""Learner-facing shapes of the catalogue. Never questions or answers: tests appear only
as title, duration and question count."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from core.api.serializers import StrictInputSerializer
from core.images import media_url


class PlanSerializer(serializers.ModelSerializer):
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
            "is_free",
        ]
        read_only_fields = fields


class ProductTestSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(source="test.slug")
    title = serializers.CharField(source="test.title")
    duration_seconds = serializers.IntegerField(source="test.duration_seconds")
    question_count = serializers.SerializerMethodField()
    unlocked = serializers.SerializerMethodField()

    class Meta:
        model = ProductTest
        fields = ["slug", "title", "duration_seconds", "question_count", "unlock_at", "unlocked"]
        read_only_fields = fields

    def get_question_count(self, row: ProductTest) -> int:
        return self.context.get("question_counts", {}).get(row.test_id, 0)

    def get_unlocked(self, row: ProductTest) -> bool:
        return row.unlock_at is None or row.unlock_at <= timezone.now()


class ProductListSerializer(serializers.ModelSerializer):
    category: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    plans = PlanSerializer(many=True, read_only=True)
    image = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "slug",
            "title",
            "kind",
            "summary",
            "image",
            "category",
            "language",
            "level",
            "tags",
            "is_featured",
            "is_free",
            "price_from_paise",
            "price_to_paise",
            "plans",
            "published_at",
        ]
        read_only_fields = fields
        ref_name = "ProductSummary"  # its page: PaginatedProductSummaryList

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, product: Product) -> str | None:
        return media_url(product.image, self.context["request"])


class OwnershipSerializer(serializers.Serializer):
    owned = serializers.BooleanField()
    enrollment_id = serializers.UUIDField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Null: lifetime access.")


class ProductDetailSerializer(ProductListSerializer):
    tests = ProductTestSerializer(many=True, read_only=True, source="product_tests")
    ownership = serializers.SerializerMethodField(
        help_text="For a logged-in learner: whether they own it and until when."
    )

    class Meta(ProductListSerializer.Meta):
        fields = [
            *ProductListSerializer.Meta.fields,
            "description_html",
            "seo_title",
            "seo_description",
            "tests",
            "ownership",
        ]
        read_only_fields = fields
        ref_name = "ProductDetail"

    @extend_schema_field(OwnershipSerializer(allow_null=True))
    def get_ownership(self, product: Product) -> dict | None:
        if "ownership" not in self.context:
            return None
        enrollment = self.context["ownership"]
        return {
            "owned": enrollment is not None,
            "enrollment_id": enrollment.id if enrollment else None,
            "expires_at": enrollment.expires_at if enrollment else None,
        }


class CategoryTreeSerializer(serializers.ModelSerializer):
    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "children"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_children(self, category: Category) -> list[dict]:
        children = self.context["children"].get(category.id, [])
        return CategoryTreeSerializer(children, many=True, context=self.context).data  # type: ignore[return-value]  # a list


class ProductFilterSerializer(StrictInputSerializer):
    """Query parameters of the product list; garbage values are a 400, not a 500."""

    ORDERINGS = ("featured", "newest", "price", "-price", "popularity", "relevance")

    category = serializers.SlugField(required=False)
    kind = serializers.ChoiceField(choices=Product.Kind.choices, required=False)
    free = serializers.BooleanField(required=False, allow_null=True, default=None)
    price_min = serializers.IntegerField(
        required=False, min_value=0, max_value=2_147_483_647, help_text="Paise."
    )
    price_max = serializers.IntegerField(
        required=False, min_value=0, max_value=2_147_483_647, help_text="Paise."
    )
    language = serializers.CharField(required=False, max_length=8)
    level = serializers.ChoiceField(choices=Product.Level.choices, required=False)
    tag = serializers.CharField(required=False, max_length=50)
    q = serializers.CharField(required=False, max_length=200, trim_whitespace=True)
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False)
    page = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs: dict) -> dict:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_max": ["Must be at least price_min."]})
        return attrs


class EnrollInputSerializer(StrictInputSerializer):
    plan = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, help_text="A free plan of this product."
    )


class EnrollmentProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["slug", "title", "kind"]
        read_only_fields = fields


class EnrollmentPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "name", "validity_days", "is_lifetime"]
        read_only_fields = fields


class EnrollmentTestSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(source="test.slug")
    title = serializers.CharField(source="test.title")
    unlocked = serializers.SerializerMethodField()

    class Meta:
        model = ProductTest
        fields = ["slug", "title", "unlock_at", "unlocked"]
        read_only_fields = fields

    def get_unlocked(self, row: ProductTest) -> bool:
        return row.unlock_at is None or row.unlock_at <= timezone.now()


class EnrollmentSerializer(serializers.ModelSerializer):
    product = EnrollmentProductSerializer(read_only=True)
    plan = EnrollmentPlanSerializer(read_only=True, allow_null=True)
    is_live = serializers.SerializerMethodField()
    tests = EnrollmentTestSerializer(many=True, read_only=True, source="product.product_tests")

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "product",
            "plan",
            "source",
            "starts_at",
            "expires_at",
            "revoked_at",
            "is_live",
            "tests",
        ]
        read_only_fields = fields

    def get_is_live(self, enrollment: Enrollment) -> bool:
        return enrollment.is_live()
