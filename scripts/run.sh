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
  A background worker (manage.py db_worker) runs beside the server.
  Ctrl-C stops both (and the embedded PostgreSQL).

MSG
# The background worker (item statistics after scoring, …), stopped with the server.
$PY manage.py db_worker --interval 2 --no-reload &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
$PY manage.py runserver "$HOST:$PORT"
