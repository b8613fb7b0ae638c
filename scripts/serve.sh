#!/usr/bin/env bash
# Serve Tierflow (wsgi:app) with gunicorn on 127.0.0.1:${PORT:-5000}: WEB_WORKERS processes (default 3) of
# WEB_THREADS threads each (default 4; gthread workers keep connections alive). The database is DATABASE_URL (or
# the app's default SQLite file). Used by scripts/run.sh and by `python -m bench.http --server run`, so the
# benchmark measures the server exactly as the run command starts it. The scheduler is not started here: run.sh
# starts it as its own process (`flask scheduler run`), as a deployment does.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec .venv/bin/gunicorn --workers "${WEB_WORKERS:-3}" --worker-class gthread --threads "${WEB_THREADS:-4}" \
    --bind "127.0.0.1:${PORT:-5000}" --log-level "${LOG_LEVEL:-warning}" --access-logfile "${ACCESS_LOG:--}" \
    wsgi:app
