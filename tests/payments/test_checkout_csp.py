"""The checkout page's Content-Security-Policy lets Razorpay Checkout run, and our own
inline script only with the response's nonce."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from payments import services
from payments.models import Order
from tests.accounts.factories import UserFactory
from tests.payments.factories import paid_plan

pytestmark = pytest.mark.django_db


def test_the_checkout_page_allows_razorpay_checkout_and_its_nonced_script(
    client, razorpay_settings
):
    order, _ = services.order_create(user=UserFactory(), plan_id=paid_plan().pk)
    Order.objects.filter(pk=order.pk).update(
        gateway=Order.Gateway.RAZORPAY, gateway_order_id="order_RzpCsp00000001"
    )
    url = f"/checkout/{order.pk}/?{urlencode({'token': services.checkout_token(order)})}"

    response = client.get(url)

    assert response.status_code == 200
    policy = {
        name: values
        for name, *values in (
            part.split() for part in response["Content-Security-Policy"].split(";")
        )
    }
    nonce = re.search(r'<script nonce="([^"]+)">', response.content.decode())[1]
    assert policy["script-src"] == [
        "'self'",
        "https://checkout.razorpay.com",
        "https://cdn.razorpay.com",  # checkout.js loads its risk-detection bundle from here
        f"'nonce-{nonce}'",
    ]
    assert "https://api.razorpay.com" in policy["frame-src"]
    assert "https://api.razorpay.com" in policy["connect-src"]
    assert '<script src="https://checkout.razorpay.com/v1/checkout.js"></script>' in (
        response.content.decode()
    )
