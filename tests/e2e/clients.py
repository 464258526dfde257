"""The clients of the journeys: a learner's app (JSON API with a bearer token, one per
device), Razorpay (signed webhooks in its payload shapes) and the web checkout page."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import string
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.browser import Browser, form
from tests.live import WEBHOOK_SECRET

API = "/api/v1/"
PASSWORD = "correct-horse-battery-e2e"
RAZORPAY_SHAPES = Path(__file__).resolve().parent.parent / "payments" / "razorpay"


def unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:10]}@e2e.examforge.test"


def wait_for(check: Callable[[], Any], *, seconds: float = 15, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy (the task worker is asynchronous)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what or check}")
        time.sleep(0.2)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The project's one error shape: ``{"code", "detail", "fields"?}`` with the status."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert set(body) <= {"code", "detail", "fields"}, body
    return body


class App:
    """A learner's app on one device: its own connection and tokens."""

    def __init__(self, base_url: str, access: str, refresh: str = "") -> None:
        self.client = httpx.Client(base_url=base_url + API, timeout=30)
        self.access = access
        self.refresh = refresh

    @classmethod
    def register(cls, base_url: str, email: str, full_name: str) -> tuple[App, dict]:
        with httpx.Client(base_url=base_url + API, timeout=30) as client:
            response = client.post(
                "auth/register/",
                json={"email": email, "password": PASSWORD, "full_name": full_name},
            )
        assert response.status_code == 201, response.text
        body = response.json()
        return cls(base_url, body["access"], body["refresh"]), body["user"]

    @classmethod
    def login(cls, base_url: str, email: str, password: str = PASSWORD) -> App:
        with httpx.Client(base_url=base_url + API, timeout=30) as client:
            response = client.post("auth/token/", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return cls(base_url, response.json()["access"], response.json()["refresh"])

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.access}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs) -> httpx.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


# --- the web checkout page ------------------------------------------------------------------


def pay_on_checkout_page(base_url: str, checkout_url: str, outcome: str = "pay") -> Browser:
    """What the learner's browser does with ``checkout_url``: open the page (no login, the
    signed link is the authorisation), press "Pay" (or "Fail"), follow the redirect."""
    browser = Browser(httpx.Client(base_url=base_url, timeout=30))
    page = browser.get(checkout_url)
    assert page.status_code == 200, page.text
    button = form(page.text, action="/simulate/", where={"outcome": outcome})
    assert button.get("csrfmiddlewaretoken"), "the form carries Django's CSRF token"
    done = browser.submit(button)
    assert [r.status_code for r in done.redirects] == [303], "post/redirect/get"
    assert done.status_code == 200, done.text
    return browser


# --- Razorpay's webhooks --------------------------------------------------------------------


def _shape(name: str) -> dict[str, Any]:
    return json.loads((RAZORPAY_SHAPES / f"webhook_{name}.json").read_text())


def razorpay_event(
    event: str, *, payment: dict[str, Any], order_id: str, receipt: str
) -> dict[str, Any]:
    """``payment.captured`` or ``order.paid`` in Razorpay's documented shape, for one
    gateway payment (the entity as the gateway holds it) and its gateway order."""
    envelope = _shape(event.replace(".", "_"))
    entity = copy.deepcopy(envelope["payload"]["payment"]["entity"])
    for key in ("id", "amount", "currency", "order_id", "method", "created_at"):
        entity[key] = payment[key]
    entity.update(status="captured", captured=True, notes={"order": receipt})
    envelope["payload"]["payment"]["entity"] = entity
    if "order" in envelope["payload"]:
        order = envelope["payload"]["order"]["entity"]
        order.update(
            id=order_id,
            amount=payment["amount"],
            amount_paid=payment["amount"],
            amount_due=0,
            currency=payment["currency"],
            receipt=receipt,
            status="paid",
            notes={"order": receipt},
        )
    envelope["created_at"] = int(time.time())
    return envelope


def new_event_id() -> str:
    return "evt_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


def post_webhook(
    http: httpx.Client,
    envelope: dict[str, Any],
    event_id: str,
    *,
    secret: str = WEBHOOK_SECRET,
    tamper: bool = False,
) -> httpx.Response:
    """Deliver as Razorpay does: the raw body, its HMAC-SHA256 (hex) with the webhook secret
    in ``X-Razorpay-Signature``, the event id in ``X-Razorpay-Event-Id``."""
    body = json.dumps(envelope, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if tamper:  # signed, then changed in transit (a bigger amount)
        body = body.replace(b'"amount_paid":', b'"amount_paid":1', 1)
    return http.post(
        API + "payments/razorpay/webhook/",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Razorpay-Signature": signature,
            "X-Razorpay-Event-Id": event_id,
        },
    )
