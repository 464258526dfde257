from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from core.metrics import register_source
        from payments.gateways import simulated
        from payments.metrics import payment_metrics
        from payments.tasks import enqueue_simulated_webhook

        register_source("payments", payment_metrics)
        # The gateway layer sits below the services: its webhooks reach them through a task
        # wired here, not through an import of its own.
        simulated.deliver_webhooks_with(enqueue_simulated_webhook)
