from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from core.metrics import register_source
        from payments.metrics import payment_metrics

        register_source("payments", payment_metrics)
