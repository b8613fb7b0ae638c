#!/usr/bin/env bash
# Run Tierflow locally: prepare the environment, migrate the database, load the
# demo data (idempotent) and serve on http://127.0.0.1:${PORT:-5000}/.
# The database is the app's default (instance/tierflow.sqlite3) unless
# DATABASE_URL is set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${PORT:-5000}"
export FLASK_APP=wsgi

bash scripts/setup_env.sh

echo "[run] flask db upgrade"
.venv/bin/flask --app wsgi db upgrade
echo "[run] flask demo"
.venv/bin/flask --app wsgi demo

# the scheduler (timers, deadlines, reminders) runs beside the server in this process; a deployment runs
# `flask scheduler run` as its own process instead (only the holder of the database lease sweeps)
export SCHEDULER_ENABLED="${SCHEDULER_ENABLED:-1}"

echo
echo "Tierflow is running at http://127.0.0.1:${PORT}/"
echo "(press Ctrl+C to stop)"
echo
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "$PORT"
