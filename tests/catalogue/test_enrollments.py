"""Enrolment: free plans, extensions, grants, revocation, access, concurrency."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue import services
from catalogue.errors import CatalogueInvalid
from catalogue.models import Enrollment, Product
from sessions_app.policy_sql import has_access
from tests.accounts.factories import StaffFactory, UserFactory
from tests.catalogue.factories import (
    EnrollmentFactory,
    PlanFactory,
    ProductFactory,
    ProductTestFactory,
    PublishedProductFactory,
)

pytestmark = pytest.mark.django_db

P = "/api/v1/catalogue/products/"
ME = "/api/v1/me/enrollments/"


def _free_product(slug="free", **plan):
    product = PublishedProductFactory(slug=slug)
    product.plans.update(price_paise=0, **plan)
    services.product_sync_derived(product_ids=[product.id])
    return product, product.plans.get()


def test_enrolling_in_a_free_plan_is_idempotent(auth_client, user):
    product, plan = _free_product()

    first = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")
    second = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")

    assert first.status_code == 201
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["source"] == "free"
    assert first.json()["is_live"] is True
    assert Enrollment.objects.filter(user=user).count() == 1
    product.refresh_from_db()
    assert product.live_enrollments == 1


def test_a_paid_plan_points_to_orders_and_enrolls_nobody(auth_client):
    product = PublishedProductFactory(slug="paid")

    response = auth_client.post(f"{P}paid/enroll/", {"plan": product.plans.get().id}, format="json")

    assert response.status_code == 402
    assert response.json()["code"] == "payment_required"
    assert "/api/v1/orders/" in response.json()["detail"]
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize("case", ["draft", "inactive", "foreign", "garbage", "anonymous"])
def test_enrol_refusals_change_nothing(auth_client, case):
    product, plan = _free_product()
    url, body, client = f"{P}free/enroll/", {"plan": plan.id}, auth_client
    expected = {
        "draft": 404,
        "inactive": 409,
        "foreign": 400,
        "garbage": 400,
        "anonymous": 401,
    }[case]
    if case == "draft":
        Product.objects.filter(pk=product.pk).update(is_published=False)
    elif case == "inactive":
        plan.is_active = False
        plan.save()
    elif case == "foreign":
        body = {"plan": PlanFactory(price_paise=0).id}
    elif case == "garbage":
        body = {"plan": "one"}
    else:
        client = APIClient()

    response = client.post(url, body, format="json")

    assert response.status_code == expected
    assert Enrollment.objects.count() == 0


def test_my_enrollments_are_mine_only_with_their_tests(
    auth_client, user, django_assert_max_num_queries
):
    mine = EnrollmentFactory(user=user)
    ProductTestFactory(product=mine.product)
    ProductTestFactory(product=mine.product, unlock_at=timezone.now() + timedelta(days=1))
    EnrollmentFactory(user=UserFactory())
    for _ in range(5):
        other = EnrollmentFactory(user=user)
        ProductTestFactory(product=other.product)

    with django_assert_max_num_queries(6):
        response = auth_client.get(ME)

    results = response.json()["results"]
    assert response.json()["count"] == 6
    assert {r["id"] for r in results} == {
        str(pk) for pk in Enrollment.objects.filter(user=user).values_list("id", flat=True)
    }
    first = next(r for r in results if r["id"] == str(mine.id))
    assert [t["unlocked"] for t in first["tests"]] == [True, False]


def test_my_enrollments_needs_login(api_client):
    assert api_client.get(ME).status_code == 401


def test_only_one_current_enrollment_per_learner_and_product_is_a_constraint():
    enrollment = EnrollmentFactory()

    with pytest.raises(IntegrityError):
        Enrollment.objects.create(
            user=enrollment.user,
            product=enrollment.product,
            source="grant",
            starts_at=timezone.now(),
        )


def test_buying_again_extends_from_the_current_expiry():
    enrollment = EnrollmentFactory()
    plan = enrollment.plan
    before = enrollment.expires_at

    again, created = services.enrollment_add(
        user=enrollment.user, product=enrollment.product, plan=plan, source="purchase"
    )

    assert created is False
    assert again.id == enrollment.id
    assert again.expires_at == before + timedelta(days=plan.validity_days)


def test_buying_after_expiry_restarts_from_now():
    enrollment = EnrollmentFactory()
    past = timezone.now() - timedelta(days=40)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        starts_at=past, expires_at=past + timedelta(days=30)
    )

    again, _ = services.enrollment_add(
        user=enrollment.user, product=enrollment.product, plan=enrollment.plan, source="purchase"
    )

    assert again.is_live()
    assert abs((again.expires_at - timezone.now()) - timedelta(days=30)) < timedelta(minutes=1)


def test_a_lifetime_plan_makes_access_lifetime():
    enrollment = EnrollmentFactory()
    lifetime = PlanFactory(product=enrollment.product, is_lifetime=True, validity_days=None)

    again, _ = services.enrollment_add(
        user=enrollment.user, product=enrollment.product, plan=lifetime, source="purchase"
    )

    assert again.expires_at is None


def test_revoking_ends_access_and_a_later_purchase_starts_afresh():
    enrollment = EnrollmentFactory()
    row = ProductTestFactory(product=enrollment.product)
    assert has_access(enrollment.user, row.test)

    services.enrollment_revoke(enrollment=enrollment, reason="refund")
    fresh, created = services.enrollment_add(
        user=enrollment.user, product=enrollment.product, plan=enrollment.plan, source="purchase"
    )

    enrollment.refresh_from_db()
    assert enrollment.revoked_at is not None
    assert created is True
    assert fresh.id != enrollment.id


def test_staff_grants_are_marked_and_may_set_days():
    product = PublishedProductFactory()
    staff = StaffFactory()
    learner = UserFactory()

    enrollment = services.enrollment_grant(user=learner, product=product, by=staff, days=7)

    assert (enrollment.source, enrollment.granted_by) == ("grant", staff)
    assert abs((enrollment.expires_at - timezone.now()) - timedelta(days=7)) < timedelta(minutes=1)
    with pytest.raises(CatalogueInvalid):
        services.enrollment_grant(user=learner, product=product, by=staff, days=0)


def test_has_access_rules():
    learner = UserFactory()
    paid = PublishedProductFactory()
    locked = ProductTestFactory(product=paid, unlock_at=timezone.now() + timedelta(days=2))
    open_row = ProductTestFactory(product=paid)
    free_product, _ = _free_product(slug="free-one")
    free_row = ProductTestFactory(product=free_product)
    draft_free = ProductFactory()
    PlanFactory(product=draft_free, price_paise=0)
    hidden_row = ProductTestFactory(product=draft_free)

    assert not has_access(learner, open_row.test)
    assert has_access(learner, free_row.test)
    assert has_access(None, free_row.test)
    assert not has_access(learner, hidden_row.test)
    EnrollmentFactory(user=learner, plan=paid.plans.get())
    assert has_access(learner, open_row.test)
    assert not has_access(learner, locked.test)
    Enrollment.objects.filter(user=learner).update(
        starts_at=timezone.now() - timedelta(days=31), expires_at=timezone.now() - timedelta(days=1)
    )
    assert not has_access(learner, open_row.test)


@pytest.mark.django_db(transaction=True)
def test_concurrent_free_enrolments_create_one_enrollment():
    product, plan = _free_product(slug="race")
    learner = UserFactory()
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def attempt() -> None:
        client = APIClient()
        client.force_authenticate(learner)
        barrier.wait()
        try:
            statuses.append(
                client.post(f"{P}race/enroll/", {"plan": plan.id}, format="json").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 200, 201]
    assert Enrollment.objects.filter(user=learner, product=product).count() == 1


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"is_lifetime": True, "validity_days": 0}, "lifetime plan has no validity"),
        ({"is_lifetime": False, "validity_days": -5}, "1 or more"),
        ({"is_lifetime": False, "validity_days": None}, "1 or more"),
        ({"price_paise": 500, "list_price_paise": 400, "validity_days": 30}, "below the price"),
        ({"price_paise": -1, "validity_days": 30}, "0 or more"),
    ],
)
def test_plans_that_cannot_be_sold_right_are_refused_and_nothing_is_saved(plan, message):
    body = {"name": "Plan", "price_paise": 100, **plan}

    with pytest.raises(CatalogueInvalid) as error:
        services.product_create(values={"kind": "course", "title": "X"}, plans=[body])

    assert message in error.value.fields["plans.0"][0]
    assert Product.objects.count() == 0


def test_a_grant_refuses_a_plan_of_another_product():
    product = PublishedProductFactory()
    other_plan = PlanFactory()

    with pytest.raises(CatalogueInvalid):
        services.enrollment_grant(
            user=UserFactory(), product=product, by=StaffFactory(), plan=other_plan
        )

    assert Enrollment.objects.count() == 0


def test_a_grant_extending_a_purchase_keeps_its_provenance():
    enrollment = EnrollmentFactory()

    services.enrollment_grant(
        user=enrollment.user, product=enrollment.product, by=StaffFactory(), days=5
    )

    enrollment.refresh_from_db()
    assert enrollment.source == "purchase"


def test_a_free_trial_plan_beside_paid_plans_does_not_open_the_product_to_everyone():
    product = PublishedProductFactory()  # a paid plan
    PlanFactory(product=product, price_paise=0, validity_days=7)
    row = ProductTestFactory(product=product)

    assert not has_access(None, row.test)
    assert not has_access(UserFactory(), row.test)


def test_draft_tests_are_not_accessible_even_in_a_free_product():
    product, _ = _free_product(slug="free-drafts")
    row = ProductTestFactory(product=product)
    row.test.is_published = False
    row.test.save()

    assert not has_access(UserFactory(), row.test)


def _lapse(enrollment):
    Enrollment.objects.filter(pk=enrollment.pk).update(
        starts_at=timezone.now() - timedelta(days=30), expires_at=timezone.now() - timedelta(days=1)
    )


def test_a_free_trial_is_once_per_learner_even_after_it_lapses(auth_client, user):
    _product, plan = _free_product(validity_days=7, is_lifetime=False)
    first = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")
    assert first.status_code == 201
    enrollment = Enrollment.objects.get(user=user)
    _lapse(enrollment)
    before = Enrollment.objects.values_list("pk", "starts_at", "expires_at", "source")
    before = list(before)

    again = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "trial_used"
    assert set(again.json()) >= {"code", "detail"}
    assert list(Enrollment.objects.values_list("pk", "starts_at", "expires_at", "source")) == before
    # Another learner's trial is untouched by this one's.
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.post(f"{P}free/enroll/", {"plan": plan.id}, format="json").status_code == 201


def test_a_revoked_trial_cannot_be_taken_again_but_staff_can_still_grant(auth_client, user):
    product, plan = _free_product(validity_days=7, is_lifetime=False)
    auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")
    services.enrollment_revoke(enrollment=Enrollment.objects.get(user=user))

    again = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")
    granted = services.enrollment_grant(user=user, product=product, by=StaffFactory(), days=7)

    assert again.json()["code"] == "trial_used"
    assert granted.is_live()
    assert granted.source == "grant"


def test_a_learner_who_already_bought_the_product_gets_no_trial(auth_client, user):
    product, plan = _free_product(validity_days=7, is_lifetime=False)
    _lapse(EnrollmentFactory(user=user, product=product, plan=plan, source="purchase"))

    response = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "trial_used"


def test_a_lifetime_free_plan_is_not_a_trial_and_can_be_taken_after_a_revoke(auth_client, user):
    _product, plan = _free_product(validity_days=None, is_lifetime=True)
    auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")
    services.enrollment_revoke(enrollment=Enrollment.objects.get(user=user))

    response = auth_client.post(f"{P}free/enroll/", {"plan": plan.id}, format="json")

    assert response.status_code == 201
