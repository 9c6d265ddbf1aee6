"""The deterministic safety screen: red-flag symptoms, whatever the dialogue state.

It never depends on the ML model. Matching is fuzzy (rapidfuzz) so "chest pian" and
"cant breth" are caught, and it errs on the side of caution: a false alarm costs a
safety-net message and a staff look; a missed red flag could cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

# Phrases matched fuzzily against the normalised message, grouped by what they signal
# (the group names are identifiers: they are logged and shown to staff).
RED_FLAG_PHRASES: dict[str, tuple[str, ...]] = {
    "chest_pain": (
        "chest pain", "pain in my chest", "chest hurts", "tight chest", "chest tightness",
        "heart attack", "crushing chest",
    ),
    "breathing": (
        "cant breathe", "cannot breathe", "can not breathe", "struggling to breathe",
        "difficulty breathing", "short of breath", "hard to breathe", "not breathing",
        "choking",
    ),
    "bleeding": (
        "heavy bleeding", "bleeding heavily", "wont stop bleeding", "lots of blood",
        "coughing up blood", "vomiting blood", "blood everywhere", "bleeding a lot",
    ),
    "stroke": (
        "face drooping", "face is drooping", "droopy face", "face has dropped", "face dropped",
        "slurred speech",
        "speech is slurred", "cant lift my arm", "arm weakness", "having a stroke",
        "numb on one side",
    ),
    "mental_health_crisis": (
        "kill myself", "end my life", "want to die", "self harm", "hurt myself",
        "take my own life", "better off dead", "took too many tablets",
    ),
    "collapse": (
        "passed out", "collapsed", "unconscious", "wont wake up", "having a fit",
        "severe allergic reaction", "throat is swelling", "throat swelling",
    ),
}
# Single words specific enough to flag alone (compared word by word, fuzzily).
RED_FLAG_WORDS: dict[str, tuple[str, ...]] = {
    "mental_health_crisis": ("suicidal", "suicide", "overdose", "overdosed"),
    "collapse": ("unconscious", "anaphylaxis", "anaphylactic", "seizure", "seizures", "sepsis"),
    "stroke": ("stroke",),
}
PHRASE_THRESHOLD = 88
WORD_THRESHOLD = 86

# Text-speak and contractions folded before matching.
_FOLDS = (
    (r"\bcan'?t\b|\bcnt\b|\bcannt\b", "cant"),
    (r"\bwon'?t\b|\bwnt\b", "wont"),
    (r"\bi'?m\b", "im"),
    (r"\bbreath\b|\bbreth\b|\bbrethe\b|\bbreeth\b|\bbreathe\b", "breathe"),
    (r"\bmy\s+chest\b", "my chest"),
    (r"\bsuicidle\b|\bsucidal\b", "suicidal"),
)


@dataclass(frozen=True)
class ScreenResult:
    red_flag: bool
    category: str | None = None


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    for pattern, replacement in _FOLDS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def screen(text: str) -> ScreenResult:
    """Flag a message that mentions a possible emergency."""
    normalised = normalise(text)
    if not normalised:
        return ScreenResult(False)
    for category, phrases in RED_FLAG_PHRASES.items():
        for phrase in phrases:
            if len(normalised) >= len(phrase) - 2 and (
                fuzz.partial_ratio(phrase, normalised) >= PHRASE_THRESHOLD
            ):
                return ScreenResult(True, category)
    words = normalised.split()
    for category, targets in RED_FLAG_WORDS.items():
        for word in words:
            if len(word) < 5:
                continue
            if any(fuzz.ratio(word, target) >= WORD_THRESHOLD for target in targets):
                return ScreenResult(True, category)
    return ScreenResult(False)


def safety_net_text(*, trust_name: str) -> str:
    """The message a red flag gets at once (no clinical advice beyond where to get help)."""
    return (
        "If you are seriously ill, injured or your life is at risk, call 999 now. "
        "For urgent medical help, use NHS 111 online or call 111. "
        f"If you are thinking of ending your life, call 999 or 111 (option 2). "
        f"We have passed your message to the {trust_name} team."
    )
