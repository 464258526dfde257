"""GET me/mastery/ and GET me/recommendations/: own rows only, weakest first, tests from
the learner's live enrollments only, the recommender plug-in."""

import pytest
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from catalogue.models import Product
from learning.recommenders import (
    CandidateTest,
    MasteryRow,
    Recommendation,
    WeakestFirstRecommender,
)
from testengine import services as testengine_services
from testengine.models import Test
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import (
    EnrollmentFactory,
    ProductTestFactory,
    PublishedProductFactory,
)
from tests.learning.factories import (
    TopicMasteryFactory,
    client_for,
    sit,
    topic_test,
    topic_with_bank,
)
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    TestFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


def test_mastery_needs_a_login():
    assert APIClient().get("/api/v1/me/mastery/").status_code == 401
    assert APIClient().get("/api/v1/me/recommendations/").status_code == 401


def test_my_mastery_lists_my_topics_weakest_first(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    learner, other = UserFactory(), UserFactory()
    strong, weak = topic_with_bank(6), topic_with_bank(6)
    test = topic_test({strong: 3, weak: 3}, enrol=[learner, other])
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, test, right=lambda q: q.topic_id == strong.pk)
        sit(other, test, right=True)
    TopicMasteryFactory.create_batch(3, user=other)

    with django_assert_max_num_queries(2):  # count, page with topics
        response = client_for(learner).get("/api/v1/me/mastery/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = body["results"]
    assert [row["topic"]["id"] for row in rows] == [weak.pk, strong.pk]
    assert (rows[0]["responses"], rows[0]["correct"]) == (3, 0)
    assert rows[0]["mastery"] < 0.5 < rows[1]["mastery"]
    assert set(rows[0]) == {
        "topic",
        "mastery",
        "confidence",
        "theta",
        "se",
        "responses",
        "correct",
        "updated_at",
    }
    assert rows[0]["confidence"] == pytest.approx(1 - rows[0]["se"], abs=1e-3)

    strongest = client_for(learner).get("/api/v1/me/mastery/?order=strongest").json()
    assert [row["topic"]["id"] for row in strongest["results"]] == [strong.pk, weak.pk]


def test_an_unknown_order_is_refused():
    response = client_for(UserFactory()).get("/api/v1/me/mastery/?order=best")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "order" in response.json()["fields"]


# --- recommendations -------------------------------------------------------------------------


def _fixed_test(topic, *, enrol) -> Test:
    question = topic.questions.first()
    test = TestFactory(mode=Test.Mode.FIXED, title="Fixed on C")
    SectionQuestionFactory(section=SectionFactory(test=test), question=question)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    ProductTestFactory(product=product, test=test)
    EnrollmentFactory(user=enrol, plan=product.plans.get())
    return test


def test_recommendations_put_weak_topics_first_with_my_enrolled_tests_only(
    django_assert_max_num_queries,
):
    learner, other = UserFactory(), UserFactory()
    parent = TopicFactory(name="SQL")
    a = topic_with_bank(4, name="Joins", parent=parent)
    b = topic_with_bank(4, name="Indexes", parent=parent)
    c, mastered = topic_with_bank(4, name="HTTP"), topic_with_bank(4, name="Python")
    TopicMasteryFactory(user=learner, topic=a, theta=-1.4, se=0.4, responses=12, correct=3)
    TopicMasteryFactory(user=learner, topic=b, theta=-0.4, se=0.5, responses=8, correct=3)
    TopicMasteryFactory(user=learner, topic=c, theta=0.9, se=0.8, responses=2, correct=2)
    TopicMasteryFactory(user=learner, topic=mastered, theta=2.0, se=0.3, responses=20, correct=19)

    on_a = topic_test({a: 2}, enrol=learner, title="Joins drill")
    on_sql = topic_test({parent: 3}, enrol=learner, title="SQL mock")
    on_c = _fixed_test(c, enrol=learner)
    topic_test({a: 2}, title="Not enrolled")  # in a product nobody holds
    topic_test({a: 2}, enrol=other, title="Someone else's")
    free = topic_test({a: 2}, title="Free, not enrolled")
    product = Product.objects.get(product_tests__test=free)
    product.plans.update(price_paise=0)
    catalogue_services.product_sync_derived(product_ids=[product.id])
    practice = TestFactory(practice_owner=learner, title="My practice")
    SectionFactory(test=practice).rules.create(topic=a, count=2)

    with django_assert_max_num_queries(6):
        response = client_for(learner).get("/api/v1/me/recommendations/")

    assert response.status_code == 200
    body = response.json()
    assert [item["topic"]["name"] for item in body] == ["Joins", "Indexes", "HTTP"]
    assert [[t["slug"] for t in item["tests"]] for item in body] == [
        [on_a.slug, on_sql.slug],
        [on_sql.slug],
        [on_c.slug],
    ]
    assert body[0]["reason"].startswith("3 of 12 answers correct")
    assert body[2]["reason"].startswith("Only 2 answers so far")
    assert body[0]["mastery"] == pytest.approx(0.1978, abs=1e-4)

    limited = client_for(learner).get("/api/v1/me/recommendations/?limit=1").json()
    assert [item["topic"]["name"] for item in limited] == ["Joins"]
    assert client_for(learner).get("/api/v1/me/recommendations/?limit=0").status_code == 400


def test_a_learner_without_mastery_gets_no_recommendations():
    response = client_for(UserFactory()).get("/api/v1/me/recommendations/")

    assert response.status_code == 200
    assert response.json() == []


class _Backwards:
    """A stand-in plug-in: strongest first, inventing a topic and a test on the way."""

    def recommend(self, mastery, tests, *, limit):
        invented = Recommendation(topic_id=987654, reason="made up", tests=("nope",))
        return [
            invented,
            *(
                Recommendation(
                    topic_id=row.topic_id,
                    reason=f"plug-in says {row.topic}",
                    tests=("nope", *(t.slug for t in tests)),
                )
                for row in sorted(mastery, key=lambda r: -r.mastery)
            ),
        ]


def test_the_recommender_is_a_plug_in_whose_answer_is_checked(settings):
    settings.LEARNING_RECOMMENDER = "tests.learning.test_api_mastery._Backwards"
    learner = UserFactory()
    a, b = topic_with_bank(3, name="A"), topic_with_bank(3, name="B")
    TopicMasteryFactory(user=learner, topic=a, theta=-1.0)
    TopicMasteryFactory(user=learner, topic=b, theta=1.0)
    on_a = topic_test({a: 1}, enrol=learner)

    body = client_for(learner).get("/api/v1/me/recommendations/").json()

    assert [item["topic"]["name"] for item in body] == ["B", "A"]
    assert body[0]["reason"] == "plug-in says B"
    assert body[0]["tests"] == []  # its test does not cover B: dropped
    assert [t["slug"] for t in body[1]["tests"]] == [on_a.slug]


def test_the_built_in_recommender_is_a_plain_function_of_data():
    rows = [
        MasteryRow(1, "weak", 0.2, 0.6, -1.4, 0.4, 12, 3),
        MasteryRow(2, "weaker, unsure", 0.1, 0.1, -2.2, 0.9, 1, 0),
        MasteryRow(3, "mastered", 0.9, 0.7, 2.2, 0.3, 30, 28),
        MasteryRow(4, "good but unsure", 0.8, 0.2, 1.4, 0.8, 3, 3),
        MasteryRow(5, "less weak", 0.4, 0.5, -0.4, 0.5, 9, 4),
    ]
    tests = [
        CandidateTest("broad", "Broad", "random", 600, frozenset({1, 2, 3, 4, 5})),
        CandidateTest("focused", "Focused", "random", 600, frozenset({1})),
    ]

    found = WeakestFirstRecommender().recommend(rows, tests, limit=10)

    assert [r.topic_id for r in found] == [1, 5, 2, 4]
    assert found[0].tests == ("focused", "broad")
    assert found[1].tests == ("broad",)
    assert WeakestFirstRecommender().recommend(rows, tests, limit=2)[-1].topic_id == 5
