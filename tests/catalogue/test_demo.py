"""The demo catalogue that ``make run`` seeds: idempotent, publishable, and the demo learner
can sit what their enrollments grant."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

import accounts.demo
import testengine.demo
from accounts.models import User
from catalogue import demo
from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.selectors import live_enrollments, public_products
from sessions_app.policy_sql import has_access
from testengine.models import Test

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed accounts, the test bank and the catalogue once for the module (a few seconds),
    inside a transaction rolled back afterwards; each test runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        accounts.demo.seed(io.StringIO())
        testengine.demo.seed(io.StringIO())
        out = io.StringIO()
        demo.seed(out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def learner(seeded) -> User:
    return User.objects.get(email=accounts.demo.DEMO_LEARNER["email"])


def _snapshot() -> dict[str, object]:
    return {
        "categories": Category.objects.count(),
        "products": Product.objects.count(),
        "published": Product.objects.filter(is_published=True).count(),
        "plans": Plan.objects.count(),
        "product_tests": ProductTest.objects.count(),
        "enrollments": sorted(
            Enrollment.objects.values_list("product__slug", "source", "starts_at", "expires_at")
        ),
    }


def test_first_seed_creates_everything_in_one_line(seeded):
    assert seeded == (
        "demo catalogue: 5 categories (5 new), 7 products (7 new; 6 published), "
        "2 live learner enrollments (2 new)\n"
    )


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    out = io.StringIO()

    demo.seed(out)

    assert _snapshot() == before
    assert out.getvalue() == (
        "demo catalogue: 5 categories (0 new), 7 products (0 new; 6 published), "
        "2 live learner enrollments (0 new)\n"
    )


def test_the_category_tree(seeded):
    tree = dict(Category.objects.values_list("slug", "parent__slug"))

    assert tree == {
        "engineering": None,
        "backend": "engineering",
        "databases": "engineering",
        "security": "engineering",
        "placement-prep": None,
    }


def test_published_demo_products_each_have_an_active_plan_and_the_draft_is_hidden(seeded):
    published = Product.objects.filter(is_published=True)

    assert published.count() == 6
    for product in published:
        assert product.plans.filter(is_active=True).exists(), product.slug
        assert product.price_from_paise is not None, product.slug
        assert product.description_html.startswith("<p>"), product.slug
        assert product.category is not None, product.slug
    assert set(public_products().values_list("slug", flat=True)) == set(
        published.values_list("slug", flat=True)
    )
    draft = Product.objects.get(slug="nestjs-test-series")
    assert not draft.is_published
    assert not draft.product_tests.exists()  # the bank has no NestJS questions


def test_published_demo_products_contain_only_published_demo_tests(seeded):
    tests = Test.objects.filter(
        pk__in=ProductTest.objects.filter(product__is_published=True).values("test")
    )

    assert set(tests.values_list("slug", flat=True)) == {
        "django-fundamentals-quiz",
        "backend-engineering-mock-test",
        "postgresql-diagnostic",
        "security-drill",
        "adaptive-placement-test",
        "science-sampler",
    }
    assert all(test.is_published for test in tests)


def test_the_program_has_one_two_and_three_month_plans(seeded):
    program = Product.objects.get(slug="backend-engineering-internship-program")

    plans = list(
        program.plans.values_list("name", "price_paise", "list_price_paise", "validity_days")
    )

    assert program.kind == Product.Kind.PROGRAM
    assert program.is_featured
    assert plans == [
        ("1 month", 499_900, 699_900, 30),
        ("2 months", 899_900, 1_399_800, 60),
        ("3 months", 1_199_900, 2_099_700, 90),
    ]
    assert (program.price_from_paise, program.price_to_paise) == (499_900, 1_199_900)
    assert "<table>" in program.description_html


def test_the_free_diagnostic_is_free_for_life(seeded):
    product = Product.objects.get(slug="backend-diagnostic")

    assert product.is_free
    assert product.price_from_paise == product.price_to_paise == 0
    assert list(product.plans.values_list("price_paise", "is_lifetime")) == [(0, True)]
    assert list(product.product_tests.values_list("test__slug", flat=True)) == [
        "postgresql-diagnostic",
        "adaptive-placement-test",
        "science-sampler",
    ]


def test_the_learner_has_the_two_live_enrollments(learner):
    admin = User.objects.get(email=accounts.demo.DEMO_STAFF["email"])

    live = {e.product.slug: e for e in live_enrollments(user=learner).select_related("product")}

    assert set(live) == {"backend-diagnostic", "postgresql-test-series"}
    free, grant = live["backend-diagnostic"], live["postgresql-test-series"]
    assert (free.source, free.expires_at, free.plan.price_paise) == ("free", None, 0)
    assert (grant.source, grant.granted_by) == ("grant", admin)
    assert grant.expires_at - grant.starts_at == timedelta(days=30)
    assert Product.objects.get(slug="postgresql-test-series").live_enrollments == 1


def test_the_learner_may_sit_what_the_enrollments_grant_and_nothing_else(learner):
    tests = {test.slug: test for test in Test.objects.filter(slug__in=testengine.demo.DEMO_TESTS)}

    assert has_access(learner, tests["postgresql-diagnostic"]) is True
    assert has_access(learner, tests["backend-engineering-mock-test"]) is True  # the grant
    assert has_access(learner, tests["security-drill"]) is False
    assert has_access(None, tests["postgresql-diagnostic"]) is True  # free for anyone
    assert has_access(None, tests["science-sampler"]) is True  # in the free diagnostic


def test_a_lapsed_grant_is_renewed_but_a_live_one_never_extended(learner):
    # given the learner's grant ran out ten days ago
    grant = Enrollment.objects.get(user=learner, product__slug="postgresql-test-series")
    now = timezone.now()
    Enrollment.objects.filter(pk=grant.pk).update(
        starts_at=now - timedelta(days=40), expires_at=now - timedelta(days=10)
    )

    # when the demo is seeded again
    out = io.StringIO()
    demo.seed(out)

    # then the same enrollment is live again for 30 days from now, and a further seed
    # leaves it as it is
    grant.refresh_from_db()
    assert grant.is_live()
    assert timedelta(days=29, hours=23) < grant.expires_at - now <= timedelta(days=30, minutes=1)
    assert "(1 new)" in out.getvalue()
    demo.seed(io.StringIO())
    assert Enrollment.objects.get(pk=grant.pk).expires_at == grant.expires_at
    assert Enrollment.objects.filter(user=learner).count() == 2
