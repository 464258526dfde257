#!/bin/sh
# The compose stack's scheduler: runs the periodic management commands (docs/deployment.md,
# "Periodic jobs") from one shell loop, without cron or supercronic. Times are UTC.
#
#   every minute      finalize_expired_sessions
#   every 10 minutes  reconcile_orders
#   hourly (:05)      catalogue_refresh
#   hourly (:35)      discard_stale_papers
#   daily 21:30 UTC   calibrate_items (03:00 IST, after the day's sittings)
#   daily 21:45 UTC   flushexpiredtokens, clearsessions, prune_db_task_results
#
# Every command is safe to run twice at once (rows are claimed with SKIP LOCKED or under
# locks), so the longer jobs run in the background and never delay the next minute's sweep;
# a second scheduler replica would only duplicate work, never corrupt it. Run one.
set -u

run() {
    # One log line per job: start, end and exit status, for the log pipeline to alert on.
    echo "scheduler: start $*"
    if python manage.py "$@"; then
        echo "scheduler: done $*"
    else
        echo "scheduler: FAILED ($?) $*" >&2
    fi
}

trap 'echo "scheduler: stopping"; exit 0' TERM INT

while :; do
    minute=$(date -u +%M)
    hhmm=$(date -u +%H%M)

    run finalize_expired_sessions &
    case "$minute" in
        *0) run reconcile_orders & ;;
    esac
    if [ "$minute" = "05" ]; then
        run catalogue_refresh &
    fi
    if [ "$minute" = "35" ]; then
        run discard_stale_papers &
    fi
    if [ "$hhmm" = "2130" ]; then
        run calibrate_items &
    fi
    if [ "$hhmm" = "2145" ]; then
        (run flushexpiredtokens; run clearsessions; run prune_db_task_results --min-age-days 7) &
    fi

    # Sleep to the start of the next minute (wait in the background so SIGTERM is handled).
    seconds=$(date -u +%S)
    sleep $((60 - ${seconds#0})) &
    wait $!
done
