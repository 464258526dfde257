"""The payment boundary of verify and of a staging site on the simulated gateway: a signature
alone never pays an order the gateway does not know, and production settings refuse the
simulated gateway with its public default secrets. Razorpay's HTTP is stubbed by
``responses`` in its documented shapes (tests/payments/conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
import responses
from rest_framework.test import APIClient

from payments import services
from payments.gateways.base import sign
from payments.models import Order, Payment
from tests.accounts.factories import UserFactory
from tests.core.test_settings import _PASSED_THROUGH, ROOT, VALID_PRODUCTION, _setup
from tests.payments.conftest import API, KEY_SECRET, ORDER, razorpay_error
from tests.payments.factories import paid_plan

RAZORPAY = "payments.gateways.razorpay.RazorpayGateway"
DEFAULT_KEY_SECRET = "examforge-simulated-key-secret"
DEFAULT_WEBHOOK_SECRET = "examforge-simulated-webhook-secret"


def _verify(order: Order, payment_id: str, secret: str):
    client = APIClient()
    client.force_authenticate(order.user)
    return client.post(
        f"/api/v1/orders/{order.pk}/verify/",
        {
            "razorpay_order_id": order.gateway_order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": sign(secret, f"{order.gateway_order_id}|{payment_id}"),
        },
        format="json",
    )


def _assert_unchanged(order: Order) -> None:
    order.refresh_from_db()
    assert (order.status, order.paid_at, order.enrollment_id) == ("created", None, None)
    assert not Payment.objects.filter(order=order).exists()


# --- verify ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_made_up_payment_signed_with_the_simulated_secret_does_not_pay():
    order, _ = services.order_create(user=UserFactory(), plan_id=paid_plan().id)

    response = _verify(order, "pay_MadeUp00000001", DEFAULT_KEY_SECRET)

    assert response.status_code == 400
    assert response.json()["code"] == "payment_not_verified"
    assert "does not exist" in response.json()["fields"]["razorpay_payment_id"][0]
    _assert_unchanged(order)


@pytest.mark.django_db
def test_razorpay_answering_no_such_payment_is_a_verification_failure(fake_razorpay, settings):
    settings.PAYMENT_GATEWAY = RAZORPAY
    order, _ = services.order_create(user=UserFactory(), plan_id=paid_plan().id)

    # Signed with the real key secret, but Razorpay has no such payment (400 in its shape).
    response = _verify(order, "pay_NotAtRazorpay1", KEY_SECRET)

    assert response.status_code == 400
    assert response.json()["code"] == "payment_not_verified"
    _assert_unchanged(order)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503])
def test_razorpay_down_during_verify_lets_the_signature_stand(
    razorpay_settings, razorpay_http, status
):
    razorpay_settings.PAYMENT_GATEWAY = RAZORPAY
    plan = paid_plan(price_paise=ORDER["amount"])
    razorpay_http.add(responses.POST, f"{API}/orders", json=ORDER)
    razorpay_http.add(
        responses.GET,
        re.compile(rf"{API}/payments/\w+$"),
        status=status,
        json=razorpay_error("The server encountered an error", code="SERVER_ERROR"),
    )
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)

    response = _verify(order, "pay_DESlfW9H8K9uqM", KEY_SECRET)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get(order=order).status == "authorized"


@pytest.mark.django_db
def test_razorpay_unreachable_during_verify_lets_the_signature_stand(
    razorpay_settings, razorpay_http
):
    razorpay_settings.PAYMENT_GATEWAY = RAZORPAY
    plan = paid_plan(price_paise=ORDER["amount"])
    razorpay_http.add(responses.POST, f"{API}/orders", json=ORDER)
    razorpay_http.add(
        responses.GET,
        re.compile(rf"{API}/payments/\w+$"),
        body=requests.ConnectionError("connection refused"),
    )
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)

    response = _verify(order, "pay_DESlfW9H8K9uqM", KEY_SECRET)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"


# --- production settings -------------------------------------------------------------------

STAGING = {
    **VALID_PRODUCTION,
    "RAZORPAY_KEY_ID": "",
    "RAZORPAY_KEY_SECRET": "",
    "PAYMENTS_ALLOW_SIMULATED": "true",
    "SIMULATED_GATEWAY_SECRET": "staging-simulated-key-secret-0123456789abcdef",
    "RAZORPAY_WEBHOOK_SECRET": "staging-webhook-secret-0123456789abcdefghij",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIMULATED_GATEWAY_SECRET", ""),
        ("SIMULATED_GATEWAY_SECRET", DEFAULT_KEY_SECRET),
        ("RAZORPAY_WEBHOOK_SECRET", ""),
        ("RAZORPAY_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
        ("RAZORPAY_WEBHOOK_SECRET", "short-secret"),
    ],
)
def test_production_refuses_the_simulated_gateway_with_a_public_or_weak_secret(variable, value):
    result = _setup("config.settings.production", **{**STAGING, variable: value})

    assert result.returncode != 0
    assert variable in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_check_deploy_refuses_the_simulated_gateway_with_the_default_key_secret():
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(STAGING, SIMULATED_GATEWAY_SECRET="")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "SIMULATED_GATEWAY_SECRET must be set to a random value" in result.stderr


def test_a_staging_site_with_secrets_of_its_own_starts():
    result = _setup(
        "config.settings.production",
        then="from django.conf import settings; print(settings.PAYMENT_GATEWAY)",
        **STAGING,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "payments.gateways.simulated.SimulatedGateway"
