"""Rasa custom actions, served by the rasa-sdk action server.

Run from the repo root with the app environment:
    .venv/bin/python -m rasa_sdk --actions actions --port 5055

One module per conversation concern; actions stay thin and call domain services in `api/`
(nothing in `api/` imports this package).
"""

import sys

from api.config import get_settings
from api.logs import configure_logging


def _served_by_rasa_sdk() -> bool:
    """True in the action server (its main process and its Sanic workers), not in tests.

    Sanic starts workers with multiprocessing's spawn, so the worker's `__main__` is not
    rasa-sdk's; but every process that serves actions has imported rasa-sdk's web endpoint
    (the worker unpickles its app factory from there) before it imports this package.
    """
    return "rasa_sdk.endpoint" in sys.modules


if _served_by_rasa_sdk():
    # rasa-sdk has installed coloredlogs on the root logger by the time it imports this
    # package, and Sanic's loggers print to nothing but Python's unfiltered last resort:
    # replace both, so the action server's lines are redacted JSON like the app's.
    _settings = get_settings()
    configure_logging(level=_settings.log_level, json=_settings.log_json, replace_handlers=True)
