"""This adapter's `rebook integration` commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this adapter's commands to `rebook integration`."""
