"""The web checkout page (plain Django views and templates, not the API).

A learner reaches it through the signed, short-lived ``checkout_url`` that ``POST orders/``
returns: the token in the query string is the only authorisation (the learner may not be
logged in to the website at all), so every view starts with ``services.checkout_order``
and answers 404 for a missing, tampered or expired token or another order's token. The
token is carried along on every form and redirect.

Razorpay mode renders Razorpay Checkout, whose handler posts the callback to
``checkout-verify``; simulated mode renders a payment sheet of our own (no external
resources) whose "Pay" and "Fail" buttons post to ``checkout-simulate``. Both end in
``services.order_verify``, the same service as ``POST orders/{id}/verify/``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.request_context import bind_log_context
from payments import invoices, selectors, services
from payments.errors import OrderNotFound, PaymentNotVerified, SignatureInvalid
from payments.gateways import GatewayError, gateway_for
from payments.models import Order

logger = logging.getLogger(__name__)

CALLBACK_FIELDS = ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")
CHECKOUT_JS = "https://checkout.razorpay.com/v1/checkout.js"


def _order(order_id: UUID, request: HttpRequest) -> Order | None:
    bind_log_context(order_id=order_id)
    try:
        return services.checkout_order(str(order_id), request.GET.get("token", ""))
    except OrderNotFound:
        return None


def _not_found(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "404.html", status=404))


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the address must not reach another site (checkout.js is cross-origin).
    response["Referrer-Policy"] = "same-origin"
    return response


def _with_token(name: str, order: Order, token: str) -> str:
    return f"{reverse(name, kwargs={'order_id': order.pk})}?{urlencode({'token': token})}"


def _razorpay_options(order: Order) -> dict[str, Any]:
    """What Razorpay Checkout needs; the handler is added by the template's script."""
    user = order.user
    prefill = {"name": user.full_name or "", "email": user.email or ""}
    if user.phone:
        prefill["contact"] = user.phone
    return {
        "key": gateway_for(order.gateway).key_id,
        "amount": order.total_paise,
        "currency": order.currency,
        "name": settings.PAYMENTS_BRAND_NAME,
        "description": f"{order.product.title} · {order.plan.name}",
        "order_id": order.gateway_order_id,
        "prefill": prefill,
        "notes": {"order": str(order.pk)},
    }


FAILED_ATTEMPT = "The payment did not go through, and nothing was charged."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


def _page(
    request: HttpRequest,
    order: Order,
    token: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    order.refresh_from_db()
    invoice = getattr(order, "invoice", None) if order.status in selectors.PAID_STATES else None
    context: dict[str, Any] = {
        "order": order,
        "token": token,
        "display_time_zone": settings.DISPLAY_TIME_ZONE,  # times shown for people: IST
        "invoice": invoice,
        "enrollment": order.enrollment if order.enrollment_id else None,
        "error": error,
        "failure_reason": _sentence(order.failure_reason),
        "payable": order.status == Order.Status.CREATED and bool(order.gateway_order_id),
        "simulate_url": _with_token("checkout-simulate", order, token),
        "verify_url": _with_token("checkout-verify", order, token),
        "page_url": _with_token("checkout", order, token),
        "invoice_url": _with_token("checkout-invoice", order, token) if invoice else "",
        "checkout_js": CHECKOUT_JS,
    }
    if context["payable"] and order.gateway == Order.Gateway.RAZORPAY:
        context["razorpay_options"] = _razorpay_options(order)
    return _private(render(request, "payments/checkout.html", context, status=status))


def _back_to_page(order: Order, token: str, *, failed: bool = False) -> HttpResponseRedirect:
    url = _with_token("checkout", order, token) + ("&attempt=failed" if failed else "")
    response = HttpResponseRedirect(url)
    response.status_code = 303  # see other: the browser GETs the page (no re-POST on reload)
    return response


@never_cache
@require_safe
def checkout(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """The order's checkout page: the payment sheet while it awaits payment, its state
    (paid, failed, expired, refunded) afterwards."""
    order = _order(order_id, request)
    if order is None:
        return _not_found(request)
    failed = request.GET.get("attempt") == "failed"
    return _page(request, order, request.GET["token"], error=FAILED_ATTEMPT if failed else "")


@never_cache
@require_POST
def checkout_simulate(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """The simulated gateway's "Pay" and "Fail" buttons (simulated orders only)."""
    order = _order(order_id, request)
    if order is None or order.gateway != Order.Gateway.SIMULATED:
        return _not_found(request)
    token = request.GET["token"]
    outcome = request.POST.get("outcome")
    if outcome not in ("pay", "fail"):
        return _page(request, order, token, error="Choose Pay or Fail.", status=400)
    if order.status != Order.Status.CREATED or not order.gateway_order_id:
        return _back_to_page(order, token)  # already settled: the page shows how
    from payments.gateways.simulated import SimulatedGateway

    try:
        callback = SimulatedGateway().simulate_checkout(
            order.gateway_order_id, succeed=outcome == "pay"
        )
    except GatewayError as exc:
        logger.warning("simulated checkout refused", extra={"order_id": str(order.pk)})
        return _page(request, order, token, error=f"The gateway refused: {exc}", status=409)
    if "error" in callback:
        # The payment.failed webhook (sent by the simulated gateway) marks the order failed;
        # the page says so after a redirect, so reloading it never sends the form again.
        return _back_to_page(order, token, failed=True)
    return _verify(request, order, token, callback)


@never_cache
@require_POST
def checkout_verify(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """Razorpay Checkout's handler posts its three callback fields here."""
    order = _order(order_id, request)
    if order is None:
        return _not_found(request)
    token = request.GET["token"]
    callback = {name: request.POST.get(name, "").strip() for name in CALLBACK_FIELDS}
    missing = [name for name, value in callback.items() if not value]
    if missing:
        return _page(request, order, token, error=f"Missing {', '.join(missing)}.", status=400)
    return _verify(request, order, token, callback)


@never_cache
@require_safe
def checkout_invoice(request: HttpRequest, order_id: UUID) -> HttpResponse:
    """The paid order's tax invoice (the printable page the API also serves), for the
    learner who just paid in the browser and holds the checkout link."""
    order = _order(order_id, request)
    invoice = getattr(order, "invoice", None) if order is not None else None
    if invoice is None:
        return _not_found(request)
    html = invoices.render_invoice_html(invoice)
    return _private(HttpResponse(html, content_type="text/html; charset=utf-8"))


def _verify(
    request: HttpRequest, order: Order, token: str, callback: dict[str, str]
) -> HttpResponse:
    # The signed token authorises the page, so the order's own learner is the caller.
    try:
        services.order_verify(user=order.user, order_id=order.pk, **callback)
    except (SignatureInvalid, PaymentNotVerified) as exc:
        logger.warning("checkout verify refused", extra={"order_id": str(order.pk)})
        return _page(request, order, token, error=exc.detail, status=400)
    return _back_to_page(order, token)
