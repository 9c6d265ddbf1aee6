"""The safety screen's second vote: a linear classifier on word and character n-grams.

It catches red flags said in words the lexicon has no rule for. It is trained on its own
labelled set (safety/training_data/: red flags by category and hard negatives) plus every NLU
training example in nlu_data/ as ordinary messages, never on the held-out corpora in
tests/data/. Training takes a few seconds; the model is cached on disk by a hash of its
inputs, so each process trains at most once per change of data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
from functools import lru_cache
from pathlib import Path

import sklearn
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from api.conversations.safety.normalise import words

log = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).with_name("training_data")
# The NLU examples live beside the package in a checkout; an installed image points at its
# copy with REBOOK_NLU_DATA (see the Dockerfile).
REPO_NLU_DIR = Path(__file__).resolve().parents[3] / "nlu_data"
NONE = "none"
# A message is a red flag when the model gives "none" less than this probability. Chosen on
# the development split (tests/data/*_dev.jsonl): the highest value that keeps false alarms on
# ordinary messages under 1%, so the lexicon and the classifier together stay under 2%.
NONE_BELOW = 0.2
MODEL_VERSION = "1"  # bump when the features or the model change


def _cache_dir() -> Path:
    root = os.environ.get("REBOOK_CACHE") or Path.home() / ".cache" / "rebook"
    return Path(root)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _nlu_examples() -> list[str]:
    """Every NLU training example as plain text (entity markup removed): ordinary messages."""
    examples: list[str] = []
    nlu_dir = Path(os.environ.get("REBOOK_NLU_DATA") or REPO_NLU_DIR)
    if not nlu_dir.is_dir():
        # Without them the classifier would be a different, untested model: refuse.
        raise FileNotFoundError(f"NLU examples not found at {nlu_dir}: set REBOOK_NLU_DATA")
    for path in sorted(nlu_dir.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                if line.startswith("- "):
                    plain = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line[2:])
                    examples.append(plain)
    return examples


def training_set() -> tuple[list[str], list[str]]:
    """Texts and labels: red flags by category, hard negatives and NLU examples as "none"."""
    texts: list[str] = []
    labels: list[str] = []
    for row in _read_jsonl(TRAINING_DIR / "red_flags.jsonl"):
        texts.append(row["text"])
        labels.append(row["category"])
    for row in _read_jsonl(TRAINING_DIR / "hard_negatives.jsonl"):
        texts.append(row["text"])
        labels.append(NONE)
    for text in _nlu_examples():
        texts.append(text)
        labels.append(NONE)
    return texts, labels


def _analyse(text: str) -> str:
    return " ".join(words(text))


def build() -> Pipeline:
    """The untrained model: word 1-2 grams and character 2-5 grams, logistic regression."""
    return Pipeline([
        ("features", FeatureUnion([
            ("words", TfidfVectorizer(preprocessor=_analyse, ngram_range=(1, 2), min_df=1,
                                      sublinear_tf=True)),
            ("chars", TfidfVectorizer(preprocessor=_analyse, analyzer="char_wb",
                                      ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
        ])),
        ("model", LogisticRegression(C=8.0, max_iter=2000, class_weight="balanced")),
    ])


def _fingerprint(texts: list[str], labels: list[str]) -> str:
    digest = hashlib.sha256(f"{MODEL_VERSION}|{sklearn.__version__}".encode())
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def load() -> Pipeline:
    """The trained model: from the on-disk cache, or trained now and cached."""
    texts, labels = training_set()
    path = _cache_dir() / f"safety-classifier-{_fingerprint(texts, labels)}.pkl"
    if path.exists():
        try:
            with path.open("rb") as handle:
                return pickle.load(handle)  # our own cache file, written below
        except Exception:
            log.warning("safety classifier cache unreadable; retraining")
    model = build().fit(texts, labels)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(model, handle)
        temporary.replace(path)  # atomic: a concurrent reader never sees half a file
    except OSError:
        log.warning("safety classifier could not be cached; it will be retrained next time")
    return model


def probabilities(text: str) -> dict[str, float]:
    """Each category's probability for one message (for the benchmark and tuning)."""
    model = load()
    return dict(zip(model.classes_, model.predict_proba([text])[0], strict=True))


def vote(text: str) -> str | None:
    """The likeliest red-flag category when the model doubts the message is ordinary."""
    scores = probabilities(text)
    if scores.get(NONE, 1.0) >= NONE_BELOW:
        return None
    return str(max((c for c in scores if c != NONE), key=scores.__getitem__))
