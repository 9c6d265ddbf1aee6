# Sourced (not run) by bot/train.sh and bot/run_rasa.sh: environment that keeps every Rasa
# command quiet and offline. Each value is a default, so a caller can still override it.
# shellcheck shell=bash

# Rasa asks to send usage telemetry (Segment, Sentry) unless told not to; the machines that
# run this are offline and patient conversations must never leave them.
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
# TensorFlow's C++ INFO/WARNING chatter (CPU instruction sets, oneDNN) on every start.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# Rasa 3.6 pins SQLAlchemy 1.4, which warns about 2.0 on import; nothing we can act on.
export SQLALCHEMY_SILENCE_UBER_WARNING="${SQLALCHEMY_SILENCE_UBER_WARNING:-1}"
# Rasa's own log lines stay at INFO; the libraries it wraps (TF, sanic, ...) only on errors.
export LOG_LEVEL_LIBRARIES="${LOG_LEVEL_LIBRARIES:-ERROR}"
# Belt and braces: nothing in our pipeline downloads models, but if a Hugging Face based
# component is ever added it must fail loudly instead of trying the internet.
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
# Rasa's training cache defaults to .rasa/ in the working directory (the clone); keep it
# beside the other caches so clones share it and the tree stays clean.
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-${REBOOK_CACHE:-$HOME/.cache/rebook}/rasa-training-cache}"
