"""Scoring the trained model on the held-out NLU set (tests/data/nlu_test.jsonl).

The model parses each message in the Rasa environment (bot/parse_messages.py) with its whole
pipeline, FallbackClassifier included: a message that ends in `nlu_fallback` counts as wrong.
Shared by tests/bot/test_nlu_heldout.py and benchmarks/conversation_quality.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.rasa_stack import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
PARSER = REPO_ROOT / "bot" / "parse_messages.py"


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def parse(*, rasa_env: Path, model: Path, texts: list[str]) -> list[dict]:
    """The model's reading of each text: {"text", "intent", "confidence", "ranking"}."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", RASA_TELEMETRY_ENABLED="false")
    result = subprocess.run(
        [str(rasa_env / "bin" / "python"), str(PARSER), str(model)],
        input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True,
        env=env, cwd=REPO_ROOT, timeout=900, check=False)
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or len(parsed) != len(texts):
        raise RuntimeError(f"parse_messages failed ({result.returncode}): {result.stderr[-2000:]}")
    return parsed


@dataclass
class Score:
    accuracy: float
    macro_f1: float
    fallbacks: int
    per_intent: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    confusions: list[tuple[tuple[str, str], int]]  # (expected, predicted), count


def score(expected: list[str], predicted: list[str]) -> Score:
    labels = sorted(set(expected))
    per_intent = {}
    for label in labels:
        tp = sum(e == p == label for e, p in zip(expected, predicted, strict=True))
        fp = sum(p == label != e for e, p in zip(expected, predicted, strict=True))
        fn = sum(e == label != p for e, p in zip(expected, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = (precision, recall, f1, tp + fn)
    correct = sum(e == p for e, p in zip(expected, predicted, strict=True))
    confusions = Counter((e, p) for e, p in zip(expected, predicted, strict=True) if e != p)
    return Score(accuracy=correct / len(expected),
                 macro_f1=sum(v[2] for v in per_intent.values()) / len(per_intent),
                 fallbacks=predicted.count("nlu_fallback"), per_intent=per_intent,
                 confusions=confusions.most_common())


def table(result: Score) -> str:
    lines = ["| intent | precision | recall | f1 | support |", "|---|---:|---:|---:|---:|"]
    for label, (precision, recall, f1, support) in sorted(result.per_intent.items()):
        lines.append(f"| {label} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {support} |")
    lines.append(f"| **accuracy** | | | {result.accuracy:.3f} | |")
    lines.append(f"| **macro avg** | | | {result.macro_f1:.3f} | |")
    lines.append("")
    lines.append(f"Ended in nlu_fallback: {result.fallbacks}. Most frequent confusions "
                 "(expected -> predicted):")
    lines.extend(f"- {e} -> {p}: {n}" for (e, p), n in result.confusions[:15])
    return "\n".join(lines)


def write_report(result: Score, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Held-out NLU set\n\n" + table(result) + "\n")
