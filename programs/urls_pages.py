"""Public certificate pages, included at ``/certificates/``."""

from django.urls import path

from programs import views

urlpatterns = [
    path("<str:code>/", views.certificate_page, name="certificate-page"),
    path("<str:code>/pdf/", views.certificate_pdf, name="certificate-pdf"),
]
