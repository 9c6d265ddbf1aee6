#!/usr/bin/env bash
# Build (once) or locate the Rasa 3.6 environment and point <repo>/.venv-rasa at it.
#
# Rasa 3.6 needs Python 3.10 and pins SQLAlchemy 1.4, pydantic 1 and redis 4, so it cannot
# share the app's .venv. The env is ~2.7 GB and takes minutes to install, so it is cached
# outside the clone, keyed by bot/requirements.txt, bot/requirements.lock and the exact Python
# version: every clone
# and worktree on the machine shares it, and changing either builds a fresh one.
#
# Usage: bot/rasa_env.sh        -> prints the env directory on stdout, progress on stderr.
# Env:   REBOOK_PYTHON310  path to a python3.10 to use instead of searching for one
#        REBOOK_CACHE      cache root (default ~/.cache/rebook)
set -euo pipefail

BOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(dirname "$BOT_DIR")"
CACHE_DIR="${REBOOK_CACHE:-$HOME/.cache/rebook}"
REQUIREMENTS="$BOT_DIR/requirements.txt"
LOCK="$BOT_DIR/requirements.lock"  # exact versions of every package, as constraints

log() { printf 'rasa_env: %s\n' "$*" >&2; }

# True when $1 runs and really is CPython 3.10. A pyenv shim named python3.10 exists on PATH
# even when 3.10 is not the active pyenv version and then fails, so existence is not enough.
is_python310() {
    [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
}

find_python310() {
    if [ -n "${REBOOK_PYTHON310:-}" ]; then
        if is_python310 "$REBOOK_PYTHON310"; then
            printf '%s\n' "$REBOOK_PYTHON310"
            return 0
        fi
        log "REBOOK_PYTHON310=$REBOOK_PYTHON310 is not a working Python 3.10"
        return 1
    fi
    local candidate
    candidate="$(command -v python3.10 || true)"
    if is_python310 "$candidate"; then
        printf '%s\n' "$candidate"
        return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        # Newest 3.10.x first (sort -V), so a later patch release wins.
        while IFS= read -r candidate; do
            if is_python310 "$candidate"; then
                printf '%s\n' "$candidate"
                return 0
            fi
        done < <(ls -d "$(pyenv root)"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV)
    fi
    return 1
}

if ! PYTHON310="$(find_python310)"; then
    log "Rasa 3.6 needs Python 3.10: install it (e.g. \`pyenv install 3.10.13\`) or set REBOOK_PYTHON310=/path/to/python3.10"
    exit 1
fi

PY_VERSION="$("$PYTHON310" -c 'import platform; print(platform.python_version())')"
ENV_KEY="$( { cat "$REQUIREMENTS" "$LOCK"; printf '\npython=%s\n' "$PY_VERSION"; } | sha256sum | cut -c1-16)"
# The published name is a symlink to the directory the venv was built in. A venv cannot be
# moved after creation (its scripts' shebangs hold the absolute path), so "build in a temp dir,
# rename when done" renames the symlink instead: it only exists once the build has succeeded,
# so an interrupted build is never picked up.
ENV_LINK="$CACHE_DIR/rasa-env-$ENV_KEY"
REPO_LINK="$REPO_DIR/.venv-rasa"

env_ready() { [ -x "$ENV_LINK/bin/rasa" ] && [ -x "$ENV_LINK/bin/python" ]; }

link_repo() {
    # ln + mv -T replaces the link in one rename, so a concurrent reader never sees it missing.
    if [ "$(readlink "$REPO_LINK" 2>/dev/null || true)" != "$ENV_LINK" ]; then
        if [ -e "$REPO_LINK" ] && [ ! -L "$REPO_LINK" ]; then
            log "$REPO_LINK exists and is not a symlink; remove it and rerun"
            exit 1
        fi
        ln -sfn "$ENV_LINK" "$REPO_LINK.tmp.$$"
        mv -fT "$REPO_LINK.tmp.$$" "$REPO_LINK"
    fi
    printf '%s\n' "$ENV_LINK"
}

if env_ready; then
    link_repo
    exit 0
fi

mkdir -p "$CACHE_DIR"
# One builder per env key; a second caller waits here and then finds the env ready.
exec 9>"$CACHE_DIR/rasa-env-$ENV_KEY.lock"
if ! flock -n 9; then
    log "another process is building $ENV_LINK; waiting for it"
    flock 9
fi
if env_ready; then
    link_repo
    exit 0
fi

# Leftovers of interrupted builds of this key: nobody points at them and we hold the lock.
rm -rf "$CACHE_DIR/.rasa-env-$ENV_KEY.build."*

BUILD_DIR="$(mktemp -d "$CACHE_DIR/.rasa-env-$ENV_KEY.build.XXXXXX")"
chmod 755 "$BUILD_DIR"  # mktemp makes it 0700; the env itself is not secret
cleanup() { if [ -n "${BUILD_DIR:-}" ]; then rm -rf "$BUILD_DIR"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
log "building Rasa env with $PYTHON310 ($PY_VERSION) in $BUILD_DIR (a few minutes, once)"
"$PYTHON310" -m venv "$BUILD_DIR"
# setuptools<70: Rasa 3.6 imports pkg_resources at run time (rasa/shared/utils/validation.py),
# which newer setuptools deprecates and then drops; <70 is the range known to work with it.
"$BUILD_DIR/bin/python" -m pip install --no-input --disable-pip-version-check -q \
    -U pip wheel "setuptools<70" >&2
"$BUILD_DIR/bin/python" -m pip install --no-input --disable-pip-version-check -q \
    -r "$REQUIREMENTS" -c "$LOCK" >&2
# Smoke test before publishing: the env must import and report its version.
RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    "$BUILD_DIR/bin/rasa" --version >&2

ln -sfn "$BUILD_DIR" "$ENV_LINK.tmp.$$"
mv -fT "$ENV_LINK.tmp.$$" "$ENV_LINK"
BUILD_DIR=""  # published: keep it
log "Rasa env ready in $((SECONDS - started)) s: $ENV_LINK"
link_repo
