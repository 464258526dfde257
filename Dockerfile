# syntax=docker/dockerfile:1
# Production image: gunicorn serving config.wsgi with config.settings.production.
# Build: docker build -t examforge .   Run and operate: docs/deployment.md

# --- build: wheels for the runtime dependencies only (not requirements-dev.txt) ---------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# Every pinned dependency ships manylinux wheels or is pure Python, so no compiler is
# needed; add `apt-get install build-essential` here if a pin ever needs one.
COPY requirements.txt /wheels/requirements.txt
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r /wheels/requirements.txt

# --- runtime ---------------------------------------------------------------------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

# Wheels are bind-mounted, so they never become a layer of the final image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt

WORKDIR /app
# Source stays owned by root: the app user can read it, not change it.
COPY . .
# Production settings refuse to load without these; the values exist only for this RUN
# (collectstatic reads no secret and opens no database connection) and are never kept.
RUN SECRET_KEY=build-only-secret-key-not-used-at-runtime-0000000000 \
    JWT_SIGNING_KEY=build-only-jwt-signing-key-not-used-at-runtime-00000 \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown app:app /app/media

USER app
EXPOSE 8000
# Liveness only (/healthz touches neither database nor cache). Django checks the Host header
# even here, so send the first ALLOWED_HOSTS entry rather than 127.0.0.1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': h}), timeout=4)"]

# CMD, not ENTRYPOINT, so `docker run examforge python manage.py migrate` works as is.
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
