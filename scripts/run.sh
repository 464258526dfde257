#!/bin/sh
# `make run`: prepare the database, load the demo, serve. DATABASE_URL is already set.
set -e
PY=.venv/bin/python
# migrate, cache table, demo data and the banner, in one process
$PY manage.py demo_setup --url "http://$HOST:$PORT"
# The background worker (item statistics after scoring, …), stopped with the server.
$PY manage.py db_worker --interval 2 --no-reload &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
$PY manage.py runserver "$HOST:$PORT"
