"""The bare-Django ceiling of ``make bench-mock``: the cheapest Django answer there is.

``settings.configure`` with no middleware, no database, no installed apps and one view
answering ``{"ok": true}`` at ``/ok``, served by the same gunicorn and ``gunicorn.conf.py``
as the real app (``gunicorn -c gunicorn.conf.py --pythonpath scripts bare_django:application``).
What the real app's ``/bench/hello`` costs above this is its middleware stack; what a save
costs above that is the application.
"""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-django-ceiling-no-secrets-here",  # noqa: S106 - serves nothing secret
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_TZ=True,
    LOGGING_CONFIG=None,
)

import django  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

django.setup()


def ok(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("ok", ok)]

application = get_wsgi_application()
