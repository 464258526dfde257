from django.urls import include, path

urlpatterns = [
    path("", include("sessions_app.api.urls_sitting")),
    path("", include("sessions_app.api.urls_results")),
]
