# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target app  -t rebook-app  .   # api, worker, dispatcher, action server
#   docker build --target rasa -t rebook-rasa .   # Rasa 3.6 server with the trained model
# Rasa 3.6 needs Python 3.10 and its own pins, so it never shares an image with the app.
# Base images are pinned to the exact Python the suite runs on (3.11.7 app, 3.10.13 Rasa) and
# the Debian release; a platform that pins by digest adds @sha256:... (docs/kubernetes.md).

FROM python:3.11.7-slim-bookworm AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/rebook
RUN useradd --create-home --uid 10001 rebook
COPY pyproject.toml README.md requirements.lock ./
COPY api ./api
COPY actions ./actions
COPY nlu_data ./nlu_data
RUN pip install -c requirements.lock .
# The safety screen's classifier trains on its own examples and the NLU examples: train it
# once at build time so no process trains it at start-up (and the image needs no writable
# cache).
ENV REBOOK_NLU_DATA=/srv/rebook/nlu_data REBOOK_CACHE=/srv/rebook/cache
RUN python -c "from api.conversations import safety; safety.warm_up()"
USER rebook
# Production refuses to start until the deployment sets MESSAGING_MODE, SECRET_KEY,
# TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ASSISTANT_TOKEN and an https PUBLIC_BASE_URL
# (docs/operations.md, "Deploying safely"); no default here may stand in for them.
ENV ENVIRONMENT=production
EXPOSE 8000 5055
# Override per service in docker-compose.yml (worker, dispatcher, actions).
CMD ["rebook", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM python:3.10.13-slim-bookworm AS rasa-train
ENV PIP_NO_CACHE_DIR=1 RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /srv/bot
COPY bot/requirements.txt bot/requirements.lock ./bot/
RUN pip install --upgrade pip wheel "setuptools<70" \
    && pip install -r bot/requirements.txt -c bot/requirements.lock
COPY bot ./bot
COPY nlu_data ./nlu_data
RUN rasa train --config bot/config.yml --domain bot/domain --data bot/data nlu_data \
      --fixed-model-name rebook --out bot/models

FROM rasa-train AS rasa
RUN useradd --create-home --uid 10001 rasa && chown -R rasa /srv/bot
USER rasa
# bot/channels.py (the token-checked REST channel) is imported from /srv/bot. Needs
# ASSISTANT_TOKEN (refuses to start without it when ENVIRONMENT=production).
ENV PYTHONPATH=/srv/bot ENVIRONMENT=production
EXPOSE 5005
CMD ["rasa", "run", "--model", "bot/models/rebook.tar.gz", "--endpoints", "bot/endpoints.yml", \
     "--credentials", "bot/credentials.yml", "--interface", "0.0.0.0", "--port", "5005"]
