"""Back office for the catalogue: daily curation of categories and products, and staff
grants and revocations of enrollments.

Forms foresee what they can (field types, the plan rules of ``catalogue.services``, slugs,
markup); every write then goes through the services, so descriptions are rendered and the
derived price range and enrollment count stay current. Publishing is an action, never a
form field: a product is published only with an active plan.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from catalogue import services
from catalogue.errors import NotPublishable
from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.selectors import category_descendant_ids
from catalogue.services import plans_validate
from core.admin import ServiceErrorsMixin
from core.images import ImageValidator
from core.markdown import math_errors, unsafe_markup
from core.money import rupees
from core.spreadsheets import formula_neutralised

if TYPE_CHECKING:
    # What the admin hands save_related: the inline formsets of the page.
    _Formsets = list[BaseInlineFormSet[Any, Any, Any]]

EMPTY = "—"
TIMESTAMPS = ("created_at", "updated_at")
REVOKED_BY_STAFF = "revoked by staff"


# --- shared helpers -----------------------------------------------------------------------------


def price_range(low: int | None, high: int | None) -> str:
    if low is None or high is None:
        return EMPTY
    first = "Free" if low == 0 else rupees(low)
    return first if low == high else f"{first}–{rupees(high)}"


def _adopt(obj: Any, saved: Any) -> None:
    """Point the admin's instance at the row a service wrote, so the admin's log entry,
    redirect and messages use that row."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj.refresh_from_db()


def _forget_formset_saves(formsets: _Formsets) -> None:
    # The admin's change message reads what formsets saved; the service saved it.
    for formset in formsets:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


# --- categories ---------------------------------------------------------------------------------


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "order", "description")

    def clean_parent(self) -> Category | None:
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk and parent.pk in category_descendant_ids(self.instance):
            raise forms.ValidationError("A category cannot sit under itself.")
        return parent


@admin.register(Category)
class CategoryAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("name", "slug", "parent", "order", "product_count")
    list_select_related = ("parent",)
    list_filter = (("parent", admin.EmptyFieldListFilter),)
    search_fields = ("name", "slug")
    ordering = ("order", "name")  # Meta.ordering does not survive the count's GROUP BY
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("parent",)
    readonly_fields = TIMESTAMPS
    fields = ("name", "slug", "parent", "order", "description", *TIMESTAMPS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_products=Count("products"))

    @admin.display(description="Products", ordering="_products")
    def product_count(self, obj: Category) -> int:
        return obj._products  # type: ignore[attr-defined]  # annotated by get_queryset

    def save_model(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm[Category], change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in CategoryAdminForm.Meta.fields}
        saved = services.category_save(category=obj if change else None, **values)
        _adopt(obj, saved)


# --- products -----------------------------------------------------------------------------------


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = (*services.PRODUCT_FIELDS, "image")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["image"].validators.append(ImageValidator())
        self.fields["image"].help_text = "JPEG, PNG or WebP, at most 4000×4000 pixels."

    def clean_description_md(self) -> str:
        text = self.cleaned_data.get("description_md") or ""
        found = unsafe_markup(text)
        if found:
            raise forms.ValidationError(f"Remove the HTML that could run code ({found!r}).")
        if math := math_errors(text):
            raise forms.ValidationError(math)
        return text


class PlanInlineForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = services.PLAN_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        # The service's own rules, shown on the row and field they concern. Run here,
        # before the model's check constraints, so that those (the same rules, in generic
        # words) skip the fields already reported.
        for problem in plans_validate([cleaned]).get("plans.0", []):
            field, _, message = problem.partition(": ")
            if field not in self.errors:
                self.add_error(field, message[:1].upper() + message[1:])
        return cleaned


def _kept_forms(formset: BaseInlineFormSet) -> list[forms.ModelForm]:
    """The rows that stay: existing ones not marked for deletion, and filled-in new ones."""
    return [
        form
        for form in formset.forms
        if (form.has_changed() or not form.instance._state.adding)
        and not formset._should_delete_form(form)  # type: ignore[attr-defined]
    ]


class PlanInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.instance.is_published:
            return
        if not any(form.cleaned_data.get("is_active") for form in _kept_forms(self)):
            raise forms.ValidationError(
                "A published product must keep at least one active plan; "
                "unpublish it first to withdraw every plan."
            )

    def plan_data(self) -> list[dict[str, Any]]:
        """The rows as ``product_update(plans=...)`` takes them (existing ones with ids)."""
        rows = []
        for form in _kept_forms(self):
            row = {name: form.cleaned_data.get(name) for name in services.PLAN_FIELDS}
            if not form.instance._state.adding:
                row["id"] = form.instance.pk
            rows.append(row)
        return rows


class PlanInline(admin.TabularInline):
    model = Plan
    form = PlanInlineForm
    formset = PlanInlineFormSet
    fields = services.PLAN_FIELDS
    extra = 1


class ProductTestInlineFormSet(BaseInlineFormSet):
    def test_data(self) -> list[dict[str, Any]]:
        """The rows in their order, as ``product_update(tests=...)`` takes them."""
        rows = sorted(_kept_forms(self), key=lambda form: form.cleaned_data.get("order") or 0)
        return [
            {"test": form.cleaned_data["test"], "unlock_at": form.cleaned_data.get("unlock_at")}
            for form in rows
        ]


class ProductTestInline(admin.TabularInline):
    model = ProductTest
    formset = ProductTestInlineFormSet
    fields = ("test", "order", "unlock_at")
    autocomplete_fields = ("test",)
    extra = 1
    verbose_name = "test"
    verbose_name_plural = "tests, in order"


@admin.register(Product)
class ProductAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = ProductAdminForm
    inlines = [PlanInline, ProductTestInline]
    list_display = (
        "thumbnail",
        "title",
        "kind",
        "category",
        "prices",
        "is_published",
        "is_featured",
        "sort_order",
        "live_enrollments",
    )
    list_display_links = ("title",)
    list_editable = ("sort_order", "is_featured")
    list_select_related = ("category",)
    list_filter = (
        "kind",
        "is_published",
        "is_featured",
        "is_free",
        "category",
        "level",
        "language",
    )
    search_fields = ("title", "slug", "summary")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("category",)
    readonly_fields = (
        "description_preview",
        "is_published",
        "published_at",
        "api_preview",
        "prices",
        "is_free",
        "live_enrollments",
        *TIMESTAMPS,
    )
    fieldsets = (
        (None, {"fields": ("kind", "title", "slug", "category", "summary")}),
        ("Description", {"fields": ("description_md", "description_preview")}),
        (
            "Presentation",
            {"fields": ("image", "language", "level", "tags", "is_featured", "sort_order")},
        ),
        ("Search engines", {"classes": ("collapse",), "fields": ("seo_title", "seo_description")}),
        (
            "Publishing",
            {
                "description": "Publish and unpublish with the actions of the product list; "
                "a product is published only with at least one active plan.",
                "fields": ("is_published", "published_at", "api_preview"),
            },
        ),
        (
            "Kept current from plans and enrollments",
            {"fields": ("prices", "is_free", "live_enrollments")},
        ),
        ("History", {"fields": TIMESTAMPS}),
    )
    actions = ["publish", "unpublish"]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, each refused while published
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False  # unpublish first; enrolled products are protected by the database
        return super().has_delete_permission(request, obj)

    # -- columns and read-only parts

    @admin.display(description="Image")
    def thumbnail(self, obj: Product) -> SafeString | str:
        if not obj.image:
            return EMPTY
        return format_html(
            '<img src="{}" alt="" width="48" height="48" style="object-fit: cover">',
            obj.image.url,
        )

    @admin.display(description="Price", ordering="price_from_paise")
    def prices(self, obj: Product) -> str:
        return price_range(obj.price_from_paise, obj.price_to_paise)

    @admin.display(description="Description as learners see it")
    def description_preview(self, obj: Product) -> SafeString | str:
        if not obj.description_html:
            return EMPTY
        # description_html is stored already sanitised by core.markdown (nh3 allow-list).
        return format_html(
            '<div class="product-preview">{}</div>',
            mark_safe(obj.description_html),  # noqa: S308
        )

    @admin.display(description="API preview")
    def api_preview(self, obj: Product) -> SafeString | str:
        if obj.pk is None:
            return EMPTY
        url = reverse("v1:catalogue:product-detail", kwargs={"slug": obj.slug})
        note = "" if obj.is_visible else " (answers 404 until published with an active plan)"
        return format_html('<a href="{}" target="_blank">{}</a>{}', url, url, note)

    # -- saving: the product, its plans and its tests are one service call

    def save_model(
        self, request: HttpRequest, obj: Product, form: forms.ModelForm[Product], change: bool
    ) -> None:
        """Written in ``save_related``, where the plans and tests are known too."""

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Product],
        formsets: _Formsets,
        change: bool,
    ) -> None:
        plans = tests = None
        for formset in formsets:
            if isinstance(formset, PlanInlineFormSet) and formset.has_changed():
                plans = formset.plan_data()
            elif isinstance(formset, ProductTestInlineFormSet) and formset.has_changed():
                tests = formset.test_data()
        values = {
            name: form.cleaned_data[name]
            for name in services.PRODUCT_FIELDS
            if name in form.cleaned_data
        }
        if change:
            saved = services.product_update(
                product=form.instance, values=values, plans=plans, tests=tests
            )
        else:
            saved = services.product_create(values=values, plans=plans, tests=tests)
        saved = self._save_image(saved, form.cleaned_data.get("image"))
        _adopt(form.instance, saved)
        _forget_formset_saves(formsets)

    def _save_image(self, product: Product, image: UploadedFile | bool | None) -> Product:
        """The cover image (checked by the form), through ``product_set_image``. False is
        the form's "clear" box; None leaves the image as it is."""
        if isinstance(image, UploadedFile):
            return services.product_set_image(product=product, image=image)
        if image is False:
            return services.product_set_image(product=product, image=None)
        return product

    # -- actions

    @admin.action(description="Publish selected products", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        """All or nothing: a selection with an unpublishable product publishes none."""
        refused = []
        with transaction.atomic():
            products = list(queryset.order_by("pk"))
            for product in products:
                try:
                    services.product_publish(product=product)
                except NotPublishable:
                    refused.append(product)
            if refused:
                transaction.set_rollback(True)
        if refused:
            names = ", ".join(f"“{product.title}”" for product in refused)
            self.message_user(
                request,
                f"Nothing was published: {names} "
                f"{'has' if len(refused) == 1 else 'have'} no active plan. "
                "Add an active plan, or leave it out of the selection.",
                messages.ERROR,
            )
            return
        self.message_user(request, f"Published {len(products)} product(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected products", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        products = list(queryset.order_by("pk"))
        with transaction.atomic():
            for product in products:
                services.product_unpublish(product=product)
        self.message_user(
            request,
            f"Unpublished {len(products)} product(s); enrolled learners keep their access.",
            messages.SUCCESS,
        )


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans are edited on their product's page; this read-only list exists for the
    enrollment grant form's plan search."""

    list_display = ("name", "product", "price", "validity_days", "is_lifetime", "is_active")
    list_select_related = ("product",)
    list_filter = ("is_active", "is_lifetime")
    search_fields = ("name", "product__title", "product__slug")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        return False

    @admin.display(description="Price", ordering="price_paise")
    def price(self, obj: Plan) -> str:
        return price_range(obj.price_paise, obj.price_paise)


# --- enrollments --------------------------------------------------------------------------------


class EnrollmentStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("live", "Live"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True, starts_at__lte=now).filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            )
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class EnrollmentGrantForm(forms.ModelForm):
    """The add page: a staff grant. The service extends a current enrollment instead of
    adding a second one, so the model's one-current constraint is not checked here."""

    days = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="Empty: the plan's validity, or lifetime without a plan.",
    )

    class Meta:
        model = Enrollment
        fields = ("user", "product", "plan")
        help_texts = {"plan": "Optional; one of the product's plans."}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        plan, product = cleaned.get("plan"), cleaned.get("product")
        if plan is not None and product is not None and plan.product_id != product.pk:
            self.add_error("plan", f"“{plan.name}” is a plan of another product.")
        return cleaned

    def _post_clean(self) -> None:
        """No model validation: the service decides (see the class docstring)."""


class EnrollmentRevokeForm(forms.ModelForm):
    """The change page: everything is read-only but the revocation."""

    revoke = forms.BooleanField(required=False, help_text="End this learner's access now.")
    reason = forms.CharField(
        required=False, max_length=200, help_text=f"Empty: “{REVOKED_BY_STAFF}”."
    )

    class Meta:
        model = Enrollment
        fields = ()


ENROLLMENT_FIELDS = (
    "user",
    "product",
    "plan",
    "source",
    "order_id",
    "granted_by",
    "starts_at",
    "expires_at",
    "live",
    "revoked_at",
    "revoke_reason",
    *TIMESTAMPS,
)
CSV_HEADER = (
    "id",
    "user_email",
    "product_slug",
    "plan",
    "source",
    "starts_at",
    "expires_at",
    "revoked_at",
    "live",
)


def _csv_cell(value: Any) -> str:
    """Times in ISO 8601 (UTC); text that a spreadsheet would run as a formula is
    quoted (an email address may start with "=")."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return formula_neutralised(str(value))


@admin.register(Enrollment)
class EnrollmentAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = EnrollmentRevokeForm
    list_display = (
        "user_email",
        "product",
        "plan_name",
        "source",
        "starts_at",
        "expires_at",
        "revoked_at",
        "live",
    )
    list_select_related = ("user", "product", "plan")
    list_filter = (
        "source",
        "product__kind",
        ("revoked_at", admin.EmptyFieldListFilter),
        EnrollmentStateFilter,
    )
    search_fields = ("user__email", "user__phone", "product__title", "product__slug")
    autocomplete_fields = ("user", "product", "plan")
    actions = ["revoke_selected", "export_csv"]

    def get_fieldsets(self, request: HttpRequest, obj: Enrollment | None = None):
        if obj is None:
            return ((None, {"fields": ("user", "product", "plan", "days")}),)
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": ENROLLMENT_FIELDS})]
        if obj.revoked_at is None:
            fieldsets.append(("Revoke", {"fields": ("revoke", "reason")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None):
        return () if obj is None else ENROLLMENT_FIELDS

    def get_form(
        self,
        request: HttpRequest,
        obj: Enrollment | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Enrollment]]:
        if obj is None:
            kwargs["form"] = EnrollmentGrantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False  # kept for the record: revoke instead

    # -- columns

    @admin.display(description="Learner", ordering="user__email")
    def user_email(self, obj: Enrollment) -> str:
        return obj.user.email or obj.user.phone or str(obj.user)

    @admin.display(description="Plan", ordering="plan__name")
    def plan_name(self, obj: Enrollment) -> str:
        return obj.plan.name if obj.plan else EMPTY

    @admin.display(description="Live", boolean=True)
    def live(self, obj: Enrollment) -> bool:
        return obj.is_live()

    # -- saving: grants and revocations through the services

    def save_model(
        self, request: HttpRequest, obj: Enrollment, form: forms.ModelForm[Enrollment], change: bool
    ) -> None:
        data = form.cleaned_data
        if not change:
            saved = services.enrollment_grant(
                user=data["user"],
                product=data["product"],
                plan=data.get("plan"),
                days=data.get("days"),
                by=request.user,  # type: ignore[arg-type]  # signed-in staff
            )
            _adopt(obj, saved)
        elif data.get("revoke"):
            services.enrollment_revoke(
                enrollment=obj,
                reason=data.get("reason") or REVOKED_BY_STAFF,
                by=request.user,  # type: ignore[arg-type]  # signed-in staff
            )
            obj.refresh_from_db()

    # -- actions

    @admin.action(description="Revoke selected enrollments", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        current = list(queryset.filter(revoked_at__isnull=True).order_by("pk"))
        with transaction.atomic():
            for enrollment in current:
                services.enrollment_revoke(
                    enrollment=enrollment,
                    reason=REVOKED_BY_STAFF,
                    by=request.user,  # type: ignore[arg-type]  # signed-in staff
                )
        self.message_user(request, f"Revoked {len(current)} enrollment(s).", messages.SUCCESS)

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="enrollments-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_HEADER)
        now = timezone.now()
        for enrollment in queryset.select_related("user", "product", "plan").order_by(
            "created_at", "pk"
        ):
            writer.writerow(
                _csv_cell(value)
                for value in (
                    enrollment.pk,
                    enrollment.user.email,
                    enrollment.product.slug,
                    enrollment.plan.name if enrollment.plan else None,
                    enrollment.source,
                    enrollment.starts_at,
                    enrollment.expires_at,
                    enrollment.revoked_at,
                    "yes" if enrollment.is_live(now) else "no",
                )
            )
        return response
