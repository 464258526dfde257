"""The learner's tests API: ``GET tests/`` (what I may sit) and ``GET tests/{slug}/``."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Enrollment, Product, ProductTest
from sessions_app import services
from sessions_app.models import AttemptOverride, ExamSession
from sessions_app.policy_sql import accessible_tests, has_access
from testengine.models import Section, Test
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import (
    EnrollmentFactory,
    PlanFactory,
    ProductTestFactory,
)
from tests.sessions_app.factories import json_keys, sittable_test
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/tests/"
SECRET_KEYS = ("is_correct", "explanation_html", "numeric_answer", "accepted_answers", "paper")


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _detail(client, test):
    return client.get(f"{LIST}{test.slug}/")


def _rows(client, **params) -> dict[str, dict]:
    response = client.get(LIST, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return {row["slug"]: row for row in response.json()["results"]}


def _product(test):
    return ProductTest.objects.get(test=test).product


def _enroll(user, test, **kwargs) -> Enrollment:
    return EnrollmentFactory(user=user, plan=_product(test).plans.get(), **kwargs)


def _sit(user, test, *, submit=True) -> ExamSession:
    session, _ = services.session_start(user=user, test_slug=test.slug)
    if submit:
        session = services.session_submit(user=user, session_id=session.id)
    return session


def _start(client, test):
    """What starting the test answers: (status, error code or None)."""
    response = client.post(f"{LIST}{test.slug}/sessions/")
    return response.status_code, response.json().get("code")


# --- access ----------------------------------------------------------------------------------


def test_the_list_holds_exactly_the_tests_has_access_allows():
    learner = UserFactory()
    now = timezone.now()
    free = sittable_test()
    bought = sittable_test(free=False)
    _enroll(learner, bought)
    lifetime_grant = sittable_test(free=False)
    Enrollment.objects.create(
        user=learner, product=_product(lifetime_grant), source=Enrollment.Source.GRANT
    )
    sittable_test(free=False)  # not bought
    expired = sittable_test(free=False)
    _enroll(learner, expired, starts_at=now - timedelta(days=40))
    revoked = sittable_test(free=False)
    _enroll(learner, revoked, revoked_at=now)
    future_enrollment = sittable_test(free=False)
    _enroll(learner, future_enrollment, starts_at=now + timedelta(days=1))
    someone_elses = sittable_test(free=False)
    _enroll(UserFactory(), someone_elses)
    locked = sittable_test()
    ProductTest.objects.filter(test=locked).update(unlock_at=now + timedelta(days=1))
    unlocked = sittable_test(free=False)
    ProductTest.objects.filter(test=unlocked).update(unlock_at=now - timedelta(days=1))
    _enroll(learner, unlocked)
    unpublished = sittable_test()
    Test.objects.filter(pk=unpublished.pk).update(is_published=False)
    # A ₹0 trial next to a paid plan opens the test only to those enrolled in it.
    trial = sittable_test(free=False)
    PlanFactory(product=_product(trial), price_paise=0)
    hidden_product = sittable_test()
    Product.objects.filter(pk=_product(hidden_product).pk).update(is_published=False)
    # One test in two products: listed once.
    ProductTestFactory(product=_product(bought), test=free)

    rows = _rows(_client(learner))

    assert set(rows) == {free.slug, bought.slug, lifetime_grant.slug, unlocked.slug}
    for test in Test.objects.filter(is_published=True):
        assert (test.slug in rows) is has_access(learner, test), test.slug
    # has_access runs the rule compiled once: the same answer as the ORM's query, for a
    # learner and for an anonymous caller, on every test.
    for test in Test.objects.all():
        for who in (learner, None):
            orm = accessible_tests(user=who).filter(pk=test.pk).exists()
            assert has_access(who, test) is orm, (test.slug, who)


def test_the_list_needs_a_login():
    sittable_test()

    response = APIClient().get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_detail_of_a_test_not_mine_to_sit_is_not_found():
    learner = UserFactory()
    client = _client(learner)
    paid = sittable_test(free=False)
    _enroll(UserFactory(), paid)
    unpublished = sittable_test()
    Test.objects.filter(pk=unpublished.pk).update(is_published=False)
    draft = TestFactory()

    for slug in (paid.slug, unpublished.slug, draft.slug, "no-such-test"):
        response = client.get(f"{LIST}{slug}/")
        assert response.status_code == 404, slug
        assert response.json() == {"code": "not_found", "detail": "No such test."}
    not_a_slug = client.get(f"{LIST}%C3%9Cn%C3%AFcode/")  # the URL pattern refuses it
    assert (not_a_slug.status_code, not_a_slug.json()["code"]) == (404, "not_found")
    assert APIClient().get(f"{LIST}{paid.slug}/").status_code == 401


def test_an_unlocked_or_enrolled_test_is_found_and_the_sub_routes_still_work():
    learner = UserFactory()
    client = _client(learner)
    test = sittable_test(free=False)
    _enroll(learner, test)

    assert _detail(client, test).status_code == 200
    assert client.post(f"{LIST}{test.slug}/sessions/").status_code == 201
    assert client.get(f"{LIST}{test.slug}/leaderboard/").status_code == 200


# --- sitting state ---------------------------------------------------------------------------


def test_a_fresh_test_can_be_started():
    test = sittable_test(questions=6, draw=4, max_attempts=3, duration_seconds=1800)

    row = _rows(_client(UserFactory()))[test.slug]

    assert row == {
        "slug": test.slug,
        "title": test.title,
        "mode": "random",
        "duration_seconds": 1800,
        "question_count": 4,
        "available_from": None,
        "available_until": None,
        "max_attempts": 3,
        "attempts_used": 0,
        "attempts_left": 3,
        "open_session": None,
        "can_start": True,
        "reason": None,
        "next_attempt_at": None,
        "best_result": None,
        "last_result": None,
    }


def test_attempts_results_and_open_session_are_the_learners_own():
    test = sittable_test(max_attempts=5)
    learner, other = UserFactory(), UserFactory()
    first = _sit(learner, test)
    second = _sit(learner, test)
    ExamSession.objects.filter(pk=first.pk).update(score=Decimal("3.00"))
    ExamSession.objects.filter(pk=second.pk).update(score=Decimal("1.00"))
    open_one = _sit(learner, test, submit=False)
    _sit(other, test)
    _sit(other, test, submit=False)

    row = _rows(_client(learner))[test.slug]

    assert (row["attempts_used"], row["attempts_left"]) == (3, 2)
    assert row["open_session"] == str(open_one.id)
    assert (row["can_start"], row["reason"]) == (True, None)  # starting resumes it
    assert row["best_result"] == {
        "session": str(first.id),
        "attempt": 1,
        "score": "3.00",
        "max_score": f"{first.max_score:.2f}",
        "percentage": f"{first.percentage:.2f}",
        "submitted_at": first.submitted_at.isoformat().replace("+00:00", "Z"),
    }
    assert row["last_result"]["session"] == str(second.id)
    assert row["last_result"]["score"] == "1.00"

    theirs = _rows(_client(other))[test.slug]
    assert (theirs["attempts_used"], theirs["attempts_left"]) == (2, 3)
    assert theirs["best_result"]["session"] not in (str(first.id), str(second.id))

    newcomer = _rows(_client(UserFactory()))[test.slug]
    assert (newcomer["attempts_used"], newcomer["open_session"], newcomer["best_result"]) == (
        0,
        None,
        None,
    )


def test_best_result_on_a_tie_is_the_earlier_attempt():
    test = sittable_test()
    learner = UserFactory()
    first, second = _sit(learner, test), _sit(learner, test)
    ExamSession.objects.filter(pk__in=[first.pk, second.pk]).update(score=Decimal("2.00"))

    row = _rows(_client(learner))[test.slug]

    assert row["best_result"]["session"] == str(first.id)
    assert row["last_result"]["session"] == str(second.id)


def test_attempts_exhausted_counts_extra_attempts_granted():
    test = sittable_test(max_attempts=1)
    learner = UserFactory()
    client = _client(learner)
    _sit(learner, test)

    row = _rows(client)[test.slug]
    assert (row["attempts_left"], row["can_start"], row["reason"]) == (
        0,
        False,
        "attempts_exhausted",
    )
    assert _start(client, test) == (409, "attempts_exhausted")

    AttemptOverride.objects.create(user=learner, test=test, extra_attempts=2)
    AttemptOverride.objects.create(user=UserFactory(), test=test, extra_attempts=9)
    row = _rows(client)[test.slug]
    assert (row["attempts_used"], row["attempts_left"], row["can_start"]) == (1, 2, True)
    assert _start(client, test)[0] == 201


def test_min_gap_gives_the_time_of_the_next_attempt():
    test = sittable_test(min_gap_seconds=3600)
    learner = UserFactory()
    client = _client(learner)
    session = _sit(learner, test)

    row = _rows(client)[test.slug]

    assert (row["can_start"], row["reason"]) == (False, "attempt_too_soon")
    opens = session.submitted_at + timedelta(seconds=3600)
    assert row["next_attempt_at"] == opens.isoformat().replace("+00:00", "Z")
    assert row["attempts_left"] is None
    assert _start(client, test)[1] == "attempt_too_soon"

    ExamSession.objects.filter(pk=session.pk).update(
        submitted_at=timezone.now() - timedelta(seconds=3601)
    )
    row = _rows(client)[test.slug]
    assert (row["can_start"], row["reason"], row["next_attempt_at"]) == (True, None, None)


def test_the_availability_window_and_adaptive_mode():
    now = timezone.now()
    learner = UserFactory()
    client = _client(learner)
    not_open = sittable_test(available_from=now + timedelta(days=1))
    closed = sittable_test(
        available_from=now - timedelta(days=2), available_until=now - timedelta(seconds=1)
    )
    adaptive = TestFactory(mode=Test.Mode.ADAPTIVE, is_published=True, published_at=now)
    ProductTestFactory(product=_product(not_open), test=adaptive)

    rows = _rows(client)

    assert (rows[not_open.slug]["can_start"], rows[not_open.slug]["reason"]) == (
        False,
        "test_not_open",
    )
    assert rows[closed.slug]["reason"] == "test_closed"
    # adaptive tests are sat like any other; this one has no rules (no item pool), which,
    # like a bank shortfall of a random test, only starting finds out
    assert (rows[adaptive.slug]["can_start"], rows[adaptive.slug]["reason"]) == (True, None)
    assert rows[adaptive.slug]["mode"] == "adaptive"
    assert _start(client, not_open) == (409, "test_not_open")
    assert _start(client, closed) == (410, "test_closed")
    assert _start(client, adaptive) == (409, "paper_unavailable")


def test_an_expired_open_session_is_not_offered_but_counts_as_an_attempt():
    test = sittable_test(max_attempts=1)
    learner = UserFactory()
    client = _client(learner)
    session = _sit(learner, test, submit=False)
    past = timezone.now() - timedelta(hours=2)
    ExamSession.objects.filter(pk=session.pk).update(
        started_at=past - timedelta(hours=1), deadline_at=past
    )

    row = _rows(client)[test.slug]

    assert (row["open_session"], row["attempts_used"], row["reason"]) == (
        None,
        1,
        "attempts_exhausted",
    )
    assert _start(client, test) == (409, "attempts_exhausted")


# --- ?status= ---------------------------------------------------------------------------------


def test_status_filter():
    now = timezone.now()
    learner = UserFactory()
    client = _client(learner)
    fresh = sittable_test()
    in_progress = sittable_test(max_attempts=1)
    _sit(learner, in_progress, submit=False)
    done = sittable_test(max_attempts=1)
    _sit(learner, done)
    done_again_ok = sittable_test(max_attempts=2, min_gap_seconds=60)
    session = _sit(learner, done_again_ok)
    ExamSession.objects.filter(pk=session.pk).update(submitted_at=now - timedelta(minutes=5))
    too_soon = sittable_test(min_gap_seconds=3600)
    _sit(learner, too_soon)
    extra = sittable_test(max_attempts=1)
    _sit(learner, extra)
    AttemptOverride.objects.create(user=learner, test=extra, extra_attempts=1)
    closed = sittable_test(available_until=now + timedelta(hours=1))  # closed below
    _sit(learner, closed, submit=False)
    Test.objects.filter(pk=closed.pk).update(available_until=now - timedelta(seconds=1))
    not_open = sittable_test(available_from=now + timedelta(hours=1))

    everything = _rows(client)
    available = _rows(client, status="available")

    assert set(_rows(client, status="open")) == {in_progress.slug, closed.slug}
    assert set(available) == {fresh.slug, in_progress.slug, done_again_ok.slug, extra.slug}
    assert set(available) == {slug for slug, row in everything.items() if row["can_start"]}
    assert not_open.slug in everything
    assert set(_rows(client, status="completed")) == {
        done.slug,
        done_again_ok.slug,
        too_soon.slug,
        extra.slug,
    }


@pytest.mark.parametrize("value", ["done", "OPEN", "open,completed"])
def test_an_unknown_status_is_refused(value):
    sittable_test()

    response = _client(UserFactory()).get(LIST, {"status": value})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {"status": [f'"{value}" is not a valid choice.']},
    }


def test_an_empty_status_filters_nothing_and_a_bad_page_is_not_found():
    test = sittable_test()
    client = _client(UserFactory())

    assert set(_rows(client, status="")) == {test.slug}
    response = client.get(LIST, {"page": "x"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_list_is_paginated_newest_first():
    tests = [sittable_test() for _ in range(3)]
    now = timezone.now()
    for index, test in enumerate(tests):
        Test.objects.filter(pk=test.pk).update(published_at=now - timedelta(days=index))

    response = _client(UserFactory()).get(LIST, {"page_size": 2})

    body = response.json()
    assert body["count"] == 3
    assert [row["slug"] for row in body["results"]] == [tests[0].slug, tests[1].slug]
    assert body["next"] is not None


# --- detail ----------------------------------------------------------------------------------


def test_detail_shows_sections_and_marking_but_never_answers():
    topic = TopicFactory()
    questions = [make_question(topic=topic) for _ in range(3)]
    test = sittable_test(questions=6, draw=4, pass_mark_percent=Decimal("40"))
    Test.objects.filter(pk=test.pk).update(instructions_html="<p>Read carefully.</p>")
    fixed = SectionFactory(
        test=test,
        title="Fixed",
        marking=Section.Marking.FIXED,
        correct_marks=Decimal("4"),
        wrong_penalty=Decimal("1"),
        duration_seconds=600,
    )
    for question in questions:
        SectionQuestionFactory(section=fixed, question=question)
    empty = SectionFactory(test=test, title="Empty", marking=Section.Marking.FRACTION)
    Section.objects.filter(pk=empty.pk).update(negative_fraction=Decimal("0.3333"))
    learner = UserFactory()
    _sit(learner, test, submit=False)

    response = _detail(_client(learner), test)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["slug"] == test.slug
    assert body["question_count"] == 7
    assert body["instructions_html"] == "<p>Read carefully.</p>"
    assert (body["navigation"], body["attempt_policy"], body["solution_policy"]) == (
        "free",
        "highest",
        "after_submit",
    )
    assert (body["pass_mark_percent"], body["partial_marking"], body["min_gap_seconds"]) == (
        "40.00",
        False,
        0,
    )
    assert body["attempts_used"] == 1
    assert body["open_session"] is not None
    rules_section = test.sections.order_by("order", "id").first()
    assert body["sections"] == [
        {
            "id": rules_section.id,
            "title": rules_section.title,
            "order": rules_section.order,
            "instructions": "",
            "question_count": 4,
            "duration_seconds": None,
            "marking": "question",
            "correct_marks": None,
            "wrong_penalty": "0.00",
            "negative_fraction": "0.0000",
            "unattempted_marks": "0.00",
        },
        {
            "id": fixed.id,
            "title": "Fixed",
            "order": fixed.order,
            "instructions": "",
            "question_count": 3,
            "duration_seconds": 600,
            "marking": "fixed",
            "correct_marks": "4.00",
            "wrong_penalty": "1.00",
            "negative_fraction": "0.0000",
            "unattempted_marks": "0.00",
        },
        {
            "id": empty.id,
            "title": "Empty",
            "order": empty.order,
            "instructions": "",
            "question_count": 0,
            "duration_seconds": None,
            "marking": "fraction",
            "correct_marks": None,
            "wrong_penalty": "0.00",
            "negative_fraction": "0.3333",
            "unattempted_marks": "0.00",
        },
    ]
    assert not set(json_keys(body)) & set(SECRET_KEYS)
    assert "Alpha" not in response.content.decode()  # no choice text either
    listed = _rows(_client(learner))[test.slug]
    assert {key: body[key] for key in listed} == listed


def test_the_list_never_carries_answers():
    learner = UserFactory()
    test = sittable_test()
    _sit(learner, test)

    response = _client(learner).get(LIST)

    assert not set(json_keys(response.json())) & set(SECRET_KEYS)
    assert "Alpha" not in response.content.decode()


# --- query counts ------------------------------------------------------------------------------


def _learner_with_tests(count: int):
    """A learner enrolled in ``count`` paid tests (each sat twice, one attempt open) plus
    one free test, with an override on each."""
    learner = UserFactory()
    for _ in range(count):
        test = sittable_test(free=False, max_attempts=5)
        _enroll(learner, test)
        _sit(learner, test)
        _sit(learner, test, submit=False)
        AttemptOverride.objects.create(user=learner, test=test, extra_attempts=1)
    sittable_test()
    return learner


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


def test_list_queries_do_not_grow_with_tests_or_enrollments(django_assert_max_num_queries):
    few = _client(_learner_with_tests(1))
    many_learner = _learner_with_tests(6)
    many = _client(many_learner)

    with django_assert_max_num_queries(6):
        response = many.get(LIST)
    assert response.json()["count"] == 8  # 6 bought + 2 free (its own and the other one's)

    assert _queries(many, LIST) == _queries(few, LIST)
    for status in ("open", "available", "completed"):
        with django_assert_max_num_queries(6):
            assert many.get(LIST, {"status": status}).status_code == 200


def test_detail_queries_are_bounded(django_assert_max_num_queries):
    learner = _learner_with_tests(3)
    test = Enrollment.objects.filter(user=learner).first().product.product_tests.get().test
    client = _client(learner)

    with django_assert_max_num_queries(4):
        response = _detail(client, test)

    assert response.status_code == 200
    assert response.json()["attempts_used"] == 2
    assert response.json()["attempts_left"] == 4
