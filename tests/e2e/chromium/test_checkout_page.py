"""The simulated checkout page in Chromium: the learner orders through the API, opens the
signed checkout link, and presses "Pay" (the order is paid and the enrollment appears) or
"Fail" (the page says so and nothing is paid)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.chromium.conftest import enrollments, order_create, register_learner
from tests.e2e.clients import wait_for

FAILED = "The payment did not go through, and nothing was charged."


@pytest.fixture(scope="module")
def learner(live):
    """One learner for the module: each test buys a different product."""
    with httpx.Client(base_url=live.url, timeout=30) as http:
        return register_learner(http)


def _paid_plan(http, slug: str) -> dict:
    product = http.get(f"/api/v1/catalogue/products/{slug}/")
    assert product.status_code == 200, product.text
    return next(plan for plan in product.json()["plans"] if plan["price_paise"] > 0)


def _order(http, learner, order_id: str) -> dict:
    response = http.get(f"/api/v1/orders/{order_id}/", headers=learner.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_pay_on_the_checkout_page(page, shot, http, live, learner):
    plan = _paid_plan(http, "django-test-series")
    order = order_create(http, learner, plan["id"])
    assert order["status"] == "created"

    page.goto(order["checkout_url"])
    expect(page.locator(".sheet .brand")).to_have_text("Django Test Series")
    expect(page.locator(".badge")).to_have_text("Test mode · simulated")
    expect(page.locator("button.pay")).to_contain_text("Pay ₹")
    shot(page, "checkout")
    page.click("button.pay")

    expect(page.locator(".state.paid")).to_have_text("Paid")
    expect(page.locator("#checkout-error")).to_be_hidden()
    expect(page.locator("#invoice-link")).to_have_text(re.compile(r"^EF/\d{4}-\d{2}/\d{6}$"))
    shot(page, "paid")
    paid = _order(http, learner, order["id"])
    assert paid["status"] == "paid"
    (enrollment,) = [
        e
        for e in enrollments(http, learner, live="true")
        if e["product"]["slug"] == "django-test-series"
    ]
    assert enrollment["plan"]["id"] == plan["id"]
    assert enrollment["id"] == paid["enrollment"]
    # Reloading the page after paying shows the state; it never pays twice.
    page.reload()
    expect(page.locator(".state.paid")).to_have_text("Paid")
    assert live.sql("SELECT count(*) FROM payments_payment WHERE order_id = %s", [order["id"]]) == [
        (1,)
    ]


def test_fail_on_the_checkout_page(page, shot, http, learner):
    plan = _paid_plan(http, "web-security-drill")
    order = order_create(http, learner, plan["id"])

    page.goto(order["checkout_url"])
    shot(page, "checkout")
    page.click("button.fail")

    expect(page.locator("#checkout-error")).to_have_text(FAILED)
    shot(page, "failure-message")
    failed = wait_for(
        lambda: (body := _order(http, learner, order["id"]))["status"] == "failed" and body,
        what="the failed payment's webhook",
    )
    assert failed["paid_at"] is None
    assert failed["enrollment"] is None
    assert [
        e for e in enrollments(http, learner) if e["product"]["slug"] == "web-security-drill"
    ] == []
    page.reload()
    expect(page.locator(".state.failed")).to_have_text("Payment failed")
    expect(page.locator("button.pay")).to_have_count(0)
    shot(page, "failed-order")


def test_a_tampered_checkout_link_is_not_found(page, shot, watch, http, learner):
    order = order_create(http, learner, _paid_plan(http, "complete-backend-bundle")["id"])
    tampered = re.sub(r"token=[^&]+", "token=forged", order["checkout_url"])
    watch.expect_error(f"status of 404 (Not Found) [{tampered}]")

    response = page.goto(tampered)

    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("button.pay")).to_have_count(0)
    shot(page, "not-found")
