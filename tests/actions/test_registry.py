"""Every custom action the domain names is served by exactly one class, and vice versa."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import yaml
from rasa_sdk import Action

import actions

REPO = Path(__file__).resolve().parents[2]


def domain_actions() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "bot" / "domain").glob("*.yml"):
        names.update((yaml.safe_load(path.read_text()) or {}).get("actions") or [])
    return names


def served_actions() -> list[str]:
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    found = []
    pending = list(Action.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("actions.") and not inspect.isabstract(cls):
            found.append(cls().name())
    return found


def test_domain_and_action_server_agree():
    served = served_actions()

    assert len(served) == len(set(served)), "two classes share a name"
    assert set(served) == domain_actions()
