"""Staff API of the catalogue: categories, products with plans and tests, publication,
cover images; permissions and refused input (which must write nothing)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalogue.models import Category, Plan, Product, ProductTest
from tests.catalogue.factories import (
    CategoryFactory,
    EnrollmentFactory,
    PlanFactory,
    ProductFactory,
    ProductTestFactory,
    PublishedProductFactory,
)
from tests.testengine.factories import TestFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalogue/manage"
C = f"{BASE}/categories/"
P = f"{BASE}/products/"


def _body(**overrides):
    return {
        "kind": "program",
        "title": "Backend Engineering",
        "slug": "backend-engineering",
        "summary": "From HTTP to a deployed Django service.",
        "description_md": "Build an **API**.",
        "tags": ["Django", "PostgreSQL"],
        "plans": [
            {
                "name": "1 month",
                "price_paise": 49900,
                "list_price_paise": 69900,
                "validity_days": 30,
            },
            {"name": "Lifetime", "price_paise": 199900, "is_lifetime": True},
        ],
        **overrides,
    }


def _counts():
    return (Product.objects.count(), Plan.objects.count(), ProductTest.objects.count())


def _png(size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


# --- products: create, read ----------------------------------------------------------------


def test_create_product_with_plans_and_tests(staff_client):
    category = CategoryFactory()
    first, second = TestFactory(title="Mock 1"), TestFactory(title="Mock 2")
    body = _body(
        category=category.id,
        tests=[{"test": second.slug}, {"test": first.slug, "unlock_at": "2030-01-01T00:00:00Z"}],
    )

    response = staff_client.post(P, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["slug"] == "backend-engineering"
    assert data["category"] == category.id
    assert data["is_published"] is False
    assert data["published_at"] is None
    assert data["description_html"] == "<p>Build an <strong>API</strong>.</p>"
    assert data["tags"] == ["django", "postgresql"]
    assert data["image"] is None
    assert (data["price_from_paise"], data["price_to_paise"]) == (49900, 199900)
    assert data["is_free"] is False
    assert data["is_visible"] is False
    assert data["live_enrollments"] == 0
    assert [
        (p["name"], p["order"], p["validity_days"], p["is_lifetime"]) for p in data["plans"]
    ] == [
        ("1 month", 0, 30, False),
        ("Lifetime", 1, None, True),
    ]
    assert data["tests"] == [
        {"slug": second.slug, "title": "Mock 2", "order": 0, "unlock_at": None},
        {"slug": first.slug, "title": "Mock 1", "order": 1, "unlock_at": "2030-01-01T00:00:00Z"},
    ]
    assert _counts() == (1, 2, 2)


def test_slug_is_made_from_the_title_when_left_out(staff_client):
    body = _body()
    del body["slug"]

    response = staff_client.post(P, body, format="json")

    assert response.json()["slug"] == "backend-engineering"


@pytest.mark.parametrize("title", ["\u009f\u0018", "!!!", "— …"])
def test_a_title_that_makes_no_slug_is_refused_and_writes_nothing(staff_client, title):
    body = _body(title=title)
    del body["slug"]
    before = _counts()

    response = staff_client.post(P, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "slug" in response.json()["fields"]
    assert _counts() == before


def test_a_category_name_that_makes_no_slug_is_refused(staff_client):
    response = staff_client.post(C, {"name": "\u009f\u0018"}, format="json")

    assert response.status_code == 400
    assert "slug" in response.json()["fields"]
    assert not Category.objects.exists()


def test_list_includes_drafts_and_filters(staff_client):
    parent = CategoryFactory(slug="engineering")
    child = CategoryFactory(slug="backend", parent=parent)
    draft = ProductFactory(title="Django draft", slug="django-draft", category=child)
    live = PublishedProductFactory(title="SQL live", slug="sql-live", kind="course")
    ProductFactory(title="Other", slug="other-thing")

    def slugs(query=""):
        response = staff_client.get(f"{P}{query}")
        assert response.status_code == 200, response.json()
        return sorted(row["slug"] for row in response.json()["results"])

    assert slugs() == ["django-draft", "other-thing", "sql-live"]
    assert slugs("?is_published=false") == ["django-draft", "other-thing"]
    assert slugs("?is_published=true") == [live.slug]
    assert slugs("?kind=course") == [live.slug]
    assert slugs("?category=engineering") == [draft.slug]
    assert slugs("?category=nope") == []
    assert slugs("?q=DJANGO") == [draft.slug]
    assert slugs("?q=-thi") == ["other-thing"]


def test_list_refuses_bad_filters(staff_client):
    bad_kind = staff_client.get(f"{P}?kind=ebook")
    unknown = staff_client.get(f"{P}?colour=red")

    assert bad_kind.status_code == 400
    assert bad_kind.json()["fields"] == {"kind": ['"ebook" is not a valid choice.']}
    assert unknown.status_code == 400
    assert unknown.json()["fields"] == {"colour": ["Unknown field."]}


def test_list_query_count_does_not_grow_with_products(staff_client, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            product = ProductFactory()
            PlanFactory(product=product)
            PlanFactory(product=product, is_active=False)
            ProductTestFactory(product=product)
            ProductTestFactory(product=product)

    make(3)
    staff_client.get(P)  # warm the permission cache
    with CaptureQueriesContext(connection) as few:
        staff_client.get(P)
    make(27)

    with django_assert_max_num_queries(len(few)):
        response = staff_client.get(f"{P}?page_size=30")

    assert len(few) <= 5
    assert response.json()["count"] == 30
    assert all(
        len(row["plans"]) == 2 and len(row["tests"]) == 2 for row in response.json()["results"]
    )


def test_retrieve_shows_inactive_plans(staff_client):
    product = ProductFactory(slug="p")
    PlanFactory(product=product, name="Old", is_active=False)

    response = staff_client.get(f"{P}p/")

    assert response.status_code == 200
    assert [(p["name"], p["is_active"]) for p in response.json()["plans"]] == [("Old", False)]
    assert response.json()["price_from_paise"] is None


def test_unknown_product_is_404(staff_client):
    response = staff_client.get(f"{P}nope/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- products: refused input ---------------------------------------------------------------


def _plan(**overrides):
    return {"name": "Plan", "price_paise": 49900, "validity_days": 30, **overrides}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        (
            {"plans": [_plan(price_paise=-1)]},
            {"plans.0": ["price_paise: a price in paise, 0 or more."]},
        ),
        (
            {"plans": [_plan(), _plan(list_price_paise=100)]},
            {"plans.1": ["list_price_paise: the list price cannot be below the price."]},
        ),
        (
            {"plans": [_plan(is_lifetime=True)]},
            {"plans.0": ["validity_days: a lifetime plan has no validity in days."]},
        ),
        (
            {"plans": [_plan(validity_days=None)]},
            {
                "plans.0": [
                    "validity_days: give the validity in days (1 or more), or make it lifetime."
                ]
            },
        ),
        (
            {"plans": [_plan(validity_days=0)]},
            {"plans.0": ["validity_days: Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"plans": [_plan(currency="USD")]},
            {"plans.0": ["currency: Unknown field."]},
        ),
        (
            {"tests": [{"test": "no-such-test"}]},
            {"tests.0": ["test: Object with slug=no-such-test does not exist."]},
        ),
        ({"is_published": True}, {"is_published": ["Unknown field."]}),
        ({"colour": "red"}, {"colour": ["Unknown field."]}),
        ({"kind": "ebook"}, {"kind": ['"ebook" is not a valid choice.']}),
        (
            {"description_md": "<script>alert(1)</script>"},
            {"description_md": ["Remove the HTML that could run code ('<script')."]},
        ),
        (
            {"description_md": "Covers $\\frac{1}{2$ and $\\fracc{a}{b}$."},
            {
                "description_md": [
                    "Line 1, column 17: this { is not closed.",
                    "Line 1, column 26: unknown command \\fracc.",
                ]
            },
        ),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(staff_client, overrides, fields):
    response = staff_client.post(P, _body(**overrides), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == fields
    assert _counts() == (0, 0, 0)


def test_a_description_with_tex_is_served_as_mathml(staff_client):
    response = staff_client.post(
        P, _body(description_md="Kinematics: $v = u + at$, for ₹499 or $6."), format="json"
    )

    assert response.status_code == 201, response.json()
    html = response.json()["description_html"]
    assert html.startswith(
        '<p>Kinematics: <math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
    )
    assert html.endswith("</math>, for ₹499 or $6.</p>")


def test_create_refuses_a_test_listed_twice(staff_client):
    test = TestFactory()

    response = staff_client.post(
        P, _body(tests=[{"test": test.slug}, {"test": test.slug}]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"tests": ["A test is listed twice."]}
    assert _counts() == (0, 0, 0)


def test_create_refuses_a_duplicate_slug(staff_client):
    ProductFactory(slug="backend-engineering")

    response = staff_client.post(P, _body(), format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"slug": ["A product with this slug already exists."]}
    assert _counts() == (1, 0, 0)


def test_create_needs_kind_and_title(staff_client):
    response = staff_client.post(P, {"slug": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"kind", "title"}


# --- products: update --------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(staff_client):
    product = ProductFactory(slug="p", summary="Keep me", tags=["a"])
    plan = PlanFactory(product=product)

    response = staff_client.patch(f"{P}p/", {"title": "New title"}, format="json")

    assert response.status_code == 200, response.json()
    product.refresh_from_db()
    assert (product.title, product.summary, product.tags) == ("New title", "Keep me", ["a"])
    assert [p["id"] for p in response.json()["plans"]] == [plan.id]


def test_patch_keeps_plan_ids_and_replaces_the_rest(staff_client):
    product = ProductFactory(slug="p")
    kept = PlanFactory(product=product, name="Month")
    dropped = PlanFactory(product=product, name="Year")
    body = {
        "plans": [
            {"id": kept.id, "name": "Month", "price_paise": 59900, "validity_days": 31},
            {"name": "Lifetime", "price_paise": 99900, "is_lifetime": True},
        ]
    }

    response = staff_client.patch(f"{P}p/", body, format="json")

    assert response.status_code == 200, response.json()
    plans = response.json()["plans"]
    assert plans[0]["id"] == kept.id
    assert (plans[0]["price_paise"], plans[0]["validity_days"]) == (59900, 31)
    assert plans[1]["name"] == "Lifetime"
    assert not Plan.objects.filter(pk=dropped.pk).exists()
    assert response.json()["price_to_paise"] == 99900


def test_a_plan_with_enrollments_is_deactivated_not_deleted(staff_client):
    product = PublishedProductFactory(slug="p")
    bought = product.plans.get()
    EnrollmentFactory(plan=bought)
    body = {"plans": [{"name": "New", "price_paise": 29900, "validity_days": 30}]}

    response = staff_client.patch(f"{P}p/", body, format="json")

    assert response.status_code == 200, response.json()
    bought.refresh_from_db()
    assert bought.is_active is False
    plans = {p["name"]: (p["id"], p["is_active"]) for p in response.json()["plans"]}
    assert plans == {bought.name: (bought.id, False), "New": (plans["New"][0], True)}
    assert response.json()["price_from_paise"] == 29900
    assert response.json()["live_enrollments"] == 1


def test_patch_replaces_tests_in_order(staff_client):
    product = ProductFactory(slug="p")
    old = ProductTestFactory(product=product).test
    new = TestFactory()

    response = staff_client.patch(
        f"{P}p/", {"tests": [{"test": new.slug}, {"test": old.slug}]}, format="json"
    )

    assert [t["slug"] for t in response.json()["tests"]] == [new.slug, old.slug]


def test_patch_with_a_bad_plan_changes_nothing(staff_client):
    product = ProductFactory(slug="p", title="Before")
    plan = PlanFactory(product=product)
    body = {"title": "After", "plans": [{"id": plan.id, "name": "X", "price_paise": -5}]}

    response = staff_client.patch(f"{P}p/", body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"plans.0"}
    product.refresh_from_db()
    plan.refresh_from_db()
    assert (product.title, plan.price_paise, plan.name) == ("Before", 49900, plan.name)


def test_patch_with_someone_elses_plan_id_changes_nothing(staff_client):
    product = ProductFactory(slug="p", title="Before")
    other = PlanFactory()

    response = staff_client.patch(
        f"{P}p/", {"title": "After", "plans": [_plan(id=other.id)]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"plans.0": ["Unknown plan id."]}
    product.refresh_from_db()
    assert product.title == "Before"
    assert Plan.objects.count() == 1


def test_patch_refuses_a_slug_taken_by_another_product(staff_client):
    ProductFactory(slug="taken")
    ProductFactory(slug="p")

    response = staff_client.patch(f"{P}p/", {"slug": "taken"}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"slug": ["A product with this slug already exists."]}
    assert Product.objects.filter(slug="p").exists()


def test_a_published_product_cannot_lose_its_last_active_plan(staff_client):
    product = PublishedProductFactory(slug="p")
    plan = product.plans.get()

    response = staff_client.patch(
        f"{P}p/", {"plans": [_plan(id=plan.id, is_active=False)]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_publishable"
    plan.refresh_from_db()
    assert plan.is_active is True
    product.refresh_from_db()
    assert product.price_from_paise == 49900


# --- publish, unpublish, delete ---------------------------------------------------------------


def test_publish_and_unpublish(staff_client):
    PlanFactory(product=ProductFactory(slug="p"))

    published = staff_client.post(f"{P}p/publish/")
    unpublished = staff_client.post(f"{P}p/unpublish/")

    assert published.status_code == 200
    assert published.json()["is_published"] is True
    assert published.json()["is_visible"] is True
    assert published.json()["published_at"] is not None
    assert unpublished.json()["is_published"] is False
    assert unpublished.json()["published_at"] == published.json()["published_at"]


def test_publishing_without_an_active_plan_is_refused(staff_client):
    PlanFactory(product=ProductFactory(slug="p"), is_active=False)

    response = staff_client.post(f"{P}p/publish/")

    assert response.status_code == 409
    assert response.json() == {
        "code": "not_publishable",
        "detail": "A product needs at least one active plan to be published.",
    }
    assert Product.objects.get().is_published is False


def test_delete_a_draft_removes_its_plans_and_tests(staff_client):
    product = ProductFactory(slug="p")
    PlanFactory(product=product)
    ProductTestFactory(product=product)

    response = staff_client.delete(f"{P}p/")

    assert response.status_code == 204
    assert _counts() == (0, 0, 0)


def test_delete_refuses_published_or_enrolled_products(staff_client):
    PublishedProductFactory(slug="live")
    EnrollmentFactory(plan=PlanFactory(product=ProductFactory(slug="bought")))

    published = staff_client.delete(f"{P}live/")
    enrolled = staff_client.delete(f"{P}bought/")

    assert published.status_code == 409
    assert published.json()["code"] == "product_published"
    assert enrolled.status_code == 409
    assert enrolled.json()["code"] == "product_in_use"
    assert _counts() == (2, 2, 0)


# --- cover image -------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_upload_replace_and_remove_the_image(
    staff_client, media, django_capture_on_commit_callbacks
):
    ProductFactory(slug="p")

    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post(f"{P}p/image/", {"image": _png()}, format="multipart")
    first_name = Product.objects.get().image.name
    assert (media / first_name).is_file()
    with django_capture_on_commit_callbacks(execute=True):
        second = staff_client.post(f"{P}p/image/", {"image": _png()}, format="multipart")
    second_name = Product.objects.get().image.name
    assert (media / second_name).is_file()
    with django_capture_on_commit_callbacks(execute=True):
        removed = staff_client.delete(f"{P}p/image/")

    assert first.status_code == 200, first.json()
    # Absolute, as the schema's format: uri says (local storage answers a bare path).
    assert first.json()["image"] == f"http://testserver/media/{first_name}"
    assert first_name.startswith("products/")
    assert first_name.endswith(".png")
    assert second.status_code == 200
    assert second_name != first_name
    assert not (media / first_name).exists()
    assert removed.status_code == 200
    assert removed.json()["image"] is None
    assert Product.objects.get().image.name == ""
    assert not (media / second_name).exists()


def test_a_text_file_named_png_is_refused(staff_client, media):
    ProductFactory(slug="p")
    fake = SimpleUploadedFile("cover.png", b"not an image at all", content_type="image/png")

    response = staff_client.post(f"{P}p/image/", {"image": fake}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["image"]
    assert "not an image" in response.json()["fields"]["image"][0]
    assert Product.objects.get().image.name == ""
    assert list(media.iterdir()) == []


def test_an_oversized_image_is_refused(staff_client, media, settings):
    settings.IMAGE_MAX_BYTES = 100
    ProductFactory(slug="p")

    response = staff_client.post(
        f"{P}p/image/", {"image": _png(size=(200, 200))}, format="multipart"
    )

    assert response.status_code == 400
    assert "largest allowed" in response.json()["fields"]["image"][0]
    assert Product.objects.get().image.name == ""
    assert list(media.iterdir()) == []


def test_image_upload_needs_multipart_and_knows_its_fields(staff_client, media):
    ProductFactory(slug="p")

    as_json = staff_client.post(f"{P}p/image/", {"image": "x"}, format="json")
    extra = staff_client.post(f"{P}p/image/", {"image": _png(), "alt": "cover"}, format="multipart")

    assert as_json.status_code == 415
    assert extra.status_code == 400
    assert extra.json()["fields"] == {"alt": ["Unknown field."]}


# --- categories --------------------------------------------------------------------------------


def test_category_crud(staff_client):
    parent = CategoryFactory()

    created = staff_client.post(
        C, {"name": "Backend engineering", "parent": parent.id, "order": 2}, format="json"
    )
    pk = created.json()["id"]
    ProductFactory(category=Category.objects.get(pk=pk))
    listed = staff_client.get(C)
    changed = staff_client.patch(f"{C}{pk}/", {"description": "APIs."}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["slug"] == "backend-engineering"
    assert created.json()["parent"] == parent.id
    assert {row["id"]: row["product_count"] for row in listed.json()["results"]} == {
        parent.id: 0,
        pk: 1,
    }
    assert changed.status_code == 200
    assert changed.json()["description"] == "APIs."
    assert changed.json()["name"] == "Backend engineering"


def test_category_refusals(staff_client):
    parent = CategoryFactory(slug="taken")
    child = CategoryFactory(parent=parent)

    duplicate = staff_client.post(C, {"name": "X", "slug": "taken"}, format="json")
    cycle = staff_client.patch(f"{C}{parent.id}/", {"parent": child.id}, format="json")
    unknown = staff_client.post(C, {"name": "X", "colour": "red"}, format="json")
    in_use = staff_client.delete(f"{C}{parent.id}/")

    assert duplicate.status_code == 400
    assert duplicate.json()["fields"] == {"slug": ["A category with this slug already exists."]}
    assert cycle.status_code == 400
    assert cycle.json()["fields"] == {"parent": ["A category cannot sit under itself."]}
    assert unknown.json()["fields"] == {"colour": ["Unknown field."]}
    assert in_use.status_code == 409
    assert in_use.json()["code"] == "category_in_use"
    assert Category.objects.count() == 2
    assert Category.objects.get(pk=parent.pk).parent is None


def test_delete_an_empty_category(staff_client):
    category = CategoryFactory()

    response = staff_client.delete(f"{C}{category.id}/")

    assert response.status_code == 204
    assert not Category.objects.exists()


# --- permissions -------------------------------------------------------------------------------


def _endpoints():
    category = CategoryFactory()
    PlanFactory(product=ProductFactory(slug="p", category=category))
    return [
        ("get", C),
        ("post", C),
        ("get", f"{C}{category.id}/"),
        ("patch", f"{C}{category.id}/"),
        ("delete", f"{C}{category.id}/"),
        ("get", P),
        ("post", P),
        ("get", f"{P}p/"),
        ("patch", f"{P}p/"),
        ("delete", f"{P}p/"),
        ("post", f"{P}p/publish/"),
        ("post", f"{P}p/unpublish/"),
        ("post", f"{P}p/image/"),
        ("delete", f"{P}p/image/"),
    ]


def _state():
    return (*_counts(), Category.objects.count(), Product.objects.get().is_published)


def test_anonymous_callers_get_401_everywhere(api_client):
    for method, url in _endpoints():
        response = getattr(api_client, method)(url, {}, format="json")
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"


def test_learners_get_403_everywhere_and_nothing_changes(learner_client):
    endpoints = _endpoints()
    before = _state()

    for method, url in endpoints:
        response = getattr(learner_client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "permission_denied"
    assert _state() == before


def test_staff_without_catalogue_permissions_get_403_everywhere(bare_staff_client):
    endpoints = _endpoints()
    before = _state()

    for method, url in endpoints:
        response = getattr(bare_staff_client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
    assert _state() == before


def test_view_permission_alone_reads_but_cannot_write(bare_staff_client):
    user = bare_staff_client.handler._force_user
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "view_category"])
    )
    endpoints = _endpoints()
    before = _state()

    for method, url in endpoints:
        response = getattr(bare_staff_client, method)(url, {}, format="json")
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, (method, url)
    assert _state() == before


def test_publish_needs_change_not_add_permission(bare_staff_client):
    user = bare_staff_client.handler._force_user
    PlanFactory(product=ProductFactory(slug="p"))
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "add_product"])
    )
    refused = bare_staff_client.post(f"{P}p/publish/")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "change_product"])
    )
    del user._perm_cache, user._user_perm_cache
    allowed = bare_staff_client.post(f"{P}p/publish/")

    assert refused.status_code == 403
    assert allowed.status_code == 200
