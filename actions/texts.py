"""The patient-facing texts the actions send (actions/texts.yml), filled in by name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).with_name("texts.yml")


@lru_cache
def catalogue() -> dict[str, str]:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def text(key: str, **values: object) -> str:
    """The text called `key`, with its {placeholders} filled."""
    return catalogue()[key].format(**values)
