"""What Sentry would receive: no Authorization header, cookies or auth request bodies."""

from __future__ import annotations

from core.sentry import before_send


def _event(url: str, data: dict | None = None) -> dict:
    return {
        "request": {
            "url": url,
            "method": "POST",
            "headers": {
                "Authorization": "Bearer eyJ.secret",
                "Cookie": "sessionid=abc",
                "X-Razorpay-Signature": "deadbeef",
                "User-Agent": "pytest",
            },
            "cookies": {"sessionid": "abc"},
            "data": data or {"email": "a@example.com", "password": "hunter2-hunter2"},
            "query_string": "token=abc",
        }
    }


def test_before_send_drops_credentials_and_auth_bodies():
    event = before_send(_event("https://examforge.example/api/v1/auth/token/"), {})

    assert event["request"] == {
        "url": "https://examforge.example/api/v1/auth/token/",
        "method": "POST",
        "headers": {"User-Agent": "pytest"},
    }


def test_before_send_drops_the_webhook_body_and_checkout_tokens():
    for url in (
        "https://examforge.example/api/v1/payments/razorpay/webhook/",
        "https://examforge.example/checkout/6f1c/verify/",
    ):
        event = before_send(_event(url), {})

        assert "data" not in event["request"]
        assert "query_string" not in event["request"]


def test_before_send_keeps_other_bodies_but_never_the_headers_with_credentials():
    event = before_send(_event("https://examforge.example/api/v1/orders/", {"plan": 3}), {})

    assert event["request"]["data"] == {"plan": 3}
    assert event["request"]["headers"] == {"User-Agent": "pytest"}
