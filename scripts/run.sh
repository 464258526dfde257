#!/bin/sh
# `make run`: prepare the database, load the demo, serve. DATABASE_URL is already set.
set -e
PY=.venv/bin/python
WORKER_LOG=var/log/worker.log
mkdir -p var/log
# migrate, cache table, demo data and the banner, in one process
$PY manage.py demo_setup --url "http://$HOST:$PORT" --worker-log "$WORKER_LOG"
# The background worker (item statistics after scoring, …), stopped with the server. Its
# log (a few lines per task) goes to a file, so the terminal keeps the banner and requests;
# its standard output (one line per mail it sends) stays here. Niced: on a first run it
# works through the demo's queued tasks while the server starts, and the server comes first.
nice -n 10 $PY manage.py db_worker --interval 2 --no-reload 2>>"$WORKER_LOG" &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
$PY manage.py runserver "$HOST:$PORT"
