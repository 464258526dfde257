"""URLs of ``config.settings.bench``: the project's URLs plus ``/bench/hello``, the
benchmark's ceiling — the cheapest JSON answer through the same gunicorn, WSGI handler
and middleware stack, touching neither the database nor DRF. Never in production URLs."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


@never_cache
def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world"})


urlpatterns = [path("bench/hello", hello, name="bench-hello"), *project_urlpatterns]
