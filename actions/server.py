"""The action server: rasa-sdk serving this package, on loopback, behind the assistant token.

    python -m actions.server [--interface 127.0.0.1] [--port 5055]

`python -m rasa_sdk` would listen on every interface with no authentication and CORS open to
any origin, and the actions read and write patients' appointments. Here only the Rasa server
(which sends `X-Assistant-Token: $ASSISTANT_TOKEN`, see bot/endpoints.yml) may call
/webhook; /health stays open for probes. Logs go through the app's redacting formatter.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.worker.loader import AppLoader

from api.config import get_settings, settings_or_exit
from api.logs import configure_logging

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Assistant-Token"


def token_is_valid(*, expected: str, given: str | None) -> bool:
    """True when no token is configured (development) or `given` matches it."""
    if not expected:
        return True
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def build_app() -> Sanic:
    """rasa-sdk's Sanic app for this package, with the token check in front of /webhook."""
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=[])  # no browser ever calls the action server
    expected = get_settings().assistant_token.get_secret_value()

    @app.before_server_start
    async def log_through_the_redacting_handler(*_):
        # Sanic sets up its own logging as it starts serving, after main() configured ours:
        # configure again, so every line (rasa-sdk's included) is redacted JSON.
        settings = get_settings()
        configure_logging(level=settings.log_level, json=settings.log_json, replace_handlers=True)
        logging.captureWarnings(True)  # rasa-sdk warns through `warnings`: redact those too

    @app.on_request
    async def require_token(request: Request):
        if request.path.rstrip("/") == "/health":
            return None
        if not token_is_valid(expected=expected, given=request.headers.get(TOKEN_HEADER)):
            return response.json({"detail": "missing or wrong assistant token"}, status=401)
        return None

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interface", default=os.environ.get("ACTIONS_INTERFACE", "127.0.0.1"),
                        help="Interface to bind (default loopback; 0.0.0.0 only in a container "
                             "network with ASSISTANT_TOKEN set).")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    settings = settings_or_exit()  # refuses unsafe production settings before anything listens
    configure_logging(level=settings.log_level, json=settings.log_json, replace_handlers=True)
    loader = AppLoader(factory=build_app)
    app = loader.load()
    app.prepare(host=args.interface, port=args.port, single_process=True, access_log=False,
                motd=False)
    log.info("action server listening", extra={"interface": args.interface, "port": args.port})
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
