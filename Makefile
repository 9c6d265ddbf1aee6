# Two commands matter: `make run` (the whole stack on SQLite) and `make test` (the whole suite).
# Everything they need is built here, from this repository's own files.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Python 3.11+ for the app; override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
# The app environment is rebuilt whenever pyproject.toml or the lock file changes.
# requirements.lock holds the exact version of every package, installed as constraints.
APP_STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
# axe-core (the accessibility checker the browser tests inject) comes from npm, pinned by the
# lock file; reinstalled only when the lock changes (`npm ci` empties node_modules, stamp too).
NODE_DIR := tests/browser
AXE_STAMP := $(NODE_DIR)/node_modules/.installed-$(shell sha256sum < $(NODE_DIR)/package-lock.json | cut -c1-16)

.PHONY: help run test install axe rasa-env model lint lock clean

help:
	@echo "make run    set everything up, then start api, worker, Rasa and the action server"
	@echo "make test   set everything up, then run the whole test suite"

$(APP_STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Rebook needs Python 3.11 or newer: install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(APP_STAMP)

# Without npm the accessibility tests skip (and fail in CI, where REBOOK_REQUIRE_BROWSER=1).
$(AXE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(NODE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is missing: the accessibility tests need it (apt-get install -y npm)"; fi

axe: $(AXE_STAMP)

# The Rasa environment (Python 3.10) lives outside the clone, cached by a hash of its inputs.
rasa-env:
	@bot/rasa_env.sh

# Trains only when bot/ or nlu_data/ changed (models are cached by a hash of the training data).
model: rasa-env
	@bot/train.sh >/dev/null

run: install model
	$(VENV)/bin/rebook run

test: install model axe
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-pin every package after changing pyproject.toml's dependencies (then commit the lock).
lock: install
	@{ echo "# Exact versions of the app environment (Python 3.11), installed as constraints by make"; \
	   echo "# and the Dockerfile. Regenerate with: make lock"; \
	   $(PY) -m pip freeze --exclude-editable; } > requirements.lock

lint: install
	$(VENV)/bin/ruff check api actions tests benchmarks

clean:
	rm -rf $(VENV) .venv-rasa var bot/models .pytest_cache $(NODE_DIR)/node_modules
