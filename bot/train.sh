#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed, and put it at bot/models/rebook.tar.gz.
#
# Models are cached outside the clone by a hash of every training input, so switching
# branches back and forth, a second clone, or a second test run never trains twice.
# Prints the model path on stdout; everything else goes to stderr.
# Env: REBOOK_CACHE (default ~/.cache/rebook), plus what bot/rasa_env.sh reads.
set -euo pipefail

BOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_DIR="$(dirname "$BOT_DIR")"
CACHE_DIR="${REBOOK_CACHE:-$HOME/.cache/rebook}"
MODEL_CACHE="$CACHE_DIR/models"
MODEL_OUT="$BOT_DIR/models/rebook.tar.gz"

log() { printf 'train: %s\n' "$*" >&2; }

# shellcheck source=bot/rasa_common.sh
. "$BOT_DIR/rasa_common.sh"

RASA_ENV="$("$BOT_DIR/rasa_env.sh")"

cd "$REPO_DIR"

# Hash of the training inputs: each file's repo-relative path and content, in a fixed
# (C-locale) order. Hidden files (editor swap files) and backups are not training data.
training_hash() {
    find bot/config.yml bot/domain bot/data nlu_data bot/requirements.txt bot/requirements.lock \
        bot/train.sh \
        -type f ! -name '.*' ! -name '*~' -print0 \
        | LC_ALL=C sort -z \
        | while IFS= read -r -d '' file; do
            printf '%s\0' "$file"
            sha256sum <"$file" | cut -c1-64
        done \
        | sha256sum | cut -c1-16
}

# Story augmentation (Rasa's default 50) glues random stories together for TED. Nearly every
# turn of this bot is decided by rules, the stories are few and short, and augmented trackers
# multiplied TED's training time by ten without changing a single test prediction: off.
AUGMENTATION=0

HASH="$(training_hash)"
MODEL="$MODEL_CACHE/$HASH.tar.gz"

if [ ! -f "$MODEL" ]; then
    mkdir -p "$MODEL_CACHE"
    # One training at a time on this machine (it uses every core anyway); a second caller
    # waits and then finds the model in the cache.
    exec 9>"$MODEL_CACHE/.train.lock"
    if ! flock -n 9; then
        log "another process is training; waiting for it"
        flock 9
    fi
    if [ ! -f "$MODEL" ]; then
        # The temp dir is on the cache's filesystem so the final mv is an atomic rename: a
        # half-written or interrupted model never appears under its hash.
        TMP_OUT="$(mktemp -d "$MODEL_CACHE/.train.XXXXXX")"
        trap 'rm -rf "$TMP_OUT"' EXIT
        started=$SECONDS
        log "training model $HASH (inputs changed or first run)"
        "$RASA_ENV/bin/rasa" train \
            --config bot/config.yml \
            --domain bot/domain \
            --data bot/data nlu_data \
            --fixed-model-name "$HASH" \
            --augmentation "$AUGMENTATION" \
            --out "$TMP_OUT" >&2
        mv -f "$TMP_OUT/$HASH.tar.gz" "$MODEL"
        log "trained in $((SECONDS - started)) s: $MODEL"
    fi
    flock -u 9
fi

# A fixed name for run_rasa.sh and tests. Hard link when the cache is on the same filesystem
# (instant, no extra space), else copy; either way replaced by one rename so a running server
# or a concurrent reader never sees a partial file. Under a lock: two callers publishing the
# same model at once would otherwise trip mv's "are the same file" check.
mkdir -p "$BOT_DIR/models"
exec 8>"$BOT_DIR/models/.publish.lock"
flock 8
if ! [ "$MODEL" -ef "$MODEL_OUT" ] && ! cmp -s "$MODEL" "$MODEL_OUT" 2>/dev/null; then
    tmp_link="$MODEL_OUT.tmp.$$"
    ln -f "$MODEL" "$tmp_link" 2>/dev/null || cp "$MODEL" "$tmp_link"
    mv -f "$tmp_link" "$MODEL_OUT"
fi
flock -u 8
printf '%s\n' "$MODEL_OUT"
