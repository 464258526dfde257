"""The programs API: my programs and progress, project submissions and their bad inputs,
and public certificate verification."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from programs import services
from programs.models import ProjectSubmission
from tests.accounts.factories import StaffFactory, UserFactory
from tests.programs.factories import curriculum, enrol, sit

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _submit_url(c, milestone) -> str:
    return f"/api/v1/me/programs/{c.product.slug}/milestones/{milestone.pk}/submissions/"


def test_my_programs_lists_progress_next_step_and_no_one_elses(django_assert_max_num_queries):
    c = curriculum()
    learner = UserFactory()
    enrol(learner, c.long)
    enrol(UserFactory(), c.short)

    with django_assert_max_num_queries(9):
        response = _client(learner).get("/api/v1/me/programs/")

    assert response.status_code == 200
    [row] = response.json()
    assert row["product"]["slug"] == c.product.slug
    assert row["track"]["name"] == "3 months"
    assert (row["percent"], row["done"], row["required"]) == (0, 0, 3)
    assert row["next"]["title"] == "Warm up"
    assert row["next"]["action"].startswith("Next: pass")
    assert row["certificate"] is None
    assert _client(UserFactory()).get("/api/v1/me/programs/").json() == []


def test_my_program_shows_phases_milestones_tests_and_states():
    c = curriculum()
    learner = UserFactory()
    enrol(learner, c.short)
    sit(learner, c.warmup)
    services.progress_refresh(enrollment=learner.enrollments.get())

    body = _client(learner).get(f"/api/v1/me/programs/{c.product.slug}/").json()

    assert [p["title"] for p in body["phases"]] == ["Learning", "Project"]
    warmup, quiz = body["phases"][0]["milestones"]
    assert (warmup["state"], quiz["state"]) == ("done", "open")
    assert warmup["completed_at"] is not None
    assert quiz["tests"] == [
        {
            "slug": c.quiz.slug,
            "title": c.quiz.title,
            "pass_mark_percent": "60.00",
            "best_percentage": None,
            "passed": False,
        }
    ]
    assert body["phases"][1]["milestones"][0]["state"] == "locked"
    assert body["unlock_in_order"] is True
    assert body["percent"] == 33


def test_another_program_or_no_enrollment_is_404():
    c = curriculum()
    response = _client(UserFactory()).get(f"/api/v1/me/programs/{c.product.slug}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_submitting_a_project_link_then_the_bad_inputs_change_nothing():
    c = curriculum(unlock_in_order=False)
    learner = UserFactory()
    enrol(learner, c.short)
    client = _client(learner)

    created = client.post(
        _submit_url(c, c.project), {"url": "https://github.com/me/api", "note": "Done"}
    )
    again = client.post(_submit_url(c, c.project), {"url": "https://github.com/me/api2"})
    tests_only = client.post(_submit_url(c, c.first), {"url": "https://github.com/me/api"})
    not_mine = client.post(_submit_url(c, c.extra), {"url": "https://github.com/me/api"})
    malformed = [
        client.post(_submit_url(c, c.project), body)
        for body in (
            {"url": "javascript:alert(1)"},
            {"url": "github.com/me/api"},
            {"url": "https://" + "a" * 600 + ".dev"},
            {"link": "https://github.com/me/api"},
        )
    ]

    assert created.status_code == 201
    assert created.json()["status"] == "submitted"
    assert (again.status_code, again.json()["code"]) == (409, "already_submitted")
    assert (tests_only.status_code, tests_only.json()["code"]) == (409, "no_review_needed")
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "not_found")  # long only
    assert [r.status_code for r in malformed] == [400, 400, 400, 400]
    assert all("fields" in r.json() for r in malformed)
    assert ProjectSubmission.objects.count() == 1


def test_a_locked_milestone_or_another_learners_program_refuses_a_submission():
    c = curriculum()
    learner = UserFactory()
    enrol(learner, c.short)

    locked = _client(learner).post(_submit_url(c, c.project), {"url": "https://x.dev"})
    stranger = _client(UserFactory()).post(_submit_url(c, c.project), {"url": "https://x.dev"})

    assert (locked.status_code, locked.json()["code"]) == (409, "milestone_locked")
    assert (stranger.status_code, stranger.json()["code"]) == (404, "not_found")
    assert not ProjectSubmission.objects.exists()


def test_a_lapsed_enrollment_cannot_submit():
    c = curriculum(unlock_in_order=False)
    learner = UserFactory()
    enrol(learner, c.short, days_ago=45)  # the 30-day plan ended 15 days ago

    response = _client(learner).post(_submit_url(c, c.project), {"url": "https://x.dev"})

    assert (response.status_code, response.json()["code"]) == (409, "enrollment_expired")
    row = _client(learner).get("/api/v1/me/programs/").json()[0]
    assert row["enrollment"]["is_live"] is False


def test_the_certificate_shows_in_my_program_and_verifies_publicly():
    c = curriculum(unlock_in_order=False)
    learner, staff = UserFactory(full_name="Meera Iyer"), StaffFactory()
    enrollment = enrol(learner, c.short)
    sit(learner, c.warmup)
    sit(learner, c.quiz)
    submission = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev"
    )
    services.submission_review(submission_id=submission.pk, accept=True, by=staff)
    code = enrollment.user.certificates.get().code

    mine = _client(learner).get(f"/api/v1/me/programs/{c.product.slug}/").json()
    anonymous = APIClient()
    verified = anonymous.get(f"/api/v1/certificates/{code}/")
    typed = anonymous.get(f"/api/v1/certificates/{code.lower().replace('-', ' ')}/")

    assert mine["certificate"]["code"] == code
    assert mine["certificate"]["verify_url"].endswith(f"/certificates/{code}/")
    assert mine["next"] is None
    assert mine["percent"] == 100
    assert verified.status_code == 200
    body = verified.json()
    assert body["status"] == "valid"
    assert (body["learner_name"], body["track"]) == ("Meera Iyer", "1 month")
    assert body["program"] == c.product.title
    assert typed.json()["code"] == code  # lower case and spaces, as people type it
    assert "email" not in body
    assert "user" not in body


@pytest.mark.parametrize("code", ["0000-0000-0000-0000", "not-a-code", "x" * 200])
def test_verifying_an_unknown_code_is_404_in_the_error_shape(code):
    response = APIClient().get(f"/api/v1/certificates/{code}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No certificate has this code."}


def test_verification_is_throttled_per_address(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "certificate_verify": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = APIClient()

    statuses = [
        client.get("/api/v1/certificates/0000-0000-0000-0000/").status_code for _ in range(4)
    ]

    assert statuses == [404, 404, 404, 429]


def test_the_public_syllabus_lists_each_tracks_milestones_in_order(django_assert_max_num_queries):
    c = curriculum()
    anonymous = APIClient()

    with django_assert_max_num_queries(4):
        response = anonymous.get(f"/api/v1/programs/{c.product.slug}/")

    assert response.status_code == 200
    tracks = {t["name"]: t for t in response.json()["tracks"]}
    assert [m["title"] for m in tracks["1 month"]["milestones"]] == ["Warm up", "Quiz", "Project"]
    long = tracks["3 months"]["milestones"]
    assert [(m["title"], m["week"]) for m in long] == [
        ("Warm up", 1),
        ("Quiz", 3),
        ("Project", 4),
        ("Stretch goal", 6),
    ]
    assert long[1]["tests"] == [c.quiz.title]
    assert (long[2]["requires_review"], long[3]["is_required"]) == (True, False)
    assert tracks["1 month"]["plan"] == c.short.plan_id


def test_an_unpublished_or_unknown_program_has_no_syllabus():
    c = curriculum()
    c.product.is_published = False
    c.product.save()
    for slug in (c.product.slug, "no-such-program"):
        response = APIClient().get(f"/api/v1/programs/{slug}/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
