#!/usr/bin/env bash
# Start the Rasa server for Rebook (after making sure the env and the model exist).
#
# The app's worker talks to it over the REST channel; nothing else should, so it listens on
# loopback unless RASA_INTERFACE says otherwise (e.g. 0.0.0.0 inside a container).
# Env: RASA_PORT (5005), RASA_INTERFACE (127.0.0.1), ACTION_SERVER_URL (http://127.0.0.1:5055),
#      REDIS_URL (unset: in-memory trackers and locks; set: Redis, see endpoints.redis.yml),
#      ASSISTANT_TOKEN (the worker must present it; Rasa presents it to the action server;
#      required when ENVIRONMENT=production),
#      RASA_LOG_LEVEL (INFO; DEBUG logs patients' messages, so it is refused in production),
#      RASA_TRACKER_TTL_SECONDS (2592000 = 30 days: Redis trackers expire after this idle time).
# Rasa's HTTP API (--enable-api: model replacement, tracker editing) is never opened: the
# REST channel (bot/channels.py) is all the app needs.
set -euo pipefail

BOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(dirname "$BOT_DIR")"

# shellcheck source=bot/rasa_common.sh
. "$BOT_DIR/rasa_common.sh"

RASA_ENV="$("$BOT_DIR/rasa_env.sh")"
MODEL="$("$BOT_DIR/train.sh")"
cd "$REPO_DIR"

# endpoints.yml reads ${ACTION_SERVER_URL}/webhook and Rasa refuses to start on an unset
# variable, so give it the app's default. Accept the URL with or without /webhook: the app's
# setting (api.config.Settings.action_server_url) is the base URL.
ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:5055}"
ACTION_SERVER_URL="${ACTION_SERVER_URL%/}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL%/webhook}"

ENDPOINTS="bot/endpoints.yml"
if [ -n "${REDIS_URL:-}" ]; then
    # Rasa's Redis stores take host/port/db/username/password/use_ssl, not a URL: split
    # REDIS_URL (redis[s]://[[user]:password@]host[:port][/db]; rediss is TLS) into the
    # variables endpoints.redis.yml reads. NUL-separated so a password with any character
    # survives. REDIS_USE_SSL is "true" or empty: Rasa reads ${VAR} as a string, and only
    # the empty string is false.
    {
        IFS= read -r -d '' REDIS_HOST
        IFS= read -r -d '' REDIS_PORT
        IFS= read -r -d '' REDIS_DB
        IFS= read -r -d '' REDIS_USERNAME
        IFS= read -r -d '' REDIS_PASSWORD
        IFS= read -r -d '' REDIS_USE_SSL
    } < <("$RASA_ENV/bin/python" - "$REDIS_URL" <<'PY'
import sys
from urllib.parse import unquote, urlsplit

url = urlsplit(sys.argv[1])
if url.scheme not in ("redis", "rediss"):
    sys.exit(f"run_rasa: REDIS_URL must be redis:// or rediss://host:port/db "
             f"(got scheme {url.scheme!r})")
db = url.path.strip("/") or "0"
values = (url.hostname or "localhost", str(url.port or 6379), db, unquote(url.username or ""),
          unquote(url.password or ""), "true" if url.scheme == "rediss" else "")
sys.stdout.write("".join(v + "\0" for v in values))
PY
    )
    export REDIS_HOST REDIS_PORT REDIS_DB REDIS_USERNAME REDIS_PASSWORD REDIS_USE_SSL
    export RASA_TRACKER_TTL_SECONDS="${RASA_TRACKER_TTL_SECONDS:-2592000}"
    ENDPOINTS="bot/endpoints.redis.yml"
fi

# bot/channels.py is imported by name from bot/credentials.yml.
export PYTHONPATH="$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}"
# endpoints*.yml send it to the action server (an unset variable would stop Rasa starting).
export ASSISTANT_TOKEN="${ASSISTANT_TOKEN:-}"
# Rasa reads its level from LOG_LEVEL, which is also the app's setting: give it its own.
# At DEBUG Rasa logs every patient message and the slots (dates of birth) in clear.
LOG_LEVEL="${RASA_LOG_LEVEL:-INFO}"
if [ "$LOG_LEVEL" = "DEBUG" ] && [ "${ENVIRONMENT:-development}" = "production" ]; then
    echo "run_rasa: RASA_LOG_LEVEL=DEBUG logs patients' messages; refused in production" >&2
    exit 2
fi
export LOG_LEVEL

args=(
    run
    --model "$MODEL"
    --endpoints "$ENDPOINTS"
    --credentials bot/credentials.yml
    --interface "${RASA_INTERFACE:-127.0.0.1}"
    --port "${RASA_PORT:-5005}"
)
echo "run_rasa: starting Rasa on ${RASA_INTERFACE:-127.0.0.1}:${RASA_PORT:-5005} with $ENDPOINTS (takes about a minute)" >&2
exec "$RASA_ENV/bin/rasa" "${args[@]}"
