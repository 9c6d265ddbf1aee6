"""The safety screen's verdict: the lexicon first, a trained classifier as a second vote.

Either layer firing is a red flag (recall first: a false alarm costs a kind message and a
staff look; a miss could cost a life). The category says what the reply must fit: a physical
emergency gets 999 first, a mental-health crisis NHS 111 option 2 and Samaritans, a
safeguarding concern a discreet reply and the safeguarding lead's queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.conversations.safety import classifier, normalise
from api.conversations.safety.matching import read

CATEGORIES = (
    "chest_pain", "stroke", "breathing", "bleeding", "anaphylaxis", "collapse_fitting",
    "overdose_poisoning", "suicidal", "self_harm", "sepsis", "sudden_severe_pain",
    "safeguarding", "emergency",
)
MENTAL_HEALTH = frozenset({"suicidal", "self_harm"})
SAFEGUARDING = frozenset({"safeguarding"})


@dataclass(frozen=True)
class ScreenResult:
    red_flag: bool
    category: str | None = None
    # Every category either layer saw, and which layer fired ("lexicon", "classifier").
    categories: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()


def reply_group(categories: tuple[str, ...]) -> str:
    """Which safety-net wording fits: "physical", "mental_health" or "safeguarding".

    A physical emergency comes first (999); safeguarding is discreet even when mixed with a
    symptom, because the phone may be shared with the person the patient fears.
    """
    found = set(categories)
    if found & SAFEGUARDING:
        return "safeguarding"
    if found and found <= MENTAL_HEALTH:
        return "mental_health"
    if found & MENTAL_HEALTH or "overdose_poisoning" in found:
        return "physical_and_mental_health"
    return "physical"


def warm_up() -> None:
    """Load the spelling dictionary and the classifier now, not on the first message."""
    normalise.warm_up()
    classifier.load()


def screen(text: str) -> ScreenResult:
    """Flag a message that may describe an emergency, a crisis or a safeguarding concern."""
    if not text or not text.strip():
        return ScreenResult(False)
    found_matches, negated = read(text)
    lexical = list(dict.fromkeys(m.category for m in found_matches))
    # "No chest pain, just want the date": when the only emergency words were explicitly
    # negated, the classifier (which cannot see negation) does not overrule the lexicon.
    voted = None if negated and not lexical else classifier.vote(text)
    layers = tuple(name for name, fired in (("lexicon", lexical), ("classifier", voted)) if fired)
    found = tuple(dict.fromkeys(lexical + ([voted] if voted else [])))
    if not found:
        return ScreenResult(False)
    return ScreenResult(True, found[0], found, layers)
