"""Every test-engine endpoint is staff-only: 401 anonymous, 403 learner or unpermitted."""

import pytest

from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

BASE = "/api/v1/testengine"


def _endpoints():
    topic = TopicFactory(slug="t1")
    question = make_question(topic=topic)
    test = TestFactory(slug="mock")
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=1)
    return [
        ("get", f"{BASE}/topics/"),
        ("post", f"{BASE}/topics/"),
        ("get", f"{BASE}/topics/{topic.id}/"),
        ("patch", f"{BASE}/topics/{topic.id}/"),
        ("delete", f"{BASE}/topics/{topic.id}/"),
        ("get", f"{BASE}/questions/"),
        ("post", f"{BASE}/questions/"),
        ("get", f"{BASE}/questions/{question.id}/"),
        ("put", f"{BASE}/questions/{question.id}/"),
        ("patch", f"{BASE}/questions/{question.id}/"),
        ("delete", f"{BASE}/questions/{question.id}/"),
        ("post", f"{BASE}/questions/{question.id}/publish/"),
        ("post", f"{BASE}/questions/{question.id}/retire/"),
        ("get", f"{BASE}/tests/"),
        ("post", f"{BASE}/tests/"),
        ("get", f"{BASE}/tests/mock/"),
        ("patch", f"{BASE}/tests/mock/"),
        ("delete", f"{BASE}/tests/mock/"),
        ("get", f"{BASE}/tests/mock/check/"),
        ("get", f"{BASE}/tests/mock/preview/"),
        ("post", f"{BASE}/tests/mock/publish/"),
        ("post", f"{BASE}/tests/mock/unpublish/"),
    ]


def test_anonymous_callers_get_401_everywhere(api_client):
    for method, url in _endpoints():
        response = getattr(api_client, method)(url, {}, format="json")
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"


def test_learners_get_403_everywhere_and_nothing_changes(learner_client):
    endpoints = _endpoints()
    from testengine.models import Question, Test, Topic

    before = (Topic.objects.count(), Question.objects.count(), Test.objects.count())
    for method, url in endpoints:
        response = getattr(learner_client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "permission_denied"
    assert (Topic.objects.count(), Question.objects.count(), Test.objects.count()) == before
    assert Question.objects.get().status == "published"


def test_staff_without_model_permissions_get_403(bare_staff_client):
    for method, url in _endpoints():
        response = getattr(bare_staff_client, method)(url, {}, format="json")
        assert response.status_code == 403, (method, url)


def test_view_permission_alone_reads_but_cannot_write(bare_staff_client):
    from django.contrib.auth.models import Permission

    user = bare_staff_client.handler._force_user
    user.user_permissions.set(Permission.objects.filter(codename="view_question"))
    question = make_question()

    read = bare_staff_client.get(f"{BASE}/questions/{question.id}/")
    write = bare_staff_client.post(f"{BASE}/questions/{question.id}/retire/")

    assert read.status_code == 200
    assert write.status_code == 403
    question.refresh_from_db()
    assert question.status == "published"


def test_publishing_needs_the_change_permission_not_add(bare_staff_client):
    from django.contrib.auth.models import Permission

    user = bare_staff_client.handler._force_user
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_question", "view_question"])
    )
    question = make_question(status="draft")

    response = bare_staff_client.post(f"{BASE}/questions/{question.id}/publish/")

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.status == "draft"
