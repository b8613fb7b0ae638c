#!/usr/bin/env bash
# Prepare the development environment; safe to run any number of times.
#   - .venv (Python 3.11) with `pip install -e '.[test]'`, redone only when
#     pyproject.toml (or the set of top-level packages) changed
#   - Flask-Babel catalogs compiled, if app/translations holds any
#   - npm dependencies and `npm run build`, if a package.json exists
# Set PYTHON to choose the interpreter used to create .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "[setup_env] $*" >&2; }

export PIP_DISABLE_PIP_VERSION_CHECK=1

# --- Python virtualenv -------------------------------------------------------
pick_python() {
    local cand
    for cand in "${PYTHON:-}" python3.11 python3; do
        [ -n "$cand" ] || continue
        command -v "$cand" >/dev/null 2>&1 || continue
        if "$cand" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    PY="$(pick_python)" || { log "ERROR: Python >= 3.11 not found (set PYTHON=...)"; exit 1; }
    log "creating .venv with $PY ($("$PY" -V 2>&1))"
    rm -rf .venv
    "$PY" -m venv .venv
fi

# The stamp records what the last successful install was made from. Besides
# pyproject.toml it covers which top-level packages exist, because an editable
# install only maps the packages it saw when it was made.
STAMP=.venv/.tierflow-install-stamp
want="$(
    {
        cat pyproject.toml
        for pkg in app workflows; do
            [ -f "$pkg/__init__.py" ] && echo "package:$pkg"
        done
        .venv/bin/python -V 2>&1
    } | sha256sum | cut -d' ' -f1
)"
have="$(cat "$STAMP" 2>/dev/null || true)"

if [ "$want" != "$have" ] || ! .venv/bin/python -m pip show -q tierflow >/dev/null 2>&1; then
    log "installing Python dependencies (pip install -e '.[test]')"
    pip_log="$(mktemp)"
    if ! .venv/bin/python -m pip install -q -e '.[test]' >"$pip_log" 2>&1; then
        cat "$pip_log" >&2
        rm -f "$pip_log"
        log "ERROR: pip install failed"
        exit 1
    fi
    # Drop the noise about this machine's configured local indexes that do not exist.
    grep -v "^WARNING: Location 'file:.*' is ignored" "$pip_log" >&2 || true
    rm -f "$pip_log"
    # setuptools leaves a build-time copy of the metadata in the work tree; the
    # installed metadata lives in .venv, so the copy is not needed.
    rm -rf tierflow.egg-info
    echo "$want" >"$STAMP"
else
    log "Python dependencies up to date"
fi

# --- Translations -------------------------------------------------------------
if [ -d app/translations ]; then
    if find app/translations -name '*.po' -print -quit | grep -q .; then
        log "compiling translations"
        .venv/bin/pybabel -q compile -d app/translations -f
    else
        log "app/translations has no .po catalogs; nothing to compile"
    fi
fi

# --- Front-end assets ---------------------------------------------------------
if [ -f package.json ]; then
    command -v npm >/dev/null 2>&1 || { log "ERROR: package.json exists but npm is not installed"; exit 1; }
    NPM_STAMP=node_modules/.tierflow-npm-stamp
    npm_hash() {
        {
            cat package.json
            if [ -f package-lock.json ]; then cat package-lock.json; fi
        } | sha256sum | cut -d' ' -f1
    }
    npm_want="$(npm_hash)"
    npm_have="$(cat "$NPM_STAMP" 2>/dev/null || true)"
    if [ "$npm_want" != "$npm_have" ]; then
        if [ -f package-lock.json ]; then
            log "npm ci"
            npm ci --no-audit --no-fund --loglevel=error
        else
            log "npm install (no package-lock.json)"
            npm install --no-audit --no-fund --loglevel=error
        fi
        mkdir -p node_modules
        # package-lock.json may have just been written by npm install
        npm_hash >"$NPM_STAMP"
    else
        log "npm dependencies up to date"
    fi
    log "npm run build --if-present"
    npm run build --if-present --silent
fi

log "environment ready"
