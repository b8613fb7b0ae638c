#!/usr/bin/env bash
# The whole Tierflow test suite:
#   1. environment (scripts/setup_env.sh), Chromium, a CJK font (fonts-noto-cjk) and
#      PostgreSQL 15 binaries (installed with apt-get when running as root)
#   2. ruff check app workflows tests; lint-imports (the layer contracts in pyproject.toml)
#   3. pytest -q on SQLite (all tests, browser tests included)
#   4. pytest -q -m "not browser" tests/services tests/api tests/audit tests/security tests/timers
#      tests/inbox tests/admin with
#      TEST_DATABASE_URL on a throwaway PostgreSQL (scripts/pg_temp.sh). That
#      server is started before step 3 and stopped on exit; both runs get its
#      URL as TEST_POSTGRES_URL, for the tests marked `postgres`.
# Exits non-zero if any step failed. The last line totals the tests of both
# pytest runs.
#
# Settings: PYTEST_ARGS (extra pytest arguments for both runs),
# TEST_TIMEOUT_SQLITE / TEST_TIMEOUT_PG (per-run limits, default 50m / 25m).
# Without CI=true a PostgreSQL that cannot be started only skips step 4.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "[test] $*"; }

FAILED=()
SUMMARY=()
note() { SUMMARY+=("$1"); }
failed() { FAILED+=("$1"); SUMMARY+=("$1: FAILED${2:+ ($2)}"); }

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CHROMIUM=/usr/bin/chromium
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

REPORTS="$(mktemp -d "${TMPDIR:-/tmp}/tierflow-test.XXXXXX")"
export PG_TEMP_STATE="$REPORTS/pg.state"
PG_STARTED=0
cleanup() {
    if [ "$PG_STARTED" = 1 ]; then
        bash scripts/pg_temp.sh stop || true
    fi
    rm -rf "$REPORTS"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. environment -------------------------------------------------------------
if ! bash scripts/setup_env.sh; then
    echo "[test] scripts/setup_env.sh failed; cannot run the tests" >&2
    echo "Total: 0 passed, 1 failed"
    exit 1
fi

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}

if [ ! -x "$CHROMIUM" ]; then
    if [ "$IS_ROOT" = 1 ]; then
        say "installing Chromium from Debian (apt-get install chromium)"
        apt_install chromium >/dev/null || say "WARNING: apt-get install chromium failed"
    else
        say "WARNING: $CHROMIUM is missing; browser tests need it: sudo apt-get update && sudo apt-get install -y chromium"
    fi
fi

# A CJK font, so that the browser tests' screenshots of the Chinese pages are readable (not boxes).
if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    if [ "$IS_ROOT" = 1 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing a CJK font from Debian (apt-get install fonts-noto-cjk)"
        apt_install --no-install-recommends fonts-noto-cjk >/dev/null \
            || say "WARNING: apt-get install fonts-noto-cjk failed; screenshots will show boxes for Chinese"
    else
        say "WARNING: no Chinese font (fc-list :lang=zh is empty): sudo apt-get install -y fonts-noto-cjk"
    fi
fi

if [ ! -x "$PG_BIN/initdb" ]; then
    if [ "$IS_ROOT" = 1 ]; then
        say "installing PostgreSQL 15 from Debian (apt-get install postgresql-15)"
        apt_install --no-install-recommends postgresql-15 >/dev/null \
            || say "WARNING: apt-get install postgresql-15 failed"
    else
        say "WARNING: PostgreSQL 15 binaries missing in $PG_BIN: sudo apt-get install -y postgresql-15"
    fi
fi

# Runs pytest with a time limit and a JUnit report (for the totals line).
# Usage: run_pytest NAME LIMIT [ENV-ARGS...] -- [PYTEST-ARGS...]
# ENV-ARGS are passed to env(1): VAR=value or -u VAR. Returns pytest's exit code.
run_pytest() {
    local name="$1" limit="$2"
    shift 2
    local envs=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    local fg=()
    [ -t 0 ] && fg=(--foreground)
    # PYTEST_ARGS is split on purpose.
    # shellcheck disable=SC2086
    timeout "${fg[@]}" --kill-after=30s "$limit" \
        env "${envs[@]}" .venv/bin/pytest -q --junitxml="$REPORTS/$name.xml" ${PYTEST_ARGS:-} "$@"
    local rc=$?
    [ "$rc" = 124 ] && say "pytest ($name) hit the time limit of $limit"
    # A run that broke off without a report still counts as a failure in the totals.
    if [ "$rc" != 0 ] && [ "$rc" != 5 ] && [ ! -s "$REPORTS/$name.xml" ]; then
        : >"$REPORTS/$name.noreport"
    fi
    return "$rc"
}

# --- 2. lint ----------------------------------------------------------------------
say "ruff check app workflows tests"
if .venv/bin/ruff check app workflows tests; then
    note "ruff: ok"
else
    failed ruff
fi

say "lint-imports (layers: pyproject.toml [tool.importlinter])"
if .venv/bin/lint-imports --no-cache --no-logo; then
    note "import contracts: ok"
else
    failed "import contracts"
fi

# --- PostgreSQL (started before the SQLite run so that tests marked `postgres`
# find TEST_POSTGRES_URL there too) --------------------------------------------
PG_URL=""
PG_SKIP=""
if PG_URL="$(bash scripts/pg_temp.sh start)"; then
    PG_STARTED=1
else
    PG_URL=""
    PG_SKIP="PostgreSQL could not be started"
fi

# --- test artifacts: screenshots of each main page from the browser tests and the
# JUnit reports, kept after the run in test-artifacts/ (or $TIERFLOW_ARTIFACTS_ROOT)
ARTIFACTS_ROOT="${TIERFLOW_ARTIFACTS_ROOT:-$ROOT/test-artifacts}"
export TIERFLOW_ARTIFACTS="$ARTIFACTS_ROOT/screenshots"
rm -rf "$ARTIFACTS_ROOT"
mkdir -p "$TIERFLOW_ARTIFACTS"

# --- 3. SQLite --------------------------------------------------------------------
say "pytest -q (SQLite)"
sqlite_env=(-u TEST_DATABASE_URL)
[ -n "$PG_URL" ] && sqlite_env+=("TEST_POSTGRES_URL=$PG_URL")
run_pytest sqlite "${TEST_TIMEOUT_SQLITE:-50m}" "${sqlite_env[@]}" --
rc=$?
case "$rc" in
    0) note "pytest (SQLite): ok" ;;
    5) failed "pytest (SQLite)" "no tests ran" ;;
    *) failed "pytest (SQLite)" "exit $rc" ;;
esac

# --- 4. PostgreSQL ------------------------------------------------------------------
if [ -n "$PG_URL" ]; then
    pg_dirs=()
    for d in tests/services tests/api tests/audit tests/security tests/timers tests/inbox tests/admin; do
        [ -d "$d" ] && pg_dirs+=("$d")
    done
    if [ "${#pg_dirs[@]}" = 0 ]; then
        note "pytest (PostgreSQL): skipped (no tests/services or tests/api)"
    else
        say "pytest -q -m 'not browser' ${pg_dirs[*]} (PostgreSQL: $PG_URL)"
        run_pytest postgres "${TEST_TIMEOUT_PG:-25m}" \
            "TEST_DATABASE_URL=$PG_URL" "TEST_POSTGRES_URL=$PG_URL" -- -m "not browser" "${pg_dirs[@]}"
        rc=$?
        case "$rc" in
            0) note "pytest (PostgreSQL): ok" ;;
            5) note "pytest (PostgreSQL): no tests collected (counted as success)" ;;
            *) failed "pytest (PostgreSQL)" "exit $rc" ;;
        esac
    fi
    bash scripts/pg_temp.sh stop
    PG_STARTED=0
elif [ "${CI:-}" = true ]; then
    failed "pytest (PostgreSQL)" "$PG_SKIP"
else
    note "pytest (PostgreSQL): SKIPPED ($PG_SKIP)"
fi

# --- summary --------------------------------------------------------------------
cp "$REPORTS"/*.xml "$ARTIFACTS_ROOT"/ 2>/dev/null || true
shots=("$TIERFLOW_ARTIFACTS"/*.png)
[ -e "${shots[0]}" ] || shots=()
note "artifacts: ${#shots[@]} screenshots and the JUnit reports in $ARTIFACTS_ROOT"
echo
echo "================ Tierflow test summary ================"
for line in "${SUMMARY[@]}"; do
    echo "  $line"
done
if [ "${#FAILED[@]}" = 0 ]; then
    echo "RESULT: ALL PASSED"
else
    echo "RESULT: FAILED (${FAILED[*]})"
fi
# Totals over both pytest runs, from their JUnit reports.
shopt -s nullglob
.venv/bin/python - "$REPORTS"/*.xml "$REPORTS"/*.noreport <<'EOF' || echo "Total: (no pytest report)"
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path.endswith(".noreport"):
        failed += 1
        continue
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for s in suites:
        tests = int(s.get("tests", 0))
        f = int(s.get("failures", 0)) + int(s.get("errors", 0))
        sk = int(s.get("skipped", 0))
        passed += tests - f - sk
        failed += f
        skipped += sk
print(f"Total: {passed} passed, {failed} failed, {skipped} skipped")
EOF

[ "${#FAILED[@]}" = 0 ]
