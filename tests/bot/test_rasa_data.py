"""The Rasa project is valid and its conversation tests pass.

`rasa data validate` must be clean (warnings fail), and `rasa test core` runs the conversation
test stories in bot/tests (at least 40, covering every journey) with
--fail-on-prediction-errors: a wrong intent, entity or action in any story fails the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.bot.conftest import RESULTS_DIR, run_rasa
from tests.e2e.rasa_stack import REPO_ROOT, ensure_model

pytestmark = pytest.mark.rasa

MIN_TEST_STORIES = 40
# Journey -> the test story files that cover it (issue 4's nine journeys).
JOURNEYS = {
    "1 identity": "test_identity.yml",
    "2 why": "test_why_and_status.yml",
    "3 status": "test_why_and_status.yml",
    "4 offers": "test_offers.yml",
    "5 cannot come": "test_cancellation.yml",
    "6 worries": "test_worries.yml",
    "7 handover": "test_handover.yml",
    "8 practical": "test_information.yml",
    "9 chit-chat and fallback": "test_chitchat.yml",
}


def test_rasa_data_validate_is_clean(rasa_bin: Path):
    result = run_rasa(
        rasa_bin,
        "data", "validate",
        "--domain", "bot/domain",
        "--data", "bot/data", "nlu_data",
        "--config", "bot/config.yml",
        "--fail-on-warnings",
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Rasa returns 0 for some warnings (e.g. an unused response): those count as unclean too.
    ours = [line for line in output.splitlines()
            if "UserWarning" in line and "site-packages/rasa/shared/utils/io.py" in line]
    assert not ours, "\n".join(ours)


def test_there_are_enough_conversation_tests_for_every_journey():
    stories = {}
    for path in sorted((REPO_ROOT / "bot" / "tests").glob("test_*.yml")):
        stories[path.name] = len(yaml.safe_load(path.read_text())["stories"])

    assert sum(stories.values()) >= MIN_TEST_STORIES, stories
    for journey, name in JOURNEYS.items():
        assert stories.get(name), f"journey {journey} has no conversation tests ({name})"


def test_conversation_test_stories_pass(rasa_bin: Path, tmp_path: Path):
    model = ensure_model(log_dir=tmp_path)
    out = RESULTS_DIR / "core"
    shutil.rmtree(out, ignore_errors=True)
    result = run_rasa(
        rasa_bin,
        "test", "core",
        "--model", str(model),
        "--stories", "bot/tests",
        "--fail-on-prediction-errors",
        "--no-plot",
        "--out", str(out),
    )  # fmt: skip

    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout[-3000:] + result.stderr[-3000:] + details)
