"""seed_demo's mastery: the demo learner has real mastery rows and recommendations with
tests from their enrollments; twice is the same as once."""

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_LEARNER
from learning.models import TopicMastery
from tests.learning.factories import client_for


@pytest.mark.usefixtures("seeded_demo")  # the first seed_demo
def test_the_demo_learner_has_mastery_and_recommendations(settings):
    settings.DEBUG = True
    quiet = open("/dev/null", "w")  # noqa: SIM115
    first = sorted(TopicMastery.objects.values_list("user_id", "topic_id", "theta", "responses"))
    call_command("seed_demo", stdout=quiet)
    second = sorted(TopicMastery.objects.values_list("user_id", "topic_id", "theta", "responses"))

    assert first == second
    learner = TopicMastery.objects.filter(user__email=DEMO_LEARNER["email"]).first().user
    client = client_for(learner)
    mastery = client.get("/api/v1/me/mastery/").json()
    assert mastery["count"] >= 3
    assert all(row["responses"] > 0 for row in mastery["results"])
    recommendations = client.get("/api/v1/me/recommendations/").json()
    assert recommendations
    assert any(item["tests"] for item in recommendations)
