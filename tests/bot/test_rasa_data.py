"""The Rasa project is valid: `rasa data validate` is clean and the conversation tests pass."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.rasa_stack import REPO_ROOT, ensure_model, ensure_rasa_env

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def rasa_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = ensure_rasa_env(log_dir=tmp_path_factory.mktemp("rasa-env"))
    return env_dir / "bin" / "rasa"


def run_rasa(rasa_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(rasa_bin), *args],
        cwd=REPO_ROOT,
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def quiet_env() -> dict[str, str]:
    """Offline and quiet, as bot/rasa_common.sh sets it for the scripts."""
    return dict(
        os.environ,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )


def test_rasa_data_validate_is_clean(rasa_bin: Path):
    result = run_rasa(
        rasa_bin,
        "data", "validate",
        "--domain", "bot/domain",
        "--data", "bot/data", "nlu_data",
        "--config", "bot/config.yml",
        "--fail-on-warnings",
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversation_test_stories_pass(rasa_bin: Path, tmp_path: Path):
    model = ensure_model(log_dir=tmp_path)
    result = run_rasa(
        rasa_bin,
        "test", "core",
        "--model", str(model),
        "--stories", "bot/tests",
        "--fail-on-prediction-errors",
        "--no-plot",
        "--out", str(tmp_path / "results"),
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
