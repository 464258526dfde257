"""Request ids: accepted or generated, echoed back, and carried by every log line."""

import json
import logging
import re
import sys
from unittest import mock

import pytest

from core.logging import JsonFormatter, RequestIdFilter
from core.request_context import request_id_var
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


# --- X-Request-ID --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["abc-123", "7f1c2a.9e:edge_01", "a" * 128],
)
def test_a_valid_request_id_is_echoed(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] == incoming


@pytest.mark.django_db
def test_a_request_id_is_generated_when_absent(client):
    response = client.get("/healthz")

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["has spaces", "a" * 129, "new\\nline", "<script>", "ünïcode", "id;drop"],
)
def test_an_invalid_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response["X-Request-ID"] != incoming
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_every_request_gets_its_own_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert first != second


@pytest.mark.django_db
def test_responses_made_by_middleware_and_error_handlers_carry_the_id(client, settings):
    settings.API_MAX_BODY_BYTES = 4

    too_large = client.post(
        "/api/v1/auth/register/",
        data='{"email": "a@example.com"}',
        content_type="application/json",
        headers={"X-Request-ID": "req-413"},
    )
    not_found = client.get("/api/v1/nothing-here/", headers={"X-Request-ID": "req-404"})

    assert (too_large.status_code, too_large["X-Request-ID"]) == (413, "req-413")
    assert (not_found.status_code, not_found["X-Request-ID"]) == (404, "req-404")


@pytest.mark.django_db
def test_the_request_id_does_not_outlive_the_request(client):
    client.get("/healthz", headers={"X-Request-ID": "req-1"})

    assert request_id_var.get() == "-"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.django_db
def test_the_log_line_of_a_failed_request_carries_the_id_the_client_saw(api_client):
    # given a handler configured like the console one (request id filter, JSON format)
    handler = _Collect()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("core.api")
    logger.addHandler(handler)
    user = UserFactory()

    try:
        with mock.patch("accounts.services.auth_login", side_effect=RuntimeError("boom")):
            response = api_client.post(
                "/api/v1/auth/token/",
                {"email": user.email, "password": DEFAULT_PASSWORD},
                format="json",
            )
    finally:
        logger.removeHandler(handler)

    [record] = handler.records
    line = json.loads(JsonFormatter().format(record))
    assert response.status_code == 500
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "ERROR"
    assert "RuntimeError: boom" in line["exc_info"]


# --- JSON log lines ------------------------------------------------------------------------


def _record(
    msg: str = "user %s paid %s", args: tuple = ("asha", 499), **extra
) -> logging.LogRecord:
    record = logging.getLogger("payments.webhook").makeRecord(
        "payments.webhook", logging.WARNING, __file__, 10, msg, args, None, extra=extra
    )
    record.created = 0.0  # 1970-01-01T00:00:00Z, so the line can be compared exactly
    return record


def _format(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_json_log_line_carries_the_request_id_and_extras():
    # given a log call made while serving request "req-42"
    token = request_id_var.set("req-42")
    try:
        record = _record(order_id=17, amount_paise=49900, captured=True, gateway=object())
        # when it is filtered and formatted
        line = _format(record)
    finally:
        request_id_var.reset(token)

    # then
    gateway = line.pop("gateway")
    assert line == {
        "time": "1970-01-01T00:00:00+00:00",
        "level": "WARNING",
        "logger": "payments.webhook",
        "message": "user asha paid 499",
        "request_id": "req-42",
        "user_id": "-",
        "order_id": 17,
        "amount_paise": 49900,
        "captured": True,
    }
    assert gateway.startswith("<object object at ")


def test_the_request_id_is_bound_when_the_record_is_made_not_when_it_is_written():
    token = request_id_var.set("req-7")
    try:
        record = _record()
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)

    # a handler writing later (say from a queue) still has the request's id
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-7"


def test_a_log_line_outside_a_request_has_a_placeholder_id():
    line = _format(_record())

    assert line["request_id"] == "-"


def test_an_explicit_request_id_in_extra_wins():
    token = request_id_var.set("req-outer")
    try:
        line = _format(_record(request_id="task-9"))
    finally:
        request_id_var.reset(token)

    assert line["request_id"] == "task-9"


def test_a_log_line_carries_the_traceback_and_skips_private_attributes():
    try:
        raise ValueError("bad input")
    except ValueError:
        record = logging.getLogger("core.api").makeRecord(
            "core.api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    record._private = "hidden"

    line = _format(record)

    assert line["message"] == "failed"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith("ValueError: bad input")
    assert "_private" not in line
    assert set(line) == {"time", "level", "logger", "message", "request_id", "user_id", "exc_info"}


def test_non_ascii_messages_stay_readable():
    line = JsonFormatter().format(_record("फ़ीस ₹%s", (499,)))

    assert '"message": "फ़ीस ₹499"' in line
