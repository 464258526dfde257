"""URLs of ``config.settings.bench``: the project's URLs plus ``/bench/hello``, the
benchmark's ceiling — the cheapest JSON answer through the same gunicorn, WSGI handler
and middleware stack, touching neither the database nor DRF. Its view is the bare-Django
ceiling's ``/ok`` (``scripts/bare_django.py``), no more, so what it costs above ``/ok`` is the
middleware stack alone. Never in production URLs."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/hello", hello, name="bench-hello"), *project_urlpatterns]
