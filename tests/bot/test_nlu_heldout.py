"""The trained model on messages written apart from its training data (tests/data/README.md).

Intent accuracy at least 0.92 and macro F1 at least 0.90 on the held-out set of 1,195 messages
over every intent; a message the model does not understand (nlu_fallback) counts as wrong.
The table is written to bot/results/nlu_heldout.md and printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.conftest import RESULTS_DIR, report
from tests.bot.heldout import parse, read_jsonl, score, table, write_report
from tests.e2e.rasa_stack import ensure_model

pytestmark = pytest.mark.rasa

MIN_ACCURACY = 0.92
MIN_MACRO_F1 = 0.90


def test_held_out_intent_accuracy(rasa_bin: Path, tmp_path: Path, request: pytest.FixtureRequest):
    corpus = read_jsonl("nlu_test.jsonl")
    intents = {row["intent"] for row in corpus}
    assert len(corpus) >= 1000 and len(intents) == 25
    assert min(sum(r["intent"] == i for r in corpus) for i in intents) >= 20
    model = ensure_model(log_dir=tmp_path)
    parsed = parse(rasa_env=rasa_bin.parent.parent, model=model,
                   texts=[row["text"] for row in corpus])

    result = score([row["intent"] for row in corpus], [p["intent"] for p in parsed])

    write_report(result, RESULTS_DIR / "nlu_heldout.md")
    report(request, "Held-out NLU set\n" + table(result))
    assert result.accuracy >= MIN_ACCURACY, f"accuracy {result.accuracy:.3f}"
    assert result.macro_f1 >= MIN_MACRO_F1, f"macro F1 {result.macro_f1:.3f}"
