"""Rasa custom actions, served by the rasa-sdk action server.

Run from the repo root with the app environment:
    .venv/bin/python -m actions.server --port 5055   (see actions/server.py)

One module per conversation concern; actions stay thin and call domain services in `api/`
(nothing in `api/` imports this package). The server (actions/server.py) logs through the
app's redacting handler.
"""
