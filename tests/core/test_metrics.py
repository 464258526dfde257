"""/metrics: off without a token, bearer-protected with one; request, database and
business metrics (the business gauges counted at scrape time)."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from payments import services as payment_services
from payments.models import Order, WebhookEvent
from sessions_app import services as session_services
from tests.accounts.factories import UserFactory
from tests.payments.factories import paid_plan
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests-0123456789"


def _scrape(client: Client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_are_off_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "],
)
def test_metrics_refuse_a_missing_or_wrong_token(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"examforge_" not in response.content


def test_business_gauges_count_the_rows_at_scrape_time(client, settings):
    settings.METRICS_TOKEN = TOKEN
    learners = UserFactory.create_batch(3)
    test = sittable_test()
    for learner in learners[:2]:
        session_services.session_start(user=learner, test_slug=test.slug)
    plan = paid_plan()
    orders = [
        payment_services.order_create(user=learner, plan_id=plan.id)[0] for learner in learners
    ]
    Order.objects.filter(pk=orders[0].pk).update(status=Order.Status.FAILED)
    for n, outcome in enumerate(["failed", "failed", "processed"]):
        WebhookEvent.objects.create(
            event_id=f"evt_{n}",
            event="payment.captured",
            body="{}",
            signature_valid=True,
            outcome=outcome,
        )

    samples = _scrape(client)

    assert samples[("examforge_exam_sessions_in_progress", ())] == 2
    assert samples[("examforge_webhook_events_failed", ())] == 2
    by_status = {
        dict(labels)["status"]: value
        for (name, labels), value in samples.items()
        if name == "examforge_orders"
    }
    assert by_status == {
        "created": 2,
        "paid": 0,
        "partially_refunded": 0,
        "refunded": 0,
        "failed": 1,
        "expired": 0,
    }


def test_request_latency_per_view_and_database_queries_are_measured(client, settings):
    settings.METRICS_TOKEN = TOKEN
    before = _scrape(client)
    view = (("method", "GET"), ("view", "readyz"))
    name = "django_http_requests_latency_seconds_by_view_method_count"

    assert client.get("/readyz").status_code == 200
    after = _scrape(client)

    assert after[(name, view)] == before.get((name, view), 0) + 1
    queries = ("django_db_execute_total", (("alias", "default"), ("vendor", "postgresql")))
    assert after[queries] > before.get(queries, 0)
    assert (
        "django_http_requests_latency_seconds_by_view_method_bucket",
        (("le", "+Inf"), *view),
    ) in after


def test_metrics_are_not_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()

    assert not [path for path in schema["paths"] if "metrics" in path]
