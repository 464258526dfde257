"""Background tasks of payments (django-tasks; each calls a service)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_simulated_webhook(body: str, headers: dict[str, str]) -> None:
    """The simulated gateway's webhook, delivered to our webhook service as Razorpay's would
    reach the endpoint: the raw body bytes and the headers."""
    from payments.services import webhook_receive  # services import the gateways

    webhook_receive(body.encode(), headers)


@task()
def reconcile_orders() -> dict[str, int]:
    """The reconciliation as a task (the management command is the cron entry point)."""
    from payments.services import orders_reconcile

    return orders_reconcile(limit=1000)
