"""The finance back office: read-only orders with their payments, refunds and webhook events,
totals of the filtered list, refunds through the gateway, webhook reprocessing, coupons."""

from __future__ import annotations

import html
import json

import pytest
from django.contrib.auth.models import Permission

from catalogue.models import Enrollment
from payments import services
from payments.gateways.simulated import SimulatedGateway
from payments.models import Order, Payment, Refund, WebhookEvent
from tests.accounts.factories import StaffFactory, UserFactory
from tests.payments.factories import CouponFactory, paid_plan

pytestmark = pytest.mark.django_db

ORDERS = "/admin/payments/order/"
PAYMENTS = "/admin/payments/payment/"
REFUNDS = "/admin/payments/refund/"
EVENTS = "/admin/payments/webhookevent/"
COUPONS = "/admin/payments/coupon/"


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, email="finance@examforge.local")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _unpaid(price_paise: int = 49900, *, user=None) -> Order:
    plan = paid_plan(price_paise=price_paise)
    order, _ = services.order_create(user=user or UserFactory(), plan_id=plan.pk)
    return order


def _paid(price_paise: int = 49900, *, user=None) -> Order:
    order = _unpaid(price_paise, user=user)
    callback = SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)
    return services.order_verify(user=order.user, order_id=order.pk, **callback)


def _refund_url(order: Order) -> str:
    return f"{ORDERS}{order.pk}/refund/"


# --- lists and pages --------------------------------------------------------------------------


def test_every_payments_list_and_page_renders_for_a_superuser(
    admin_client, simulated_webhooks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = _paid()
        services.refund_create(order=order, amount_paise=10000, reason="Goodwill", by=None)
    for webhook in simulated_webhooks:
        services.webhook_receive(webhook.body, webhook.headers)
    coupon = CouponFactory()
    event = WebhookEvent.objects.exclude(order=None).first()

    for url in (
        ORDERS,
        f"{ORDERS}{order.pk}/change/",
        _refund_url(order),
        PAYMENTS,
        f"{PAYMENTS}{order.payments.get().pk}/change/",
        REFUNDS,
        f"{REFUNDS}{order.refunds.get().pk}/change/",
        EVENTS,
        f"{EVENTS}{event.pk}/change/",
        COUPONS,
        f"{COUPONS}{coupon.pk}/change/",
        f"{COUPONS}add/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url

    page = admin_client.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert order.payments.get().gateway_payment_id in page
    assert order.refunds.get().gateway_refund_id in page
    assert "Goodwill" in page
    assert "&quot;event&quot;: &quot;payment.captured&quot;" in page  # pretty-printed, escaped


def test_orders_payments_refunds_and_events_cannot_be_added_changed_or_deleted(admin_client):
    order = _paid()

    for url in (f"{ORDERS}add/", f"{PAYMENTS}add/", f"{REFUNDS}add/", f"{EVENTS}add/"):
        assert admin_client.get(url).status_code == 403, url
    assert admin_client.get(f"{ORDERS}{order.pk}/delete/").status_code == 403
    response = admin_client.post(f"{ORDERS}{order.pk}/change/", {"status": "refunded"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    choices = admin_client.get(ORDERS).context["action_form"].fields["action"].choices
    assert [name for name, _ in choices if name] == ["refund", "mark_reviewed"]


def test_staff_without_payments_permissions_see_nothing_and_viewers_cannot_refund(client):
    order = _paid()
    bare = StaffFactory()
    client.force_login(bare)
    assert client.get(ORDERS).status_code == 403

    viewer = StaffFactory()
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="payments", codename="view_order")
    )
    client.force_login(viewer)
    assert client.get(ORDERS).status_code == 200
    response = client.post(_refund_url(order), {"reason": "Asked nicely"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not Refund.objects.exists()


def test_search_by_gateway_payment_id_finds_the_order(admin_client):
    order = _paid()
    _paid()
    payment_id = order.payments.get().gateway_payment_id

    by_payment = admin_client.get(ORDERS, {"q": payment_id})
    by_gateway_order = admin_client.get(ORDERS, {"q": order.gateway_order_id})
    by_our_id = admin_client.get(ORDERS, {"q": str(order.pk)})
    by_email = admin_client.get(ORDERS, {"q": order.user.email})

    for response in (by_payment, by_gateway_order, by_our_id, by_email):
        assert [o.pk for o in response.context["cl"].result_list] == [order.pk]


def test_the_totals_add_up_the_filtered_list_in_rupees(admin_client):
    first = _paid(49900)
    second = _paid(149900)
    _unpaid(99900)
    services.refund_create(order=second, amount_paise=20050, reason="Partial", by=None)

    everything = admin_client.get(ORDERS)
    created_only = admin_client.get(ORDERS, {"status__exact": "created"})
    one_order = admin_client.get(ORDERS, {"q": first.gateway_order_id})

    assert everything.context["totals"] == {
        "revenue": "₹1,998",
        "refunds": "₹200.50",
        "net": "₹1,797.50",
        "paid_orders": 2,
    }
    text = everything.content.decode()
    assert '<strong id="totals-revenue">₹1,998</strong>' in text
    assert '<strong id="totals-refunds">₹200.50</strong>' in text
    assert created_only.context["totals"]["revenue"] == "₹0"
    assert created_only.context["totals"]["paid_orders"] == 0
    assert one_order.context["totals"]["revenue"] == "₹499"


# --- refunds ------------------------------------------------------------------------------------


def test_a_full_refund_from_the_refund_page_refunds_the_order_and_revokes_access(
    admin_client, superuser, simulated_webhooks
):
    order = _paid(49900)
    page = admin_client.get(_refund_url(order))
    assert "₹499" in page.content.decode()

    response = admin_client.post(_refund_url(order), {"amount": "", "reason": "Duplicate buy"})

    assert response.status_code == 302
    assert response["Location"] == f"{ORDERS}{order.pk}/change/"
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refunded_paise == 49900
    refund = Refund.objects.get(order=order)
    assert refund.amount_paise == 49900
    assert refund.status == Refund.Status.PROCESSED
    assert refund.reason == "Duplicate buy"
    assert refund.requested_by == superuser
    assert refund.gateway_refund_id.startswith("rfnd_")
    assert Enrollment.objects.get(pk=order.enrollment_id).revoked_at is not None
    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    followed = admin_client.get(response["Location"])
    assert any("Refund of ₹499 is Processed" in text for text in _messages(followed))


def test_a_refund_above_what_is_left_is_refused_with_a_message_and_changes_nothing(
    admin_client, simulated_webhooks
):
    order = _paid(49900)
    admin_client.post(_refund_url(order), {"amount": "100.00", "reason": "Late start"}, follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    before = (order.status, order.refunded_paise, Refund.objects.count())

    response = admin_client.post(_refund_url(order), {"amount": "400.00", "reason": "More"})

    assert response.status_code == 200
    messages = _messages(response)
    assert len(messages) == 1
    assert messages[0].startswith("Nothing was refunded.")
    assert "Between 1 and 39900 paise" in messages[0]
    order.refresh_from_db()
    assert (order.status, order.refunded_paise, Refund.objects.count()) == before
    assert Enrollment.objects.get(pk=order.enrollment_id).revoked_at is None


def test_an_unpaid_order_cannot_be_refunded(admin_client):
    order = _unpaid()

    response = admin_client.post(_refund_url(order), {"reason": "Nope"})

    assert response.status_code == 200
    assert "Only paid orders can be refunded" in response.content.decode()
    assert not Refund.objects.exists()


def test_the_refund_action_opens_the_refund_page_for_one_order(admin_client):
    order = _paid()
    other = _paid()

    one = admin_client.post(
        ORDERS, {"action": "refund", "_selected_action": [str(order.pk)], "index": 0}
    )
    two = admin_client.post(
        ORDERS,
        {"action": "refund", "_selected_action": [str(order.pk), str(other.pk)], "index": 0},
        follow=True,
    )

    assert one.status_code == 302
    assert one["Location"] == _refund_url(order)
    assert "Select exactly one order to refund." in _messages(two)
    assert not Refund.objects.exists()


# --- webhook events -----------------------------------------------------------------------------


def test_reprocess_applies_a_failed_event_and_skips_rejected_ones(
    admin_client, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = _unpaid()
    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)
    captured = next(w for w in simulated_webhooks if w.json()["event"] == "payment.captured")
    failed = WebhookEvent.objects.create(
        event_id=captured.headers["X-Razorpay-Event-Id"],
        event="payment.captured",
        headers=captured.headers,
        body=captured.body.decode(),
        signature_valid=True,
        outcome=WebhookEvent.Outcome.FAILED,
        error="OperationalError: the database went away",
        attempts=1,
    )
    rejected = WebhookEvent.objects.create(
        headers={}, body=captured.body.decode(), signature_valid=False, outcome="rejected"
    )

    response = admin_client.post(
        EVENTS,
        {"action": "reprocess", "_selected_action": [failed.pk, rejected.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.outcome == WebhookEvent.Outcome.PROCESSED
    assert failed.attempts == 2
    assert failed.error == ""
    assert failed.order_id == order.pk
    rejected.refresh_from_db()
    assert rejected.outcome == WebhookEvent.Outcome.REJECTED
    assert rejected.attempts == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    messages = _messages(response)
    assert "Reprocessed 1 event(s): 1 processed." in messages
    assert any(text.startswith("Skipped 1 event(s)") for text in messages)


def test_an_event_page_pretty_prints_and_escapes_the_raw_body(admin_client):
    body = json.dumps({"event": "payment.captured", "note": "<script>alert(1)</script>"})
    event = WebhookEvent.objects.create(
        event_id="evt_Escape00000001",
        event="payment.captured",
        headers={"X-Razorpay-Signature": "abc"},
        body=body,
        signature_valid=False,
        outcome=WebhookEvent.Outcome.REJECTED,
    )

    text = admin_client.get(f"{EVENTS}{event.pk}/change/").content.decode()

    assert "<script>alert(1)</script>" not in text
    pretty = json.dumps(json.loads(body), indent=2, sort_keys=True)
    assert html.escape(pretty) in text


# --- coupons ------------------------------------------------------------------------------------


def test_coupons_list_their_redemptions_and_can_be_created(admin_client):
    plan = paid_plan(price_paise=100000)
    coupon = CouponFactory(code="WELCOME10", max_redemptions=5)
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.pk, coupon_code="welcome10")
    callback = SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)
    services.order_verify(user=order.user, order_id=order.pk, **callback)

    listing = admin_client.get(COUPONS)
    created = admin_client.post(
        f"{COUPONS}add/",
        {
            "code": "FLAT50",
            "description": "₹50 off",
            "is_active": "on",
            "kind": "fixed",
            "amount_off_paise": "5000",
            "min_amount_paise": "0",
            "max_per_user": "1",
            "products": [plan.product_id],
        },
    )

    (row,) = [c for c in listing.context["cl"].result_list if c.pk == coupon.pk]
    assert row._redemptions == 1
    assert "1 / 5" in listing.content.decode()
    assert "10 %" in listing.content.decode()
    assert created.status_code == 302
    flat = type(coupon).objects.get(code="FLAT50")
    assert list(flat.products.all()) == [plan.product]
    assert flat.amount_off_paise == 5000


# --- the Finance staff group ----------------------------------------------------------------


def test_finance_staff_run_the_payments_back_office_but_not_the_question_bank(
    client, staff_groups, simulated_webhooks
):
    from django.contrib.auth.models import Group

    clerk = StaffFactory(email="clerk@examforge.local")
    clerk.groups.add(Group.objects.get(name="Finance"))
    client.force_login(clerk)
    order = _paid(49900)

    for url in (ORDERS, PAYMENTS, REFUNDS, EVENTS, COUPONS, f"{COUPONS}add/"):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/testengine/question/").status_code == 403
    assert client.get(f"{ORDERS}{order.pk}/change/").status_code == 200
    refunded = client.post(_refund_url(order), {"amount": "100.00", "reason": "Goodwill"})

    assert refunded.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.refunded_paise) == (Order.Status.PARTIALLY_REFUNDED, 10000)
    assert Refund.objects.get(order=order).requested_by == clerk
