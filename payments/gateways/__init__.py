"""Payment gateways behind one interface: Razorpay (the official SDK) and a simulated
gateway that behaves like Razorpay's test mode. ``get_gateway()`` picks one from settings:
Razorpay when ``RAZORPAY_KEY_ID`` and ``RAZORPAY_KEY_SECRET`` are set, simulated otherwise."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from payments.gateways.base import Gateway, GatewayError, verify_webhook_signature

__all__ = ["Gateway", "GatewayError", "gateway_for", "get_gateway", "verify_webhook_signature"]

GATEWAYS = {
    "razorpay": "payments.gateways.razorpay.RazorpayGateway",
    "simulated": "payments.gateways.simulated.SimulatedGateway",
}


def get_gateway() -> Gateway:
    """The gateway new orders use (settings.PAYMENT_GATEWAY)."""
    return import_string(settings.PAYMENT_GATEWAY)()


def gateway_for(name: str) -> Gateway:
    """The gateway an existing order was created with (``Order.gateway``)."""
    return import_string(GATEWAYS[name])()
