"""A full refund ends what was paid for: the refund webhook's revoke closes the learner's
open sitting of the product's test (abandoned, answers kept) and a later save is 403
``no_access``; a partial refund leaves access alone."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from catalogue.models import Enrollment
from payments import services
from payments.gateways.simulated import SimulatedGateway
from payments.models import Order
from sessions_app import services as sessions
from sessions_app.models import ExamSession, SessionResponse
from testengine.paper import Paper
from tests.accounts.factories import StaffFactory, UserFactory
from tests.catalogue.factories import ProductTestFactory
from tests.payments.factories import paid_plan
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_sitting(simulated_webhooks):
    """A learner who bought a product and is part-way through its test."""
    test = sittable_test(free=False)
    plan = paid_plan(price_paise=49900)
    ProductTestFactory(product=plan.product, test=test)
    learner = UserFactory()
    order, _ = services.order_create(user=learner, plan_id=plan.pk)
    callback = SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)
    order = services.order_verify(user=learner, order_id=order.pk, **callback)
    assert order.status == Order.Status.PAID
    session, _ = sessions.session_start(user=learner, test_slug=test.slug)
    questions = Paper.from_json(session.paper).questions
    sessions.response_save(
        user=learner,
        session_id=session.id,
        question_id=questions[0].id,
        answer={"choices": [questions[0].choices[0].id]},
        seq=1,
    )
    return order, learner, session, questions


def _save(learner, session, question):
    client = APIClient()
    client.force_authenticate(learner)
    return client.put(
        f"/api/v1/sessions/{session.id}/responses/{question.id}/",
        {"answer": {"choices": [question.choices[0].id]}, "seq": 2},
        format="json",
    )


def test_a_full_refund_closes_the_open_sitting_and_refuses_later_saves(
    paid_sitting, django_capture_on_commit_callbacks
):
    order, learner, session, questions = paid_sitting

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(
            order=order, amount_paise=49900, reason="Changed mind", by=StaffFactory()
        )

    assert Enrollment.objects.get(pk=order.enrollment_id).revoked_at is not None
    session.refresh_from_db()
    assert (session.status, session.submit_reason) == ("abandoned", "revoked")
    assert SessionResponse.objects.filter(session=session, answer__isnull=False).count() == 1
    response = _save(learner, session, questions[1])
    assert response.status_code == 403
    assert response.json()["code"] == "no_access"
    assert not SessionResponse.objects.filter(session=session, question_id=questions[1].id).exists()


def test_a_partial_refund_leaves_the_sitting_open(paid_sitting, django_capture_on_commit_callbacks):
    order, learner, session, questions = paid_sitting

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(
            order=order, amount_paise=10000, reason="Goodwill", by=StaffFactory()
        )

    session.refresh_from_db()
    assert session.status == ExamSession.Status.IN_PROGRESS
    assert _save(learner, session, questions[1]).status_code == 200
