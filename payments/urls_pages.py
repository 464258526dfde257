"""The web checkout pages (templates, not the API), included at ``/checkout/``."""

from django.urls import path

from payments import views

urlpatterns = [
    path("<uuid:order_id>/", views.checkout, name="checkout"),
    path("<uuid:order_id>/simulate/", views.checkout_simulate, name="checkout-simulate"),
    path("<uuid:order_id>/verify/", views.checkout_verify, name="checkout-verify"),
    path("<uuid:order_id>/invoice/", views.checkout_invoice, name="checkout-invoice"),
]
