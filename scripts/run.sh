#!/usr/bin/env bash
# Run Tierflow locally: prepare the environment, migrate the database, load the
# demo data (idempotent) and serve on http://127.0.0.1:${PORT:-5000}/.
# The database is the app's default (instance/tierflow.sqlite3) unless
# DATABASE_URL is set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PORT="${PORT:-5000}"
export FLASK_APP=wsgi

bash scripts/setup_env.sh

echo "[run] flask db upgrade"
.venv/bin/flask --app wsgi db upgrade
echo "[run] flask demo --with-cases"
.venv/bin/flask --app wsgi demo --with-cases

# the server: gunicorn, several worker processes of several threads (scripts/serve.sh); beside it the scheduler
# (timers, deadlines, reminders) as its own process, as in a deployment: only the holder of the database lease
# sweeps, so a second one (or a restart) never fires a timer twice
export SCHEDULER_ENABLED=0
.venv/bin/flask --app wsgi scheduler run &
SCHEDULER_PID=$!
trap 'kill "$SCHEDULER_PID" 2>/dev/null || true' EXIT INT TERM

echo
echo "Tierflow is running at http://127.0.0.1:${PORT}/"
echo "(press Ctrl+C to stop)"
echo
ACCESS_LOG="${ACCESS_LOG:-/dev/null}" bash scripts/serve.sh
