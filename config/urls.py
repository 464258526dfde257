from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import import_string
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.admin_login import admin_login
from core import metrics
from core import views as core_views

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = "Examforge admin"
admin.site.index_title = "Back office"

api_v1 = [
    path("auth/", include(("accounts.api.urls", "auth"))),
    path("testengine/", include(("testengine.api.urls", "testengine"))),
    path("catalogue/", include(("catalogue.api.urls", "catalogue"))),
    # A learner's enrollments: the catalogue's URL module holds them apart from its
    # /catalogue/ routes. Named by dotted path, as include() names the others.
    path("me/", include((import_string("catalogue.api.urls.me_urlpatterns"), "me"))),
    path("", include(("sessions_app.api.urls", "sessions"))),
    path("", include(("payments.api.urls", "payments"))),
    path("", include(("programs.api.urls", "programs"))),
    path("me/", include(("learning.api.urls", "learning"))),
]

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    # The admin's login page answers under the API login's throttles.
    path(f"{settings.ADMIN_URL}login/", admin_login, name="admin-login"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("checkout/", include("payments.urls_pages")),
    path("certificates/", include("programs.urls_pages")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from its own URL (?script), so
    # the page runs under the Content-Security-Policy without inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)  # DEBUG only

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
