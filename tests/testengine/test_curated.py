"""``Test.objects.curated()``: a learner's personal practice test is its owner's alone.

Forgetting the filter once would list another learner's private test, so it is written
once (the queryset method) and a test fails when a query spells it out again; every
learner-facing read of tests is walked with a learner who owns a practice test, and
another learner never sees it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sessions_app.models import ExamSession
from testengine.models import Test
from tests.accounts.factories import UserFactory
from tests.learning.factories import client_for, topic_test, topic_with_bank
from tests.testengine.factories import TestFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "catalogue", "core", "learning", "payments", "programs", "sessions_app",
        "testengine")  # fmt: skip
# The practice-owner filter, as a lookup or as SQL: only the queryset method spells it.
SPELLED_OUT = re.compile(r"practice_owner__isnull|practice_owner_id\s+IS\s+NULL", re.IGNORECASE)
MODEL = Path("testengine/models.py")  # the queryset method and the model's constraint


def test_the_practice_owner_filter_is_written_only_in_the_queryset():
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path.relative_to(ROOT) != MODEL
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SPELLED_OUT.search(line)
    ]
    assert found == [], "use Test.objects.curated() instead"


@pytest.mark.django_db
def test_curated_leaves_out_practice_tests_only():
    owner = UserFactory()
    curated = TestFactory()
    draft = TestFactory(is_published=False)
    practice = TestFactory(is_published=False, practice_owner=owner)

    assert set(Test.objects.curated()) == {curated, draft}
    assert practice in Test.objects.all()


@pytest.mark.django_db
def test_no_learner_facing_read_shows_another_learners_practice_test():
    owner, other = UserFactory(), UserFactory()
    topic = topic_with_bank(5, free_practice=True)
    topic_test({topic_with_bank(4): 2}, enrol=[owner, other])  # something to list
    started = client_for(owner).post(
        "/api/v1/me/practice/", {"topics": [topic.pk], "questions": 3}, format="json"
    )
    assert started.status_code == 201, started.content
    session = ExamSession.objects.select_related("test").get(pk=started.json()["id"])
    slug = session.test.slug
    assert session.test.practice_owner_id == owner.pk
    client_for(owner).post(f"/api/v1/sessions/{session.pk}/submit/")

    client = client_for(other)
    reads = [
        "/api/v1/tests/",
        "/api/v1/tests/?status=open",
        "/api/v1/tests/?status=available",
        "/api/v1/tests/?status=completed",
        "/api/v1/sessions/",
        "/api/v1/me/recommendations/",
        "/api/v1/me/mastery/",
        "/api/v1/catalogue/products/",
    ]
    for url in reads:
        response = client.get(url)
        assert response.status_code == 200, url
        assert slug not in response.content.decode(), url
    for url in (
        f"/api/v1/tests/{slug}/",
        f"/api/v1/tests/{slug}/leaderboard/",
        f"/api/v1/sessions/{session.pk}/",
        f"/api/v1/sessions/{session.pk}/questions/",
        f"/api/v1/sessions/{session.pk}/result/",
        f"/api/v1/sessions/{session.pk}/review/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/api/v1/tests/{slug}/sessions/").status_code == 404
    assert not ExamSession.objects.filter(user=other, test__slug=slug).exists()
