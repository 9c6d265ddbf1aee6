"""The demo generator is pure: plain data in, plain data out, the same for the same seed."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.demo import data, generator

TODAY = date(2026, 1, 7)
PURE_MODULES = ("generator", "capacity", "people")


def _existing(**overrides) -> generator.Existing:
    clinician_id = iter(range(500, 10_000))
    existing = generator.Existing(
        site_ids={info.code: 10 + i for i, info in enumerate(data.SITES)},
        specialty_ids={info.code: 20 + i for i, info in enumerate(data.SPECIALTIES)},
        clinician_ids={info.code: [next(clinician_id) for _ in info.clinicians]
                       for info in data.SPECIALTIES},
        next_ids={"clinic_session": 1000, "slot": 5000, "patient": 300, "appointment": 7000},
    )
    return replace(existing, **overrides)


def _generate(**overrides) -> generator.Trust:
    arguments = {"patients": 200, "seed": 2024, "today": TODAY, "existing": _existing()}
    return generator.generate(**(arguments | overrides))


@pytest.fixture
def no_database(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the generator touched a database")

    for name in ("execute", "scalar", "scalars", "get", "add", "add_all", "flush"):
        monkeypatch.setattr(Session, name, refuse)
    monkeypatch.setattr(Engine, "connect", refuse)


def test_same_arguments_give_the_same_rows(no_database):
    first = _generate()

    assert _generate() == first
    assert _generate(seed=2025) != first
    assert _generate(today=date(2026, 1, 8)) != first


def test_rows_fit_around_what_exists(no_database):
    existing = _existing()
    trust = _generate(existing=existing)

    assert [row["id"] for row in trust.patients] == list(range(300, 300 + 200))
    assert trust.appointments[0]["id"] == 7000 and trust.slots[0]["id"] == 5000
    assert trust.sessions[0]["id"] == 1000
    assert {row["site_id"] for row in trust.slots} <= set(existing.site_ids.values())
    taken = frozenset(p["nhs_number"] for p in trust.patients[:20])
    again = _generate(existing=replace(existing, taken_nhs_numbers=taken))
    assert not taken & {p["nhs_number"] for p in again.patients}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_generator_imports_no_database_code(module):
    path = Path(generator.__file__).with_name(f"{module}.py")
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not {name for name in imported
                if name.startswith(("sqlalchemy", "api.db", "api.demo.writer"))}
