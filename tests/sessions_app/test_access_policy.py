"""Access follows what was paid for: a revoke (or a full refund, see
tests/payments/test_refund_access.py) closes the learner's open sittings of what they lost,
every sitting endpoint then answers 403 ``no_access``, rankings leave them out; a lapse
lets a started sitting finish; one start rule answers both starting and the test list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from catalogue.models import Enrollment, ProductTest
from core.errors import ApplicationError
from sessions_app import services
from sessions_app.models import AttemptOverride, ExamSession, SessionResponse
from testengine.models import Test
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import EnrollmentFactory, ProductTestFactory, PublishedProductFactory
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def product_of(test: Test):
    return ProductTest.objects.get(test=test).product


def enroll(user, test, **kwargs) -> Enrollment:
    return EnrollmentFactory(user=user, plan=product_of(test).plans.get(), **kwargs)


def first_choice_answer(session: ExamSession, index: int = 0) -> tuple[int, dict]:
    question = Paper.from_json(session.paper).questions[index]
    return question.id, {"choices": [question.choices[0].id]}


def revoke(enrollment: Enrollment, capture) -> None:
    with capture(execute=True):
        catalogue_services.enrollment_revoke(enrollment=enrollment, reason="abuse")


@pytest.fixture
def paid_sitting():
    """A learner part-way through a paid test (one answer saved), and their enrollment."""
    test = sittable_test(free=False)
    learner = UserFactory()
    enrollment = enroll(learner, test)
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question_id, answer = first_choice_answer(session)
    services.response_save(
        user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=1
    )
    return test, learner, enrollment, session


def test_a_revoke_closes_the_open_sitting_keeping_its_answers(
    paid_sitting, django_capture_on_commit_callbacks
):
    _test, _learner, enrollment, session = paid_sitting

    revoke(enrollment, django_capture_on_commit_callbacks)

    session.refresh_from_db()
    assert session.status == ExamSession.Status.ABANDONED
    assert session.submit_reason == ExamSession.SubmitReason.REVOKED
    assert session.access_ended_at is not None
    assert session.score is None
    assert SessionResponse.objects.filter(session=session, answer__isnull=False).count() == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "questions/", None),
        ("put", "responses/{question}/", {"answer": "ANSWER", "seq": 2}),
        (
            "post",
            "responses/",
            {"responses": [{"question_id": "QUESTION", "answer": None, "seq": 3}]},
        ),
        ("post", "submit/", None),
        ("get", "result/", None),
        ("get", "review/", None),
    ],
)
def test_after_a_revoke_every_sitting_endpoint_answers_403_no_access_and_changes_nothing(
    paid_sitting, django_capture_on_commit_callbacks, method, path, body
):
    _test, learner, enrollment, session = paid_sitting
    question_id, answer = first_choice_answer(session, index=1)
    revoke(enrollment, django_capture_on_commit_callbacks)
    before = list(SessionResponse.objects.filter(session=session).values_list("answer", "seq"))
    if body is not None:
        body = {key: (answer if value == "ANSWER" else value) for key, value in body.items()}
        if "responses" in body:
            body["responses"][0]["question_id"] = question_id
    url = f"/api/v1/sessions/{session.id}/" + path.format(question=question_id)

    response = getattr(client_for(learner), method)(url, body, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "no_access"
    session.refresh_from_db()
    assert session.status == ExamSession.Status.ABANDONED
    assert list(SessionResponse.objects.filter(session=session).values_list("answer", "seq")) == (
        before
    )


def test_after_a_revoke_starting_again_is_403_and_the_detail_says_why(
    paid_sitting, django_capture_on_commit_callbacks
):
    test, learner, enrollment, session = paid_sitting
    revoke(enrollment, django_capture_on_commit_callbacks)
    client = client_for(learner)

    start = client.post(f"/api/v1/tests/{test.slug}/sessions/")
    detail = client.get(f"/api/v1/sessions/{session.id}/")

    assert start.status_code == 403
    assert start.json()["code"] == "no_access"
    assert detail.status_code == 200
    assert (detail.json()["status"], detail.json()["submit_reason"]) == ("abandoned", "revoked")


def test_a_revoke_leaves_sittings_granted_through_another_product_alone(
    paid_sitting, django_capture_on_commit_callbacks
):
    test, learner, enrollment, session = paid_sitting
    other = PublishedProductFactory()
    ProductTestFactory(product=other, test=test)
    EnrollmentFactory(user=learner, plan=other.plans.get())

    revoke(enrollment, django_capture_on_commit_callbacks)

    session.refresh_from_db()
    assert session.status == ExamSession.Status.IN_PROGRESS
    assert session.access_ended_at is None
    question_id, answer = first_choice_answer(session, index=1)
    saved = client_for(learner).put(
        f"/api/v1/sessions/{session.id}/responses/{question_id}/",
        {"answer": answer, "seq": 2},
        format="json",
    )
    assert saved.status_code == 200, saved.content


def test_a_revoked_learner_leaves_the_leaderboard_and_ranks_and_a_new_grant_restores_them(
    django_capture_on_commit_callbacks,
):
    test = sittable_test(free=False)
    stayer, leaver = UserFactory(full_name="Stays"), UserFactory(full_name="Leaves")
    enroll(stayer, test)
    enrollment = enroll(leaver, test)
    for user, right in ((stayer, False), (leaver, True)):
        session, _ = services.session_start(user=user, test_slug=test.slug)
        for question in Paper.from_json(session.paper).questions:
            choice = next(c.id for c in question.choices if c.is_correct == right)
            services.response_save(
                user=user,
                session_id=session.id,
                question_id=question.id,
                answer={"choices": [choice]},
                seq=1,
            )
        services.session_submit(user=user, session_id=session.id)
    stayer_session = ExamSession.objects.get(user=stayer)
    board = f"/api/v1/tests/{test.slug}/leaderboard/"
    before = client_for(stayer).get(board).json()
    assert [e["name"] for e in before["top"]] == ["Leaves", "Stays"]

    revoke(enrollment, django_capture_on_commit_callbacks)

    after = client_for(stayer).get(board).json()
    assert (after["candidates"], [e["name"] for e in after["top"]]) == (1, ["Stays"])
    assert after["me"]["rank"] == 1
    result = client_for(stayer).get(f"/api/v1/sessions/{stayer_session.id}/result/").json()
    assert (result["rank"], result["candidates"]) == (1, 1)

    with django_capture_on_commit_callbacks(execute=True):
        catalogue_services.enrollment_grant(
            user=leaver, product=product_of(test), days=30, by=UserFactory(is_staff=True)
        )
    restored = client_for(stayer).get(board).json()
    assert restored["candidates"] == 2
    assert ExamSession.objects.get(user=leaver).access_ended_at is None


def test_a_plan_that_lapses_mid_sitting_lets_it_finish_but_the_result_needs_live_access():
    test = sittable_test(free=False)
    learner = UserFactory()
    enrollment = enroll(learner, test)
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    now = timezone.now()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        starts_at=now - timedelta(days=30), expires_at=now - timedelta(seconds=1)
    )
    client = client_for(learner)
    question_id, answer = first_choice_answer(session)

    saved = client.put(
        f"/api/v1/sessions/{session.id}/responses/{question_id}/",
        {"answer": answer, "seq": 1},
        format="json",
    )
    submitted = client.post(f"/api/v1/sessions/{session.id}/submit/")
    result = client.get(f"/api/v1/sessions/{session.id}/result/")

    assert saved.status_code == 200, saved.content
    assert submitted.status_code == 200, submitted.content
    assert result.status_code == 403
    assert result.json()["code"] == "no_access"
    catalogue_services.enrollment_grant(
        user=learner, product=product_of(test), days=30, by=UserFactory(is_staff=True)
    )
    assert client.get(f"/api/v1/sessions/{session.id}/result/").status_code == 200


def test_a_save_still_costs_its_two_queries_with_the_access_rule(
    paid_sitting, django_assert_max_num_queries
):
    _test, learner, _enrollment, session = paid_sitting
    question_id, answer = first_choice_answer(session, index=1)

    # Savepoint + lock (the access rule rides on it) + upsert returning the row + release.
    with django_assert_max_num_queries(4):
        services.response_save(
            user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=5
        )


# --- one start rule ----------------------------------------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    max_attempts=st.one_of(st.none(), st.integers(1, 3)),
    extra=st.integers(0, 2),
    used=st.integers(0, 3),
    gap_minutes=st.sampled_from([0, 30]),
    ended_minutes_ago=st.sampled_from([5, 60]),
    window=st.sampled_from(["none", "open", "not_yet", "over"]),
    open_sitting=st.booleans(),
)
def test_the_test_list_and_starting_apply_one_start_rule(
    max_attempts, extra, used, gap_minutes, ended_minutes_ago, window, open_sitting
):
    now = timezone.now()
    with transaction.atomic():
        test = sittable_test()
        learner = UserFactory()
        for _ in range(used):
            session, _ = services.session_start(user=learner, test_slug=test.slug)
            services.session_submit(user=learner, session_id=session.id)
        ExamSession.objects.filter(user=learner).update(
            submitted_at=now - timedelta(minutes=ended_minutes_ago)
        )
        if open_sitting:
            services.session_start(user=learner, test_slug=test.slug)
        if extra:
            AttemptOverride.objects.create(user=learner, test=test, extra_attempts=extra)
        bounds = {
            "none": (None, None),
            "open": (now - timedelta(days=1), now + timedelta(days=1)),
            "not_yet": (now + timedelta(days=1), None),
            "over": (now - timedelta(days=2), now - timedelta(days=1)),
        }[window]
        Test.objects.filter(pk=test.pk).update(
            max_attempts=max_attempts,
            min_gap_seconds=gap_minutes * 60,
            available_from=bounds[0],
            available_until=bounds[1],
        )
        client = client_for(learner)

        listed = client.get(f"/api/v1/tests/{test.slug}/").json()
        page = client.get("/api/v1/tests/", {"status": "available"}).json()
        available = {row["slug"] for row in page["results"]}
        try:
            services.session_start(user=learner, test_slug=test.slug)
            code = None
        except ApplicationError as exc:
            code = exc.code
        assert listed["reason"] == code
        assert listed["can_start"] is (code is None)
        assert (test.slug in available) is (code is None)
        transaction.set_rollback(True)


def test_staff_see_the_answers_a_revoked_sitting_kept(
    paid_sitting, django_capture_on_commit_callbacks, admin_client
):
    _test, _learner, enrollment, session = paid_sitting
    revoke(enrollment, django_capture_on_commit_callbacks)
    saved = SessionResponse.objects.get(session=session)

    page = admin_client.get(f"/admin/sessions_app/examsession/{session.pk}/change/")
    listed = admin_client.get("/admin/sessions_app/examsession/", {"access_ended_at__isempty": "0"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "Access withdrawn (refund or revoke)" in text
    assert str(saved.answer["choices"][0]) in text
    assert str(session.pk) in listed.content.decode()
