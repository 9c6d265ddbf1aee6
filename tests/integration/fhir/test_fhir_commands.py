"""`rebook integration fhir export|load|sync`: words, not tracebacks."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app


def test_load_refuses_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "bundle.json"
    bad.write_text("not json")
    result = CliRunner().invoke(app, ["integration", "fhir", "load", str(bad)])
    assert result.exit_code == 2 and "is not JSON" in " ".join(result.output.split())


def test_sync_without_a_server_says_so(monkeypatch):
    monkeypatch.setenv("FHIR_BASE_URL", "")
    from api.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["integration", "fhir", "sync"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "FHIR_BASE_URL is not set" in result.output
