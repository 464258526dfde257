"""Background tasks of payments (django-tasks; each calls a service)."""

from __future__ import annotations

from django_tasks import task

from payments import services
from payments.gateways.simulated import SimulatedWebhook


@task()
def deliver_simulated_webhook(body: str, headers: dict[str, str]) -> None:
    """The simulated gateway's webhook, delivered to our webhook service as Razorpay's would
    reach the endpoint: the raw body bytes and the headers."""
    services.webhook_receive(body.encode(), headers)


def enqueue_simulated_webhook(webhook: SimulatedWebhook) -> None:
    """The simulated gateway's delivery (``PaymentsConfig.ready()`` installs it)."""
    deliver_simulated_webhook.enqueue(webhook.body.decode(), webhook.headers)


@task()
def reconcile_orders() -> dict[str, int]:
    """The reconciliation as a task (the management command is the cron entry point)."""
    return services.orders_reconcile(limit=1000)
