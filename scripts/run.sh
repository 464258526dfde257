#!/bin/sh
# `make run`: prepare the database, load the demo, serve. DATABASE_URL is already set.
set -e
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py createcachetable
$PY manage.py seed_demo
cat <<MSG

  Examforge is starting on http://$HOST:$PORT/
    API docs (Swagger UI)  http://$HOST:$PORT/api/docs/
    API reference (ReDoc)  http://$HOST:$PORT/api/redoc/
    Admin                  http://$HOST:$PORT/admin/
    Health                 http://$HOST:$PORT/healthz
  Ctrl-C stops the server (and the embedded PostgreSQL).

MSG
exec $PY manage.py runserver "$HOST:$PORT"
