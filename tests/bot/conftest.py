"""The Rasa command line for the bot tests: the cached Rasa env, quiet and offline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.rasa_stack import REPO_ROOT, ensure_rasa_env

# Written by the tests (gitignored): the cross-validation table, failed test stories.
RESULTS_DIR = REPO_ROOT / "bot" / "results"


@pytest.fixture(scope="session")
def rasa_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = ensure_rasa_env(log_dir=tmp_path_factory.mktemp("rasa-env"))
    return env_dir / "bin" / "rasa"


def quiet_env() -> dict[str, str]:
    """Offline and quiet, as bot/rasa_common.sh sets it for the scripts."""
    return dict(
        os.environ,
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )


def run_rasa(rasa_bin: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(rasa_bin), *args],
        cwd=REPO_ROOT,
        env=quiet_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def report(request: pytest.FixtureRequest, text: str) -> None:
    """Print to the terminal even when pytest captures output."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        print(text)
        return
    reporter.write_line("")
    for line in text.splitlines():
        reporter.write_line(line)
