"""The back office for the catalogue: curation lists, products saved with their plans and
tests through the services, publishing only with an active plan, staff grants and
revocations, CSV export, and checked cover images."""

from __future__ import annotations

import csv
import html
import io
import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from catalogue import services
from catalogue.admin import price_range
from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from core.errors import Conflict
from tests.accounts.factories import StaffFactory, UserFactory
from tests.catalogue.factories import (
    CategoryFactory,
    EnrollmentFactory,
    PlanFactory,
    ProductFactory,
    ProductTestFactory,
)
from tests.testengine.factories import TestFactory

CATEGORIES = "/admin/catalogue/category/"
CATEGORY_ADD = "/admin/catalogue/category/add/"
PRODUCTS = "/admin/catalogue/product/"
PRODUCT_ADD = "/admin/catalogue/product/add/"
ENROLLMENTS = "/admin/catalogue/enrollment/"
ENROLLMENT_ADD = "/admin/catalogue/enrollment/add/"


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, email="boss@examforge.local")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _change_url(obj) -> str:
    return f"/admin/catalogue/{obj._meta.model_name}/{obj.pk}/change/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _form_errors(response) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


def _inline(response, prefix: str):
    (inline,) = [
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == prefix
    ]
    return inline


def png_bytes(size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB" if fmt != "GIF" else "P", size).save(buffer, fmt)
    return buffer.getvalue()


def upload(content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


PLAN_DEFAULTS = {
    "name": "",
    "price_paise": "",
    "list_price_paise": "",
    "validity_days": "",
    "order": "0",
}


def _product_post(
    product: Product | None = None,
    *,
    plans: list[dict[str, str]] = (),
    tests: list[dict[str, str]] = (),
    existing_plans: list[Plan] = (),
    existing_tests: list[ProductTest] = (),
    **fields: str,
) -> dict[str, str]:
    """The add/change form as the browser posts it: the product's fields, then the plans
    and tests inlines (existing rows with their ids first, as the admin renders them)."""
    product = product or Product(kind="test_series", title="", slug="", language="en")
    data = {
        "kind": product.kind,
        "title": product.title,
        "slug": product.slug,
        "category": str(product.category_id or ""),
        "summary": product.summary,
        "description_md": product.description_md,
        "language": product.language,
        "level": product.level,
        "tags": ",".join(product.tags),
        "sort_order": str(product.sort_order),
        "seo_title": product.seo_title,
        "seo_description": product.seo_description,
        "plans-TOTAL_FORMS": str(len(existing_plans) + len(plans)),
        "plans-INITIAL_FORMS": str(len(existing_plans)),
        "plans-MIN_NUM_FORMS": "0",
        "plans-MAX_NUM_FORMS": "1000",
        "product_tests-TOTAL_FORMS": str(len(existing_tests) + len(tests)),
        "product_tests-INITIAL_FORMS": str(len(existing_tests)),
        "product_tests-MIN_NUM_FORMS": "0",
        "product_tests-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    if product.is_featured:
        data["is_featured"] = "on"
    plan_rows = [
        {
            "id": str(plan.pk),
            "product": str(product.pk),
            "name": plan.name,
            "price_paise": str(plan.price_paise),
            "list_price_paise": str(plan.list_price_paise or ""),
            "validity_days": str(plan.validity_days or ""),
            "is_lifetime": "on" if plan.is_lifetime else "",
            "is_active": "on" if plan.is_active else "",
            "order": str(plan.order),
        }
        for plan in existing_plans
    ] + [{**PLAN_DEFAULTS, **row} for row in plans]
    for index, row in enumerate(plan_rows):
        for name, value in row.items():
            if value != "" or name not in ("is_lifetime", "is_active", "DELETE"):
                data[f"plans-{index}-{name}"] = value
    test_rows = [
        {
            "id": str(row.pk),
            "product": str(product.pk),
            "test": str(row.test_id),
            "order": str(row.order),
            "unlock_at_0": "",
            "unlock_at_1": "",
        }
        for row in existing_tests
    ] + [{"order": "0", "unlock_at_0": "", "unlock_at_1": "", **row} for row in tests]
    for index, row in enumerate(test_rows):
        for name, value in row.items():
            data[f"product_tests-{index}-{name}"] = value
    data.update(fields)
    return data


def _new_product_post(**fields: str) -> dict[str, str]:
    """A valid add-page post: one 30-day plan, no tests."""
    base = {
        "plans": [
            {"name": "30 days", "price_paise": "49900", "validity_days": "30", "is_active": "on"}
        ]
    }
    base.update(fields)
    return _product_post(
        **{"title": "JEE Mains Mock Series", "slug": "jee-mains-mock-series", **base}
    )


# --- money in the admin -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (None, None, "—"),
        (0, 0, "Free"),
        (49900, 49900, "₹499"),
        (49900, 149900, "₹499–₹1,499"),
        (0, 149900, "Free–₹1,499"),
    ],
)
def test_price_ranges(low, high, text):
    assert price_range(low, high) == text


# --- lists render with a bounded number of queries ------------------------------------------


def _thirty_of_each() -> None:
    """30 categories (a two-level tree), 30 products with plans and an image each, 30
    enrollments with plans."""
    roots = CategoryFactory.create_batch(5)
    categories = [CategoryFactory(parent=roots[index % 5]) for index in range(25)]
    for index in range(30):
        product = ProductFactory(category=categories[index % 25], image=f"products/p{index}.png")
        PlanFactory(product=product, price_paise=index * 1000)
        PlanFactory(product=product, price_paise=99900)
    for plan in Plan.objects.order_by("pk")[:30]:
        EnrollmentFactory(plan=plan)


@pytest.mark.parametrize(
    ("url", "max_queries"),
    [
        # session, user, two counts, the page (parents joined, products counted in it)
        (CATEGORIES, 5),
        # session, user, two counts, the page (categories joined), the category and
        # language filters' choices
        (PRODUCTS, 7),
        # session, user, two counts, the page (learners, products and plans joined)
        (ENROLLMENTS, 5),
    ],
)
def test_changelists_render_with_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries, url, max_queries
):
    _thirty_of_each()

    with django_assert_max_num_queries(max_queries):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_the_product_list_shows_thumbnail_prices_and_enrollments(admin_client):
    with_image = ProductFactory(title="Illustrated", image="products/cover.png")
    PlanFactory(product=with_image, price_paise=49900)
    PlanFactory(product=with_image, price_paise=149900)
    EnrollmentFactory(plan=with_image.plans.first())
    free = ProductFactory(title="Free one")
    PlanFactory(product=free, price_paise=0)
    ProductFactory(title="No plans yet")

    page = admin_client.get(PRODUCTS).content.decode()

    assert (
        '<img src="/media/products/cover.png" alt="" width="48" height="48" '
        'style="object-fit: cover">' in page
    )
    assert '<td class="field-prices">₹499–₹1,499</td>' in page
    assert '<td class="field-prices">Free</td>' in page
    assert '<td class="field-thumbnail">—</td>' in page
    assert '<td class="field-live_enrollments">1</td>' in page


def test_product_search_and_filters(admin_client):
    physics = CategoryFactory(name="Physics")
    hit = ProductFactory(title="Rotational dynamics drills", category=physics, language="hi")
    ProductFactory(title="Organic chemistry", summary="Reactions", kind="course")
    free = ProductFactory(title="Starter pack")
    PlanFactory(product=free, price_paise=0)

    by_title = admin_client.get(PRODUCTS, {"q": "rotational"})
    by_summary = admin_client.get(PRODUCTS, {"q": "reactions"})
    by_category = admin_client.get(PRODUCTS, {"category__id__exact": physics.pk})
    by_language = admin_client.get(PRODUCTS, {"language": "hi"})
    only_free = admin_client.get(PRODUCTS, {"is_free__exact": "1"})
    courses = admin_client.get(PRODUCTS, {"kind__exact": "course"})

    assert [p.title for p in by_title.context["cl"].result_list] == [hit.title]
    assert [p.title for p in by_summary.context["cl"].result_list] == ["Organic chemistry"]
    assert [p.pk for p in by_category.context["cl"].result_list] == [hit.pk]
    assert [p.pk for p in by_language.context["cl"].result_list] == [hit.pk]
    assert [p.pk for p in only_free.context["cl"].result_list] == [free.pk]
    assert [p.title for p in courses.context["cl"].result_list] == ["Organic chemistry"]


# --- categories ---------------------------------------------------------------------------------


def test_a_category_is_saved_through_the_service_and_counts_its_products(admin_client):
    parent = CategoryFactory(name="Engineering", slug="engineering")

    response = admin_client.post(
        CATEGORY_ADD,
        {"name": "JEE", "slug": "jee", "parent": str(parent.pk), "order": "2", "description": ""},
    )
    ProductFactory.create_batch(2, category=Category.objects.get(slug="jee"))
    page = admin_client.get(CATEGORIES).content.decode()

    assert response.status_code == 302, _form_errors(response)
    created = Category.objects.get(slug="jee")
    assert (created.name, created.parent, created.order) == ("JEE", parent, 2)
    assert '<td class="field-product_count">2</td>' in page


def test_a_category_cannot_move_under_its_own_descendant(admin_client):
    root = CategoryFactory(name="Engineering", slug="engineering")
    child = CategoryFactory(name="JEE", slug="jee", parent=root)

    response = admin_client.post(
        _change_url(root),
        {"name": "Engineering", "slug": "engineering", "parent": str(child.pk), "order": "0"},
    )

    assert response.status_code == 200
    assert _form_errors(response) == {"parent": ["A category cannot sit under itself."]}
    root.refresh_from_db()
    assert root.parent is None


def test_a_duplicate_category_slug_is_a_field_error(admin_client):
    CategoryFactory(slug="jee")

    response = admin_client.post(
        CATEGORY_ADD, {"name": "JEE again", "slug": "jee", "parent": "", "order": "0"}
    )

    assert response.status_code == 200
    assert list(_form_errors(response)) == ["slug"]
    assert Category.objects.count() == 1


# --- products: the add page ---------------------------------------------------------------------


def test_the_product_add_page_renders_both_inlines(admin_client):
    response = admin_client.get(PRODUCT_ADD)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="plans-TOTAL_FORMS"' in page
    assert 'name="product_tests-TOTAL_FORMS"' in page
    assert 'name="product_tests-0-test"' in page
    assert 'class="admin-autocomplete' in page
    assert 'name="is_published"' not in page  # published only through the actions


def test_the_add_page_saves_a_product_with_two_plans_and_two_tests(admin_client):
    category = CategoryFactory(name="Engineering")
    first, second = TestFactory(title="Mock 1"), TestFactory(title="Mock 2")
    unlock = timezone.now().replace(microsecond=0) + timedelta(days=7)
    data = _product_post(
        title="JEE Mains Mock Series",
        slug="jee-mains-mock-series",
        category=str(category.pk),
        description_md="Ten **full** mocks.",
        tags="JEE Mains, Physics",
        plans=[
            {
                "name": "6 months",
                "price_paise": "149900",
                "list_price_paise": "199900",
                "validity_days": "180",
                "is_active": "on",
                "order": "1",
            },
            {"name": "1 month", "price_paise": "49900", "validity_days": "30", "is_active": "on"},
        ],
        tests=[
            {
                "test": str(second.pk),
                "order": "2",
                "unlock_at_0": unlock.strftime("%Y-%m-%d"),
                "unlock_at_1": unlock.strftime("%H:%M:%S"),
            },
            {"test": str(first.pk), "order": "1"},
        ],
    )

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 302, _form_errors(response)
    product = Product.objects.get(slug="jee-mains-mock-series")
    assert product.description_html == "<p>Ten <strong>full</strong> mocks.</p>"
    assert (product.price_from_paise, product.price_to_paise, product.is_free) == (
        49900,
        149900,
        False,
    )
    assert (product.is_published, product.category, product.tags) == (
        False,
        category,
        ["jee-mains", "physics"],
    )
    assert list(
        product.plans.order_by("price_paise").values_list(
            "name", "price_paise", "list_price_paise", "validity_days", "is_lifetime"
        )
    ) == [("1 month", 49900, None, 30, False), ("6 months", 149900, 199900, 180, False)]
    assert [(row.test, row.order, row.unlock_at) for row in product.product_tests.all()] == [
        (first, 0, None),
        (second, 1, unlock),
    ]
    assert response["Location"] == PRODUCTS


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"slug": "taken"}, "slug", "Product with this Slug already exists."),
        (
            {"plans-0-price_paise": "-100"},
            ("plans", "price_paise"),
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"plans-0-list_price_paise": "39900"},
            ("plans", "list_price_paise"),
            "The list price cannot be below the price.",
        ),
        (
            {"plans-0-validity_days": ""},
            ("plans", "validity_days"),
            "Give the validity in days (1 or more), or make it lifetime.",
        ),
        (
            {"plans-0-is_lifetime": "on"},
            ("plans", "validity_days"),
            "A lifetime plan has no validity in days.",
        ),
        (
            {"plans-0-validity_days": "0"},
            ("plans", "validity_days"),
            "Give the validity in days (1 or more), or make it lifetime.",
        ),
        (
            {"description_md": "Hi <script>alert(1)</script>"},
            "description_md",
            "Remove the HTML that could run code ('<script').",
        ),
        (
            {"description_md": "Covers\n$v = \\fracc{d}{t}$"},
            "description_md",
            "Line 2, column 6: unknown command \\fracc.",
        ),
    ],
    ids=[
        "duplicate-slug",
        "negative-price",
        "list-price-below-price",
        "no-validity-nor-lifetime",
        "lifetime-with-validity",
        "zero-validity",
        "script-in-description",
        "invalid-tex-in-description",
    ],
)
def test_a_wrong_product_is_shown_again_with_the_error_and_nothing_is_saved(
    admin_client, changes, where, message
):
    taken = ProductFactory(slug="taken")
    PlanFactory(product=taken)
    data = _new_product_post()
    data.update(changes)

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 200
    if isinstance(where, tuple):
        prefix, field = where
        assert _form_errors(response) == {}
        assert _inline(response, prefix).errors == [{field: [message]}]
    else:
        assert _form_errors(response) == {where: [message]}
    assert message in html.unescape(response.content.decode())
    assert list(Product.objects.values_list("slug", flat=True)) == ["taken"]
    assert Plan.objects.count() == 1


def test_the_same_test_twice_is_refused(admin_client):
    test = TestFactory()
    data = _new_product_post(tests=[{"test": str(test.pk)}, {"test": str(test.pk)}])

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 200
    assert _inline(response, "product_tests").non_form_errors() == [
        "Please correct the duplicate data for test."
    ]
    assert Product.objects.count() == 0


def test_an_image_upload_is_checked_and_stored(admin_client, tmp_path):
    data = _new_product_post(image=upload(png_bytes(), "cover.png"))

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 302, _form_errors(response)
    product = Product.objects.get()
    assert re.fullmatch(
        r"products/\d{4}/\d{2}/jee-mains-mock-series-[0-9a-f]{8}\.png", product.image.name
    )
    assert (tmp_path / product.image.name).read_bytes() == png_bytes()
    assert product.price_from_paise == 49900


def test_a_jpeg_named_png_is_stored_as_jpg_and_replaces_the_old_file(
    admin_client, product, tmp_path, django_capture_on_commit_callbacks
):
    first = admin_client.post(
        _change_url(product), _edit_post(product, image=upload(png_bytes(), "cover.png"))
    )
    product.refresh_from_db()
    old = product.image.name

    with django_capture_on_commit_callbacks(execute=True):
        second = admin_client.post(
            _change_url(product),
            _edit_post(product, image=upload(png_bytes(fmt="JPEG"), "photo.png")),
        )

    assert (first.status_code, second.status_code) == (302, 302)
    product.refresh_from_db()
    assert product.image.name.endswith(".jpg")
    assert (tmp_path / product.image.name).exists()
    assert not (tmp_path / old).exists()


def test_clearing_the_image(admin_client, product, tmp_path, django_capture_on_commit_callbacks):
    admin_client.post(
        _change_url(product), _edit_post(product, image=upload(png_bytes(), "cover.png"))
    )
    product.refresh_from_db()
    old = product.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _change_url(product), _edit_post(product, **{"image-clear": "on"})
        )

    assert response.status_code == 302, _form_errors(response)
    product.refresh_from_db()
    assert product.image.name == ""
    assert not (tmp_path / old).exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"not an image at all\n" * 10,
            "cover.png",
            "Upload a valid image. The file you uploaded was either not an image or a "
            "corrupted image.",
        ),
        (
            png_bytes(fmt="GIF"),
            "cover.png",
            "Only JPEG, PNG and WebP images are accepted; this file is GIF.",
        ),
        (
            png_bytes(size=(4001, 2)),
            "wide.png",
            "The image is 4001×2 pixels; at most 4000×4000 pixels are allowed.",
        ),
    ],
    ids=["text-named-png", "gif", "too-wide"],
)
def test_a_bad_image_is_refused_and_nothing_is_saved(
    admin_client, tmp_path, content, name, message
):
    data = _new_product_post(image=upload(content, name))

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 200
    assert _form_errors(response) == {"image": [message]}
    assert Product.objects.count() == 0
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_image_is_refused(admin_client, settings):
    settings.IMAGE_MAX_BYTES = 1000
    noise = io.BytesIO()
    Image.frombytes("RGB", (40, 40), os.urandom(40 * 40 * 3)).save(noise, "PNG")
    data = _new_product_post(image=upload(noise.getvalue(), "noise.png"))

    response = admin_client.post(PRODUCT_ADD, data)

    assert response.status_code == 200
    (error,) = _form_errors(response)["image"]
    assert error.startswith("The image is ")
    assert error.endswith("; the largest allowed is 1000 bytes.")


# --- products: the change page ------------------------------------------------------------------


@pytest.fixture
def product(db):
    return services.product_create(
        values={
            "kind": "test_series",
            "title": "NEET Biology Drills",
            "slug": "neet-biology-drills",
            "description_md": "Drill *daily*.",
            "language": "en",
            "level": "all",
        },
        plans=[
            {"name": "1 month", "price_paise": 29900, "validity_days": 30, "is_active": True},
            {"name": "1 year", "price_paise": 99900, "validity_days": 365, "is_active": True},
        ],
        tests=[{"test": TestFactory(title="Cell biology")}],
    )


def _edit_post(product: Product, **fields: str) -> dict[str, str]:
    product.refresh_from_db()
    return _product_post(
        product,
        existing_plans=list(product.plans.all()),
        existing_tests=list(product.product_tests.all()),
        **fields,
    )


def test_the_change_page_shows_the_preview_and_the_api_link(admin_client, product):
    page = admin_client.get(_change_url(product)).content.decode()

    assert '<div class="product-preview"><p>Drill <em>daily</em>.</p></div>' in page
    assert (
        '<a href="/api/v1/catalogue/products/neet-biology-drills/" target="_blank">'
        "/api/v1/catalogue/products/neet-biology-drills/</a> "
        "(answers 404 until published with an active plan)" in page
    )
    assert "₹299–₹999" in page


def test_editing_a_plan_price_and_the_description_keeps_the_derived_fields_current(
    admin_client, product
):
    data = _edit_post(product, description_md="Drill **hard**.")
    data["plans-1-price_paise"] = "149900"

    response = admin_client.post(_change_url(product), data)

    assert response.status_code == 302, _form_errors(response)
    product.refresh_from_db()
    assert product.description_html == "<p>Drill <strong>hard</strong>.</p>"
    assert (product.price_from_paise, product.price_to_paise) == (29900, 149900)
    assert product.plans.count() == 2


def test_deleting_a_plan_and_adding_a_free_one(admin_client, product):
    data = _edit_post(product, plans=[{"name": "Taster", "price_paise": "0", "is_lifetime": "on"}])
    data["product_tests-TOTAL_FORMS"] = "1"
    data["plans-TOTAL_FORMS"] = "3"
    data["plans-0-DELETE"] = "on"
    data["plans-2-is_active"] = "on"

    response = admin_client.post(_change_url(product), data)

    assert response.status_code == 302, _form_errors(response)
    product.refresh_from_db()
    assert sorted(product.plans.values_list("name", "price_paise", "is_lifetime")) == [
        ("1 year", 99900, False),
        ("Taster", 0, True),
    ]
    assert (product.price_from_paise, product.price_to_paise, product.is_free) == (
        0,
        99900,
        True,
    )


def test_a_published_product_cannot_lose_its_last_active_plan(admin_client, product):
    services.product_publish(product=product)
    data = _edit_post(product, title="Renamed")
    data.pop("plans-0-is_active")
    data.pop("plans-1-is_active")

    response = admin_client.post(_change_url(product), data)

    assert response.status_code == 200
    assert _inline(response, "plans").non_form_errors() == [
        "A published product must keep at least one active plan; unpublish it first to "
        "withdraw every plan."
    ]
    product.refresh_from_db()
    assert product.title == "NEET Biology Drills"
    assert product.plans.filter(is_active=True).count() == 2


def test_reordering_tests_and_changing_only_the_title(admin_client, product):
    first_test = product.product_tests.get().test
    extra = ProductTestFactory(product=product, test=TestFactory(title="Genetics"), order=5)
    data = _edit_post(product, title="NEET Biology Drills 2026")
    data["product_tests-1-order"] = "0"
    data["product_tests-0-order"] = "1"

    response = admin_client.post(_change_url(product), data)

    assert response.status_code == 302, _form_errors(response)
    product.refresh_from_db()
    assert product.title == "NEET Biology Drills 2026"
    assert [row.test for row in product.product_tests.all()] == [extra.test, first_test]


def test_a_service_error_while_saving_rolls_everything_back(admin_client, product, monkeypatch):
    real_update = services.product_update

    def update_then_conflict(**kwargs):
        real_update(**kwargs)  # writes the title and the plan, then the race is lost
        raise Conflict("The product changed meanwhile; try again.")

    monkeypatch.setattr(services, "product_update", update_then_conflict)
    data = _edit_post(product, title="Renamed")
    data["plans-0-price_paise"] = "100"

    response = admin_client.post(_change_url(product), data, follow=True)

    assert _messages(response) == ["Nothing was saved. The product changed meanwhile; try again."]
    product.refresh_from_db()
    assert (product.title, product.price_from_paise) == ("NEET Biology Drills", 29900)


def test_list_editable_saves_sort_order_and_featured(admin_client):
    first = ProductFactory(title="First", sort_order=1, description_md="*one*")
    second = ProductFactory(title="Second", sort_order=2)

    response = admin_client.post(
        PRODUCTS,
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(first.pk),
            "form-0-sort_order": "20",
            "form-1-id": str(second.pk),
            "form-1-sort_order": "2",
            "form-1-is_featured": "on",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sort_order, first.is_featured) == (20, False)
    assert (second.sort_order, second.is_featured) == (2, True)
    # saved through the service: the description was rendered on the way
    assert first.description_html == "<p><em>one</em></p>"


# --- publishing ---------------------------------------------------------------------------------


def _act(client, action: str, objs, url: str = PRODUCTS, **extra):
    return client.post(
        url,
        {"action": action, "_selected_action": [str(obj.pk) for obj in objs], **extra},
        follow=True,
    )


def test_publishing_refuses_a_product_without_an_active_plan(admin_client):
    bare = ProductFactory(title="No plans")
    PlanFactory(product=ProductFactory(title="Withdrawn"), is_active=False)

    response = _act(admin_client, "publish", [bare])

    assert _messages(response) == [
        "Nothing was published: “No plans” has no active plan. "
        "Add an active plan, or leave it out of the selection."
    ]
    bare.refresh_from_db()
    assert (bare.is_published, bare.published_at) == (False, None)


def test_publishing_a_mixed_selection_publishes_nothing(admin_client):
    ready = ProductFactory(title="Ready")
    PlanFactory(product=ready)
    withdrawn = ProductFactory(title="Withdrawn")
    PlanFactory(product=withdrawn, is_active=False)
    bare = ProductFactory(title="Bare")

    response = _act(admin_client, "publish", [ready, withdrawn, bare])

    assert _messages(response) == [
        "Nothing was published: “Withdrawn”, “Bare” have no active plan. "
        "Add an active plan, or leave it out of the selection."
    ]
    assert Product.objects.filter(is_published=True).count() == 0


def test_publishing_and_unpublishing_products_with_plans(admin_client):
    ready = ProductFactory(title="Ready")
    PlanFactory(product=ready)

    published = _act(admin_client, "publish", [ready])
    ready.refresh_from_db()
    published_at = ready.published_at
    unpublished = _act(admin_client, "unpublish", [ready])

    assert _messages(published) == ["Published 1 product(s)."]
    assert published_at is not None
    assert _messages(unpublished) == [
        "Unpublished 1 product(s); enrolled learners keep their access."
    ]
    ready.refresh_from_db()
    assert (ready.is_published, ready.published_at) == (False, published_at)


# --- enrollments --------------------------------------------------------------------------------


@pytest.fixture
def learner(db):
    return UserFactory(email="asha@example.com")


def test_the_grant_form_renders_with_autocompletes(admin_client):
    response = admin_client.get(ENROLLMENT_ADD)

    page = response.content.decode()
    assert response.status_code == 200
    for name in ("user", "product", "plan"):
        assert f'name="{name}"' in page
    assert 'name="days"' in page
    assert page.count("admin-autocomplete") >= 3


def test_a_staff_grant_through_the_add_form(admin_client, superuser, learner, product):
    plan = product.plans.get(name="1 month")

    response = admin_client.post(
        ENROLLMENT_ADD,
        {"user": str(learner.pk), "product": str(product.pk), "plan": str(plan.pk), "days": ""},
    )

    assert response.status_code == 302, _form_errors(response)
    enrollment = Enrollment.objects.get()
    assert (enrollment.user, enrollment.product, enrollment.plan) == (learner, product, plan)
    assert (enrollment.source, enrollment.granted_by) == ("grant", superuser)
    assert enrollment.expires_at - enrollment.starts_at == timedelta(days=30)
    product.refresh_from_db()
    assert product.live_enrollments == 1


def test_a_grant_for_some_days_without_a_plan(admin_client, learner, product):
    response = admin_client.post(
        ENROLLMENT_ADD,
        {"user": str(learner.pk), "product": str(product.pk), "plan": "", "days": "7"},
    )

    assert response.status_code == 302, _form_errors(response)
    enrollment = Enrollment.objects.get()
    assert (enrollment.plan, enrollment.source) == (None, "grant")
    assert enrollment.expires_at - enrollment.starts_at == timedelta(days=7)


def test_a_grant_to_an_enrolled_learner_extends_the_current_enrollment(
    admin_client, learner, product
):
    current = EnrollmentFactory(user=learner, plan=product.plans.get(name="1 month"))
    expires_at = current.expires_at

    response = admin_client.post(
        ENROLLMENT_ADD,
        {"user": str(learner.pk), "product": str(product.pk), "plan": "", "days": "10"},
    )

    assert response.status_code == 302, _form_errors(response)
    current.refresh_from_db()
    assert Enrollment.objects.count() == 1
    assert (current.expires_at, current.source) == (expires_at + timedelta(days=10), "purchase")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"days": "0"}, "days", "Ensure this value is greater than or equal to 1."),
        ({"plan": "other"}, "plan", "“Elsewhere” is a plan of another product."),
    ],
)
def test_a_wrong_grant_is_a_field_error(admin_client, learner, product, fields, field, message):
    other = PlanFactory(name="Elsewhere")
    data = {"user": str(learner.pk), "product": str(product.pk), "plan": "", "days": ""}
    data.update(fields)
    if data["plan"] == "other":
        data["plan"] = str(other.pk)

    response = admin_client.post(ENROLLMENT_ADD, data)

    assert response.status_code == 200
    assert _form_errors(response) == {field: [message]}
    assert Enrollment.objects.count() == 0


def test_the_change_page_is_read_only_but_for_revoking(admin_client, superuser):
    enrollment = EnrollmentFactory()

    page = admin_client.get(_change_url(enrollment)).content.decode()
    response = admin_client.post(
        _change_url(enrollment), {"revoke": "on", "reason": "chargeback", "_save": "Save"}
    )

    assert 'name="revoke"' in page
    assert 'name="user"' not in page
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.revoked_at is not None
    assert enrollment.revoke_reason == "chargeback"
    enrollment.product.refresh_from_db()
    assert enrollment.product.live_enrollments == 0
    assert 'name="revoke"' not in admin_client.get(_change_url(enrollment)).content.decode()


def test_saving_the_change_page_without_ticking_revoke_changes_nothing(admin_client):
    enrollment = EnrollmentFactory()

    response = admin_client.post(_change_url(enrollment), {"reason": "oops", "_save": "Save"})

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert (enrollment.revoked_at, enrollment.revoke_reason) == (None, "")


def test_the_revoke_action(admin_client):
    kept = EnrollmentFactory()
    chosen = EnrollmentFactory.create_batch(2)

    response = _act(admin_client, "revoke_selected", chosen, url=ENROLLMENTS)

    assert _messages(response) == ["Revoked 2 enrollment(s)."]
    for enrollment in chosen:
        enrollment.refresh_from_db()
        assert enrollment.revoked_at is not None
        assert enrollment.revoke_reason == "revoked by staff"
    kept.refresh_from_db()
    assert kept.revoked_at is None
    again = _act(admin_client, "revoke_selected", chosen, url=ENROLLMENTS)
    assert _messages(again) == ["Revoked 0 enrollment(s)."]


def test_a_published_product_cannot_be_deleted_and_there_is_no_bulk_delete(admin_client):
    published = ProductFactory(title="Live")
    PlanFactory(product=published)
    services.product_publish(product=published)
    draft = ProductFactory(title="Draft")

    refused = admin_client.get(f"/admin/catalogue/product/{published.pk}/delete/")
    deleted = admin_client.post(f"/admin/catalogue/product/{draft.pk}/delete/", {"post": "yes"})
    changelist = admin_client.get(PRODUCTS)

    assert refused.status_code == 403
    assert deleted.status_code == 302
    assert list(Product.objects.values_list("title", flat=True)) == ["Live"]
    assert (
        "delete_selected" not in changelist.context["action_form"].fields["action"].choices[1:][0]
    )
    assert [name for name, _ in changelist.context["action_form"].fields["action"].choices] == [
        "",
        "publish",
        "unpublish",
    ]


def test_enrollments_cannot_be_deleted(admin_client):
    enrollment = EnrollmentFactory()

    response = admin_client.get(f"/admin/catalogue/enrollment/{enrollment.pk}/delete/")

    assert response.status_code == 403


def test_search_and_state_filter_of_enrollments(admin_client, learner, product):
    now = timezone.now()
    live = EnrollmentFactory(user=learner, plan=product.plans.first())
    expired = EnrollmentFactory(
        starts_at=now - timedelta(days=40), expires_at=now - timedelta(days=10)
    )
    revoked = EnrollmentFactory()
    services.enrollment_revoke(enrollment=revoked)

    def listed(**params):
        return {e.pk for e in admin_client.get(ENROLLMENTS, params).context["cl"].result_list}

    assert listed(q="asha@") == {live.pk}
    assert listed(q="neet-biology") == {live.pk}
    assert listed(state="live") == {live.pk}
    assert listed(state="expired") == {expired.pk}
    assert listed(state="revoked") == {revoked.pk}
    assert listed(revoked_at__isempty="0") == {revoked.pk}
    assert listed(product__kind__exact="course") == set()
    assert listed(source__exact="purchase") == {live.pk, expired.pk, revoked.pk}


@pytest.mark.parametrize(
    ("model", "field", "term", "expected"),
    [
        ("enrollment", "plan", "1 year", ["NEET Biology Drills · 1 year"]),
        ("enrollment", "product", "neet", ["NEET Biology Drills"]),
        ("enrollment", "user", "asha@", ["asha@example.com"]),
        pytest.param(
            "producttest",
            "test",
            "cell",
            ["Cell biology"],
            # testengine's TestAdmin counts sections (GROUP BY drops Meta.ordering)
            marks=pytest.mark.filterwarnings(
                "ignore::django.core.paginator.UnorderedObjectListWarning"
            ),
        ),
        ("product", "category", "engin", ["Engineering"]),
    ],
)
def test_autocompletes_find_what_they_offer(
    admin_client, learner, product, model, field, term, expected
):
    CategoryFactory(name="Engineering")

    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "catalogue", "model_name": model, "field_name": field, "term": term},
    )

    assert response.status_code == 200, response.content
    assert [row["text"] for row in response.json()["results"]] == expected


def test_the_csv_export(admin_client):
    started = timezone.now().replace(microsecond=0) - timedelta(days=1)
    learner = UserFactory(email="=cmd@example.com")
    product = ProductFactory(slug="jee-mocks")
    plan = PlanFactory(product=product, name="30 days", validity_days=30)
    live = EnrollmentFactory(user=learner, plan=plan, starts_at=started)
    grant = EnrollmentFactory(
        plan=None, product=product, source="grant", starts_at=started, expires_at=None
    )
    services.enrollment_revoke(enrollment=grant)
    grant.refresh_from_db()
    EnrollmentFactory()  # not selected

    response = _act(admin_client, "export_csv", [live, grant], url=ENROLLMENTS)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="enrollments-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "id",
        "user_email",
        "product_slug",
        "plan",
        "source",
        "starts_at",
        "expires_at",
        "revoked_at",
        "live",
    ]
    assert sorted(rows[1:]) == sorted(
        [
            [
                str(live.pk),
                "'=cmd@example.com",
                "jee-mocks",
                "30 days",
                "purchase",
                started.isoformat(),
                (started + timedelta(days=30)).isoformat(),
                "",
                "yes",
            ],
            [
                str(grant.pk),
                grant.user.email,
                "jee-mocks",
                "",
                "grant",
                started.isoformat(),
                "",
                grant.revoked_at.isoformat(),
                "no",
            ],
        ]
    )
