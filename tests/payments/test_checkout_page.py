"""The web checkout page: the signed short-lived token is its only authorisation; the
simulated payment sheet pays or fails an order through the same services as the API;
Razorpay mode renders Razorpay Checkout and verifies its callback."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from catalogue.models import Enrollment
from payments import services
from payments.gateways.base import sign
from payments.models import Order, Payment, WebhookEvent
from tests.accounts.factories import UserFactory
from tests.payments.factories import paid_plan

pytestmark = pytest.mark.django_db


def _order(*, price_paise: int = 49900, user=None) -> Order:
    plan = paid_plan(price_paise=price_paise, title="Physics Test Series")
    order, _ = services.order_create(user=user or UserFactory(), plan_id=plan.pk)
    return order


def _url(order: Order, suffix: str = "", *, token: str | None = None) -> str:
    token = services.checkout_token(order) if token is None else token
    return f"/checkout/{order.pk}/{suffix}?{urlencode({'token': token})}"


def _csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def _csrf_token(client: Client, order: Order) -> str:
    page = client.get(_url(order))
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


def _rzp_options(response) -> dict:
    text = re.search(
        r'<script id="razorpay-options" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )[1]
    return json.loads(text)


def _as_razorpay_order(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(
        gateway=Order.Gateway.RAZORPAY, gateway_order_id="order_RzpPage0000001"
    )
    order.refresh_from_db()
    return order


# --- the token ------------------------------------------------------------------------------


def test_the_page_shows_a_payment_sheet_without_external_resources_and_is_not_cached(client):
    order = _order(price_paise=149900)
    token = services.checkout_token(order)

    response = client.get(_url(order, token=token))

    assert response.status_code == 200
    text = response.content.decode()
    assert "₹1,499" in text
    assert "Physics Test Series" in text
    assert order.plan.name in text
    assert 'value="pay"' in text
    assert 'value="fail"' in text
    assert html.escape(_url(order, "simulate/", token=token)) in text  # the token carried
    assert "csrfmiddlewaretoken" in text
    assert "checkout.razorpay.com" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing loaded from elsewhere
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="missing"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("tampered", id="tampered"),
        pytest.param("other-order", id="another-orders-token"),
    ],
)
def test_a_missing_tampered_or_foreign_token_is_404(client, token):
    order = _order()
    if token == "tampered":
        good = services.checkout_token(order)
        token = good[:-1] + ("A" if good[-1] != "A" else "B")
    elif token == "other-order":
        token = services.checkout_token(_order())

    page = client.get(_url(order, token=token))
    simulate = client.post(_url(order, "simulate/", token=token), {"outcome": "pay"})
    verify = client.post(_url(order, "verify/", token=token), {"razorpay_payment_id": "pay_x"})
    invoice = client.get(_url(order, "invoice/", token=token))

    assert page.status_code == 404
    assert simulate.status_code == 404
    assert verify.status_code == 404
    assert invoice.status_code == 404
    assert "no-store" in page["Cache-Control"]
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    assert not Payment.objects.exists()


def test_an_expired_token_is_404(client, settings):
    order = _order()
    token = services.checkout_token(order)
    later = timezone.now() + timedelta(seconds=settings.CHECKOUT_LINK_MAX_AGE_SECONDS + 5)

    with time_machine.travel(later, tick=False):
        response = client.get(_url(order, token=token))

    assert response.status_code == 404


def test_a_valid_token_for_an_order_that_does_not_exist_is_404(client):
    ghost = Order(pk="00000000-0000-4000-8000-000000000000")

    response = client.get(_url(ghost))

    assert response.status_code == 404


# --- the simulated payment sheet ---------------------------------------------------------------


def test_pay_marks_the_order_paid_grants_the_enrollment_and_the_page_shows_paid(
    simulated_webhooks,
):
    order = _order()
    token = services.checkout_token(order)
    client = _csrf_client()
    csrf = _csrf_token(client, order)

    response = client.post(
        _url(order, "simulate/", token=token), {"outcome": "pay", "csrfmiddlewaretoken": csrf}
    )

    assert response.status_code == 303
    assert response["Location"] == _url(order, token=token)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.paid_at is not None
    enrollment = Enrollment.objects.get(user=order.user, product=order.product)
    assert order.enrollment == enrollment
    assert enrollment.order_id == order.pk
    assert enrollment.revoked_at is None
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "Paid" in text
    assert 'value="pay"' not in text  # nothing left to pay
    assert order.invoice.number in text
    invoice = client.get(_url(order, "invoice/", token=token))
    assert html.escape(_url(order, "invoice/", token=token)) in text
    assert invoice.status_code == 200
    assert order.invoice.number in invoice.content.decode()
    assert "no-store" in invoice["Cache-Control"]
    assert f"until {enrollment.expires_at.astimezone(_ist()):%-d %b %Y}" in text


def test_paying_again_after_paid_changes_nothing(client, simulated_webhooks):
    order = _order()
    client.post(_url(order, "simulate/"), {"outcome": "pay"})

    again = client.post(_url(order, "simulate/"), {"outcome": "pay"})

    assert again.status_code == 303
    assert Payment.objects.filter(order=order).count() == 1
    assert Enrollment.objects.filter(user=order.user, product=order.product).count() == 1


def test_fail_shows_the_reason_pays_nothing_and_the_webhook_marks_the_order_failed(
    client, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = _order()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(order, "simulate/"), {"outcome": "fail"})

    assert response.status_code == 303  # reloading the page never sends the form again
    shown = client.get(response["Location"]).content.decode()
    assert "The payment did not go through, and nothing was charged." in shown
    assert "Payment failed: Payment failed" not in shown
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED  # until the payment.failed webhook
    assert not Enrollment.objects.filter(user=order.user).exists()
    (webhook,) = simulated_webhooks
    assert webhook.json()["event"] == "payment.failed"

    services.webhook_receive(webhook.body, webhook.headers)

    order.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED
    page = client.get(_url(order))
    assert "Payment failed" in page.content.decode()
    assert "Payment failed. Nothing was charged." in page.content.decode()
    assert 'value="pay"' not in page.content.decode()
    assert client.get(_url(order, "invoice/")).status_code == 404  # nothing was invoiced


def test_the_simulate_form_is_csrf_protected_and_refuses_an_unknown_outcome(simulated_webhooks):
    order = _order()
    client = _csrf_client()
    csrf = _csrf_token(client, order)

    forged = client.post(_url(order, "simulate/"), {"outcome": "pay"})
    unknown = client.post(
        _url(order, "simulate/"), {"outcome": "maybe", "csrfmiddlewaretoken": csrf}
    )

    assert forged.status_code == 403
    assert unknown.status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    assert not Payment.objects.exists()


def test_simulate_is_404_for_a_razorpay_order(client):
    order = _as_razorpay_order(_order())

    response = client.post(_url(order, "simulate/"), {"outcome": "pay"})

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED


# --- Razorpay mode ----------------------------------------------------------------------------


def test_razorpay_mode_renders_checkout_js_with_the_order_amount_and_prefill(
    client, razorpay_settings
):
    order = _as_razorpay_order(_order(price_paise=59900))
    order.user.full_name = "Asha Rao"
    order.user.save()

    token = services.checkout_token(order)

    response = client.get(_url(order, token=token))

    text = response.content.decode()
    assert response.status_code == 200
    assert '<script src="https://checkout.razorpay.com/v1/checkout.js"></script>' in text
    options = _rzp_options(response)
    assert options["order_id"] == "order_RzpPage0000001"
    assert options["amount"] == 59900
    assert options["currency"] == "INR"
    assert options["name"] == "Examforge"
    assert options["description"] == f"Physics Test Series · {order.plan.name}"
    assert options["prefill"] == {"name": "Asha Rao", "email": order.user.email}
    assert options["key"] == razorpay_settings.RAZORPAY_KEY_ID
    assert html.escape(_url(order, "verify/", token=token)) in text
    assert "options.handler" in text
    assert 'value="pay"' not in text  # no simulated buttons
    assert "no-store" in response["Cache-Control"]


def test_verify_with_a_bad_signature_is_400_and_nothing_is_paid(client):
    order = _order()
    fields = {
        "razorpay_order_id": order.gateway_order_id,
        "razorpay_payment_id": "pay_Forged00000001",
        "razorpay_signature": "0" * 64,
    }

    response = client.post(_url(order, "verify/"), fields)

    assert response.status_code == 400
    assert "signature" in response.content.decode().lower()
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    assert not Payment.objects.exists()
    assert not Enrollment.objects.exists()


def test_verify_of_a_payment_the_gateway_does_not_know_is_400_and_nothing_is_paid(client, settings):
    order = _order()
    payment_id = "pay_MadeUp00000002"
    signed = sign(settings.SIMULATED_GATEWAY_SECRET, f"{order.gateway_order_id}|{payment_id}")
    fields = {
        "razorpay_order_id": order.gateway_order_id,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": signed,
    }

    response = client.post(_url(order, "verify/"), fields)

    assert response.status_code == 400
    assert "does not know this payment" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED
    assert not Payment.objects.exists()
    assert not Enrollment.objects.exists()


def test_verify_with_missing_fields_is_400(client):
    order = _order()

    response = client.post(_url(order, "verify/"), {"razorpay_order_id": order.gateway_order_id})

    assert response.status_code == 400
    assert "razorpay_payment_id" in response.content.decode()
    assert not Payment.objects.exists()


def test_verify_with_a_good_callback_pays_and_redirects_to_the_paid_page(
    client, simulated_webhooks
):
    # Checkout's success callback, as the handler posts it (signed by the simulated gateway).
    from payments.gateways.simulated import SimulatedGateway

    order = _order()
    callback = SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)

    response = client.post(_url(order, "verify/"), callback)

    assert response.status_code == 303
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert "Paid" in client.get(response["Location"]).content.decode()


def _ist():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Kolkata")
