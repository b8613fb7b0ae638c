#!/usr/bin/env bash
# Throwaway PostgreSQL 15 for tests.
#
#   bash scripts/pg_temp.sh [start]   start a server in a new temp dir on a free
#                                      port (first try: $PG_PORT, default 54329),
#                                      create database tierflow_test and print its
#                                      SQLAlchemy URL on stdout (messages go to stderr)
#   bash scripts/pg_temp.sh url       print the URL of the running server
#   bash scripts/pg_temp.sh stop      stop the server and delete its temp dir
#
# The running server is recorded in $PG_TEMP_STATE (default
# ${TMPDIR:-/tmp}/tierflow-pg-temp.state); `start` reuses a server that is
# still running there. Binaries come from $PG_BIN (default
# /usr/lib/postgresql/15/bin). As root the server runs as OS user postgres.
# Exit 3 (with a message) when PostgreSQL cannot be started.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
STATE="${PG_TEMP_STATE:-${TMPDIR:-/tmp}/tierflow-pg-temp.state}"
DB_NAME=tierflow_test
MODE="${1:-start}"

log() { echo "[pg_temp] $*" >&2; }
skip() { log "SKIP: $*"; exit 3; }

as_pg=()
if [ "$(id -u)" = 0 ]; then
    as_pg=(runuser -u postgres --)
fi

url_for() { echo "postgresql+psycopg://postgres@127.0.0.1:$1/$DB_NAME"; }

# Reads STATE into PGDIR/PGPORT; returns 1 if there is none.
read_state() {
    [ -f "$STATE" ] || return 1
    PGDIR="$(sed -n 1p "$STATE")"
    PGPORT="$(sed -n 2p "$STATE")"
    [ -n "$PGDIR" ] && [ -n "$PGPORT" ]
}

running() { [ -d "$1/data" ] && "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

port_free() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}

stop_server() {
    if ! read_state; then
        log "no temporary PostgreSQL recorded in $STATE; nothing to stop"
        return 0
    fi
    if running "$PGDIR"; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" stop -m fast -w >/dev/null 2>&1 \
            || "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDIR/data" stop -m immediate -w >/dev/null 2>&1 || true
        log "stopped PostgreSQL on port $PGPORT"
    fi
    case "$PGDIR" in
        */tierflow-pg.*) rm -rf "$PGDIR" ;;
    esac
    rm -f "$STATE"
}

start_server() {
    if read_state && running "$PGDIR"; then
        log "reusing PostgreSQL already running in $PGDIR on port $PGPORT"
        url_for "$PGPORT"
        return 0
    fi
    rm -f "$STATE"

    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] \
        || skip "PostgreSQL binaries not found in $PG_BIN (apt-get install -y postgresql-15)"
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        log "creating OS user postgres"
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres \
            || skip "cannot create the postgres OS user"
    fi
    command -v python3 >/dev/null 2>&1 || skip "python3 is needed to find a free port"

    local port="${PG_PORT:-54329}" tries=0
    until port_free "$port"; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || skip "no free port found from ${PG_PORT:-54329} on"
        port=$((port + 1))
    done

    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/tierflow-pg.XXXXXX")" || skip "cannot create a temp dir"
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi

    fail() {
        log "could not start PostgreSQL: $1"
        [ -f "$dir/log" ] && tail -n 20 "$dir/log" >&2
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" stop -m immediate >/dev/null 2>&1 || true
        rm -rf "$dir"
        exit 3
    }

    "${as_pg[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }

    # Durability is not wanted for a throwaway test database.
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1 || fail "pg_ctl start failed"

    "${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" \
        || fail "createdb $DB_NAME failed"

    printf '%s\n%s\n' "$dir" "$port" >"$STATE"
    log "PostgreSQL 15 running in $dir on 127.0.0.1:$port (stop: bash scripts/pg_temp.sh stop)"
    url_for "$port"
}

case "$MODE" in
    start) start_server ;;
    stop) stop_server ;;
    url)
        if read_state && running "$PGDIR"; then
            url_for "$PGPORT"
        else
            log "no temporary PostgreSQL is running"
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 [start|url|stop]" >&2
        exit 2
        ;;
esac
