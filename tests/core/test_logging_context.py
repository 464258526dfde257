"""Log lines carry the request's context (request id, user, records acted on), and no
secret reaches them: not one-time codes, passwords, tokens, webhook secrets or signatures.

The lines are captured the way production writes them: a handler with our filter and JSON
formatter on the root and ``django`` loggers, at DEBUG.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail
from rest_framework.test import APIClient

from core.logging import JsonFormatter, RequestIdFilter
from payments import services as payment_services
from payments.gateways.base import sign
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import bearer, login, refresh
from tests.payments.factories import paid_plan

pytestmark = pytest.mark.django_db

RAZORPAY_FIXTURES = Path(__file__).resolve().parents[1] / "payments" / "razorpay"
WEBHOOK_SECRET = "whsec-never-in-the-logs-3f9a1c"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log line written while the test runs, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(), logging.getLogger("django")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    # factory-boy's own DEBUG lines echo the test's set_password() call: test tooling,
    # not the application.
    factory_logger = logging.getLogger("factory")
    factory_level = factory_logger.level
    factory_logger.setLevel(logging.INFO)
    yield stream
    factory_logger.setLevel(factory_level)
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_learner_request_logs_its_request_id_user_and_exam_session(log_stream):
    learner = UserFactory()
    access = login(APIClient(), learner.email)["access"]
    session_id = uuid.uuid4()
    log_stream.seek(0)
    log_stream.truncate()

    # A 404 on a sitting: Django logs it ("Not Found") during the request.
    response = bearer(access).get(
        f"/api/v1/sessions/{session_id}/", HTTP_X_REQUEST_ID="req-learner-1"
    )

    assert response.status_code == 404
    not_found = [line for line in _lines(log_stream) if line["logger"] == "django.request"]
    assert len(not_found) == 1
    assert not_found[0]["request_id"] == "req-learner-1"
    assert not_found[0]["user_id"] == str(learner.public_id)
    assert not_found[0]["exam_session_id"] == str(session_id)
    assert learner.email not in log_stream.getvalue()


def test_a_log_line_outside_a_request_has_no_user():
    record = logging.makeLogRecord({"msg": "background work"})
    RequestIdFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert (line["request_id"], line["user_id"]) == ("-", "-")


def test_no_secret_reaches_the_logs_through_otp_login_refresh_and_webhook(
    log_stream, settings, django_capture_on_commit_callbacks
):
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    user = UserFactory(email="asha@example.com")
    client = APIClient()
    secrets: list[str] = [DEFAULT_PASSWORD, WEBHOOK_SECRET]

    # A wrong password, then the right one; then a refresh.
    client.post("/api/v1/auth/token/", {"email": user.email, "password": "nope-" * 3})
    secrets.append("nope-" * 3)
    tokens = login(client, user.email)
    rotated = refresh(client, tokens["refresh"])
    assert rotated.status_code == 200
    secrets += [*tokens.values(), *rotated.json().values()]
    # OTP (after the password login: it takes over an unverified account's password).
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post("/api/v1/auth/otp/request/", {"email": user.email})
    assert requested.status_code == 202
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    verified = client.post(
        "/api/v1/auth/otp/verify/", {"email": user.email, "code": code}, format="json"
    )
    assert verified.status_code == 200, verified.content
    secrets += [verified.json()["access"], verified.json()["refresh"]]
    # A signed Razorpay webhook (payment captured for our order), then a forged one.
    order, _ = payment_services.order_create(user=user, plan_id=paid_plan().id)
    body = json.loads((RAZORPAY_FIXTURES / "webhook_payment_captured.json").read_text())
    body["payload"]["payment"]["entity"].update(
        id="pay_LogTest000001",
        order_id=order.gateway_order_id,
        amount=order.total_paise,
        currency="INR",
    )
    raw = json.dumps(body)
    signature = sign(WEBHOOK_SECRET, raw)
    forged = sign("not-the-secret", raw)
    for event_id, sig in [("evt_log_1", signature), ("evt_log_2", forged)]:
        with django_capture_on_commit_callbacks(execute=True):
            APIClient().post(
                "/api/v1/payments/razorpay/webhook/",
                data=raw,
                content_type="application/json",
                HTTP_X_RAZORPAY_SIGNATURE=sig,
                HTTP_X_RAZORPAY_EVENT_ID=event_id,
            )
    secrets += [signature, forged]

    lines = _lines(log_stream)
    # the flows did log, from inside the requests (which other lines appear depends on the
    # cache and database in use: Redis and the database cache log differently)
    messages = {line["message"] for line in lines}
    assert "Unauthorized: /api/v1/auth/token/" in messages
    assert "Bad Request: /api/v1/payments/razorpay/webhook/" in messages
    assert {line["request_id"] for line in lines} - {"-"}  # and from inside the requests
    # Every field but the time (its microseconds are six digits, like a code).
    text = "\n".join(json.dumps({**line, "time": ""}) for line in lines)
    assert all(len(secret) >= 8 for secret in secrets)
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []
    assert not re.search(rf"(?<!\d){code}(?!\d)", text)  # the code, not inside a longer number
