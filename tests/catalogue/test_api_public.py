"""Public catalogue reads: visibility, filters, search, ordering, query counts, caching."""

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from catalogue import services
from catalogue.cache import catalogue_changed
from catalogue.models import Product
from tests.catalogue.factories import (
    CategoryFactory,
    PlanFactory,
    ProductFactory,
    ProductTestFactory,
    PublishedProductFactory,
)
from tests.testengine.factories import SectionFactory, SectionRuleFactory, TestFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/catalogue/products/"


def _slugs(response):
    assert response.status_code == 200, response.content
    return [p["slug"] for p in response.json()["results"]]


def test_only_published_products_with_an_active_plan_are_listed(api_client):
    visible = PublishedProductFactory(slug="visible")
    ProductFactory(slug="draft")
    PlanFactory(product=ProductFactory(slug="draft-with-plan"))
    no_active = PublishedProductFactory(slug="no-active-plan")
    no_active.plans.update(is_active=False)
    services.product_sync_derived(product_ids=[no_active.id])

    assert _slugs(api_client.get(P)) == [visible.slug]
    assert api_client.get(f"{P}draft-with-plan/").status_code == 404
    assert api_client.get(f"{P}no-active-plan/").json()["code"] == "not_found"


def test_the_list_shows_plans_and_prices_with_explicit_fields(api_client):
    product = PublishedProductFactory(slug="sql", tags=["sql"])
    PlanFactory(
        product=product,
        name="3 months",
        price_paise=99900,
        list_price_paise=149900,
        validity_days=90,
    )

    body = api_client.get(P).json()["results"][0]

    assert set(body) == {
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
    }
    assert (body["price_from_paise"], body["price_to_paise"]) == (49900, 99900)
    assert [p["name"] for p in body["plans"]][-1] == "3 months"
    assert body["plans"][-1]["currency"] == "INR"


def test_filters_combine(api_client):
    engineering = CategoryFactory(slug="engineering")
    backend = CategoryFactory(slug="backend", parent=engineering)
    hit = PublishedProductFactory(
        slug="hit",
        category=backend,
        kind="course",
        language="hi",
        level="beginner",
        tags=["django"],
    )
    PublishedProductFactory(slug="other-kind", category=backend, kind="program", tags=["django"])
    PublishedProductFactory(slug="other-category", kind="course", tags=["django"])
    free = PublishedProductFactory(slug="free", category=backend)
    free.plans.update(price_paise=0)
    services.product_sync_derived(product_ids=[free.id])

    assert _slugs(
        api_client.get(
            P + "?category=engineering&kind=course&language=hi&level=beginner&tag=django"
        )
    ) == ["hit"]
    assert _slugs(api_client.get(P + "?free=true")) == ["free"]
    assert "free" not in _slugs(api_client.get(P + "?free=false"))
    assert _slugs(api_client.get(P + "?category=nope")) == []
    assert hit.slug in _slugs(api_client.get(P + "?price_min=49900&price_max=49900"))
    assert _slugs(api_client.get(P + "?price_min=50000")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?price_min=abc", "price_min"),
        ("?price_min=-5", "price_min"),
        ("?price_min=500&price_max=100", "price_max"),
        ("?kind=spaceship", "kind"),
        ("?ordering=random()", "ordering"),
        ("?free=maybe", "free"),
        ("?page_size=100000", "page_size"),
        ("?evil=1", "evil"),
    ],
)
def test_garbage_filters_are_a_clear_400(api_client, query, field):
    response = api_client.get(P + query)

    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    "text", ["'; DROP TABLE catalogue_product; --", "(.*)+[", "a & | ! :*", "%%%", "\\", "🙂"]
)
def test_search_with_sql_or_regex_characters_never_fails(api_client, text):
    PublishedProductFactory(title="PostgreSQL Test Series")

    response = api_client.get(P, {"q": text})

    assert response.status_code == 200
    assert Product.objects.count() == 1


def test_search_ranks_title_matches_first_and_falls_back_to_prefixes(api_client):
    PublishedProductFactory(
        slug="in-summary", title="Backend basics", summary="Covers PostgreSQL indexes"
    )
    PublishedProductFactory(slug="in-title", title="PostgreSQL Test Series", summary="Mock tests")
    PublishedProductFactory(slug="unrelated", title="Django course")

    assert _slugs(api_client.get(P, {"q": "postgresql"})) == ["in-title", "in-summary"]
    assert _slugs(api_client.get(P, {"q": "postgr"})) == ["in-title", "in-summary"]
    assert _slugs(api_client.get(P, {"q": "zzzz"})) == []


def test_orderings(api_client):
    cheap = PublishedProductFactory(slug="cheap", sort_order=5)
    dear = PublishedProductFactory(slug="dear", sort_order=1, is_featured=True)
    dear.plans.update(price_paise=99900)
    old = PublishedProductFactory(slug="old", published_at=timezone.now() - timedelta(days=9))
    services.product_sync_derived(product_ids=[dear.id])
    Product.objects.filter(pk=cheap.pk).update(live_enrollments=7)

    assert _slugs(api_client.get(P + "?ordering=featured"))[0] == "dear"
    assert _slugs(api_client.get(P + "?ordering=-price"))[0] == "dear"
    assert _slugs(api_client.get(P + "?ordering=popularity"))[0] == "cheap"
    assert _slugs(api_client.get(P + "?ordering=newest"))[-1] == old.slug


def test_list_and_detail_take_a_constant_number_of_queries(
    api_client, auth_client, django_assert_max_num_queries, settings
):
    for _ in range(25):
        product = PublishedProductFactory()
        PlanFactory(product=product)
        for _ in range(3):
            ProductTestFactory(product=product)
    slug = Product.objects.first().slug
    # Measure the work itself, not the response cache.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    # count, page, plans
    with django_assert_max_num_queries(3):
        assert api_client.get(P + "?page_size=25").status_code == 200
    # + the ranked search's "any exact hit?" probe
    with django_assert_max_num_queries(4):
        assert api_client.get(P + "?page_size=25&ordering=price&q=product").status_code == 200
    # the token's user, product, plans, tests, question counts (rules, fixed), ownership
    with django_assert_max_num_queries(7):
        assert auth_client.get(f"{P}{slug}/").status_code == 200


def test_a_warm_list_only_reads_the_cache(
    api_client, auth_client, django_assert_num_queries, settings
):
    for _ in range(5):
        PublishedProductFactory()
    api_client.get(P)

    cache_reads = 0 if settings.REDIS_URL else 1  # version + entry: one database-cache read
    with django_assert_num_queries(cache_reads):
        assert api_client.get(P).status_code == 200
    # the list is public: a learner's token is not even read (no user lookup)
    with django_assert_num_queries(cache_reads):
        assert auth_client.get(P).status_code == 200


def test_a_hit_serves_the_very_bytes_of_the_miss_and_a_bad_query_is_never_cached(
    api_client, django_assert_num_queries, settings
):
    for _ in range(3):
        PublishedProductFactory()
    cold = api_client.get(P + "?ordering=price")
    warm = api_client.get(P + "?ordering=price")

    assert warm.content == cold.content
    assert warm["Content-Type"] == "application/json"
    assert warm.json()["count"] == 3
    for _ in range(2):  # refused each time: a refusal is not an entry
        refused = api_client.get(P + "?price_min=cheap")
        assert refused.status_code == 400
        assert refused.json()["fields"] == {"price_min": ["A valid integer is required."]}


def test_a_logged_in_detail_is_never_served_from_the_cache(auth_client, user):
    product = PublishedProductFactory(slug="mine")
    assert auth_client.get(f"{P}mine/").json()["ownership"]["owned"] is False

    services.enrollment_add(user=user, product=product, plan=product.plans.get(), source="grant")

    assert auth_client.get(f"{P}mine/").json()["ownership"]["owned"] is True


def test_detail_lists_tests_with_counts_never_questions(api_client):
    product = PublishedProductFactory(slug="series")
    test = TestFactory(title="Mock 1", duration_seconds=3600)
    section = SectionFactory(test=test)
    SectionRuleFactory(section=section, count=25)
    SectionRuleFactory(section=section, count=15)
    ProductTestFactory(product=product, test=test, unlock_at=timezone.now() + timedelta(days=3))

    body = api_client.get(f"{P}series/").json()

    assert body["tests"] == [
        {
            "slug": test.slug,
            "title": "Mock 1",
            "duration_seconds": 3600,
            "question_count": 40,
            "unlock_at": body["tests"][0]["unlock_at"],
            "unlocked": False,
        }
    ]
    assert body["ownership"] is None
    assert "choices" not in str(body)


def test_detail_tells_a_learner_whether_they_own_it(auth_client, user):
    product = PublishedProductFactory(slug="owned")
    enrollment, _ = services.enrollment_add(
        user=user, product=product, plan=product.plans.get(), source="purchase"
    )

    body = auth_client.get(f"{P}owned/").json()

    assert body["ownership"]["owned"] is True
    assert body["ownership"]["enrollment_id"] == str(enrollment.id)


def test_anonymous_responses_are_cached_and_invalidated_by_staff_edits(
    api_client, django_assert_num_queries, settings
):
    product = PublishedProductFactory(slug="cached", title="Before")
    first = api_client.get(f"{P}cached/")

    # Cache reads only: the version and the entry in one read — one query with the
    # database cache, none with Redis.
    with django_assert_num_queries(0 if settings.REDIS_URL else 1):
        again = api_client.get(f"{P}cached/")
    services.product_update(product=product, values={"title": "After"})
    plan = PlanFactory(product=product, price_paise=100)
    after = api_client.get(f"{P}cached/").json()

    assert first.json() == again.json()
    assert first["ETag"] == again["ETag"]
    assert after["title"] == "After"
    assert plan.id in [p["id"] for p in after["plans"]]
    assert api_client.get(P).json()["results"][0]["price_from_paise"] == 100


def _answer(response):
    """What a client sees of a response: status, headers (but the per-request id), body."""
    headers = {k: v for k, v in response.items() if k != "X-Request-ID"}
    return response.status_code, headers, response.content


@pytest.fixture
def drf_runs(monkeypatch):
    """Counts the requests that reach DRF."""
    from rest_framework.views import APIView

    calls = []
    dispatch = APIView.dispatch

    def counted(self, request, *args, **kwargs):
        calls.append(request.path)
        return dispatch(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "dispatch", counted)
    return calls


@pytest.mark.parametrize(
    "path", [P + "?ordering=price", f"{P}served/", "/api/v1/catalogue/categories/"]
)
def test_a_hit_is_answered_before_drf_exactly_as_drf_answers_it(api_client, drf_runs, path):
    PublishedProductFactory(slug="served")
    CategoryFactory()

    miss = api_client.get(path)
    hit = api_client.get(path)
    etag = miss["ETag"]
    catalogue_changed()  # a new version, the same body: DRF rebuilds it and answers 304
    drf_not_modified = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
    not_modified = api_client.get(path, HTTP_IF_NONE_MATCH=etag)

    assert len(drf_runs) == 2  # the miss and the rebuild; neither hit reached DRF
    assert miss.status_code == 200
    assert _answer(hit) == _answer(miss)
    assert drf_not_modified.status_code == 304
    assert _answer(not_modified) == _answer(drf_not_modified)
    assert "Content-Type" not in not_modified


def test_a_product_page_with_a_token_always_goes_through_drf(api_client, drf_runs):
    PublishedProductFactory(slug="served")
    api_client.get(f"{P}served/")  # cached for anonymous callers
    api_client.get(f"{P}served/")

    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    refused = api_client.get(f"{P}served/")
    listed = api_client.get(P)  # the list reads no token: a stale one is not a 401

    assert refused.status_code == 401
    assert refused.json()["code"] == "token_not_valid"
    assert drf_runs == [f"{P}served/", f"{P}served/", P]
    assert listed.status_code == 200


def test_an_unchanged_catalogue_answers_304_to_a_matching_etag(api_client):
    PublishedProductFactory()
    etag = api_client.get(P)["ETag"]

    response = api_client.get(P, HTTP_IF_NONE_MATCH=etag)
    product = Product.objects.get()
    services.product_update(product=product, values={"summary": "changed"})
    changed = api_client.get(P, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert changed.status_code == 200


def test_editing_a_test_invalidates_product_details(api_client):
    product = PublishedProductFactory(slug="series")
    row = ProductTestFactory(product=product)
    api_client.get(f"{P}series/")

    row.test.title = "Renamed mock"
    row.test.save()

    assert api_client.get(f"{P}series/").json()["tests"][0]["title"] == "Renamed mock"


def test_category_tree(api_client):
    root = CategoryFactory(name="Engineering", slug="engineering", order=0)
    CategoryFactory(name="Backend", slug="backend", parent=root)
    CategoryFactory(name="Placement prep", slug="placement", order=1)

    body = api_client.get("/api/v1/catalogue/categories/").json()

    assert [c["slug"] for c in body] == ["engineering", "placement"]
    assert [c["slug"] for c in body[0]["children"]] == ["backend"]
    assert body[0]["children"][0]["children"] == []


def test_category_tree_refuses_parameters_it_does_not_support(api_client):
    response = api_client.get("/api/v1/catalogue/categories/?parent=3")

    assert response.status_code == 400
    assert response.json()["fields"] == {"parent": ["Unknown field."]}


def test_the_fast_list_rows_match_the_documented_serializer(api_client):
    from catalogue.api.serializers import ProductListSerializer
    from catalogue.selectors import active_plans_prefetch

    product = PublishedProductFactory(
        slug="same", tags=["sql"], category=CategoryFactory(), image="products/cover.png"
    )
    PlanFactory(product=product, price_paise=0, is_lifetime=True, validity_days=None)
    PlanFactory(product=product, is_active=False)

    listed = api_client.get(P).json()["results"][0]
    documented = ProductListSerializer(
        Product.objects.prefetch_related(active_plans_prefetch()).get(pk=product.pk),
        context={"request": RequestFactory().get(P)},
    ).data

    assert listed == documented
    assert listed["image"] == "http://testserver/media/products/cover.png"


def test_product_detail_refuses_parameters_so_random_ones_cannot_flood_the_cache(api_client):
    PublishedProductFactory(slug="p")

    response = api_client.get(f"{P}p/?x=123")

    assert response.status_code == 400
    assert response.json()["fields"] == {"x": ["Unknown field."]}


def test_the_etag_follows_the_body_when_an_unlock_date_passes(api_client, settings):
    product = PublishedProductFactory(slug="timed")
    row = ProductTestFactory(product=product, unlock_at=timezone.now() + timedelta(hours=1))
    before = api_client.get(f"{P}timed/")
    ProductTestFactory._meta.model.objects.filter(pk=row.pk).update(
        unlock_at=timezone.now() - timedelta(seconds=1)
    )  # as if the hour had passed: no catalogue write, so the entry just expires
    from django.core.cache import cache

    cache.clear()

    after = api_client.get(f"{P}timed/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after.json()["tests"][0]["unlocked"] is True
    assert after["ETag"] != before["ETag"]
