"""/metrics: off without a token, bearer-protected with one; request, database and
business metrics (the business gauges counted at scrape time)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import MetricsMiddleware
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
    view = (("method", "GET"), ("view", "readyz"))
    latency = "django_http_requests_latency_seconds_by_view_method"
    responses = "django_http_responses_total_by_status_view_method_total"
    queries = ("django_db_execute_total", (("alias", "default"), ("vendor", "postgresql")))
    # A request's statements are added when it has answered: the first scrape's own
    # statements show up in the second, so count both requests' statements.
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        before = _scrape(client)
        assert client.get("/readyz").status_code == 200
    after = _scrape(client)

    assert after[(latency + "_count", view)] == before.get((latency + "_count", view), 0) + 1
    count = after[(latency + "_count", view)]
    assert after[(latency + "_bucket", (("le", "+Inf"), *view))] == count
    assert (latency + "_bucket", (("le", "0.2"), *view)) in after  # the p99 goal's bucket
    ok = (responses, (("method", "GET"), ("status", "200"), ("view", "readyz")))
    assert after[ok] == before.get(ok, 0) + 1
    assert len(statements) > 0
    assert after[queries] == before.get(queries, 0) + len(statements)


def test_unknown_urls_and_methods_share_one_label(client, settings):
    settings.METRICS_TOKEN = TOKEN
    responses = "django_http_responses_total_by_status_view_method_total"
    before = _scrape(client)

    assert client.get("/no-such-page-4f2a").status_code == 404
    assert client.generic("PROPFIND", "/readyz").status_code == 405
    after = _scrape(client)

    unnamed = (responses, (("method", "GET"), ("status", "404"), ("view", "<unnamed view>")))
    assert after[unnamed] == before.get(unnamed, 0) + 1
    odd = (responses, (("method", "<invalid method>"), ("status", "405"), ("view", "readyz")))
    assert after[odd] == before.get(odd, 0) + 1
    assert not [labels for _, labels in after if ("method", "PROPFIND") in labels]


def test_failed_statements_are_counted_by_type():
    labels = {"alias": "default", "vendor": "postgresql", "type": "ProgrammingError"}
    before = REGISTRY.get_sample_value("django_db_errors_total", labels) or 0

    def view(request):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_for_metrics")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return HttpResponse("ok")

    response = MetricsMiddleware(view)(RequestFactory().get("/anything"))

    assert response.status_code == 200
    assert REGISTRY.get_sample_value("django_db_errors_total", labels) == before + 1


def test_metrics_are_not_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()

    assert not [path for path in schema["paths"] if "metrics" in path]
