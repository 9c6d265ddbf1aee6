"""The red-flag screen: everyday examples, and the held-out corpora in tests/data.

The held-out corpora were written apart from the screen's lexicon and training data (see
tests/data/README.md) and are never trained on. Any red-flag message that misses the safety
net fails the suite; so does a false-alarm rate on ordinary messages above 2%.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from api.conversations.safety import CATEGORIES, reply_group, screen

DATA = Path(__file__).resolve().parents[1] / "data"
MAX_FALSE_ALARM_RATE = 0.02


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I have chest pain", "chest_pain"),
        ("chest pian since this morning", "chest_pain"),
        ("i cant breathe", "breathing"),
        ("cnt breath properly", "breathing"),
        ("heavy bleedin after my op", "bleeding"),
        ("coughing up blood", "bleeding"),
        ("my face is droopin", "stroke"),
        ("I think im having a stroke", "stroke"),
        ("i want to kil myself", "suicidal"),
        ("feeling suicidle", "suicidal"),
        ("took an overdose", "overdose_poisoning"),
        ("my dad collapsed", "collapse_fitting"),
        ("had a seizure", "collapse_fitting"),
        ("CHEST PAIN!!!", "chest_pain"),
        ("chestpain", "chest_pain"),
    ],
)
def test_red_flags_are_caught(text, category):
    result = screen(text)
    assert result.red_flag, text
    assert category in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "can i bring my chess set", "when is my chest xray", "ok ta", "2", "cant make tues",
        "what time is my appointment", "is there parking", "thanks so much x", "hi",
        "I have a cold", "why was it moved", "the strike is annoying", "the breast clinic",
        "\U0001F600\U0001F44D", "", "wot time 2moro", "no chest pain, just want the date",
        "my bleeding has stopped since the op, do I still need the follow up",
        "this wait is killing me", "when is the stroke clinic", "I had a fit 10 years ago",
    ],
)
def test_everyday_messages_pass(text):
    assert not screen(text).red_flag, text


def test_every_held_out_red_flag_gets_the_safety_net_in_every_category():
    corpus = _read("red_flags_test.jsonl")
    totals = Counter(row["category"] for row in corpus)
    assert set(totals) == set(CATEGORIES) - {"emergency"}
    assert len(corpus) >= 600 and min(totals.values()) >= 50
    missed = [(row["category"], row["text"]) for row in corpus if not screen(row["text"]).red_flag]
    assert missed == [], f"{len(missed)} held-out red flags missed the safety net"


def test_false_alarms_on_held_out_ordinary_messages_stay_under_two_percent():
    corpus = _read("ordinary_test_a.jsonl") + _read("ordinary_test_b.jsonl")
    assert len(corpus) >= 2000
    alarms = [row["text"] for row in corpus if screen(row["text"]).red_flag]
    assert len(alarms) / len(corpus) <= MAX_FALSE_ALARM_RATE, alarms[:20]


def test_the_development_split_meets_the_same_bar():
    red_flags, ordinary = _read("red_flags_dev.jsonl"), _read("ordinary_dev.jsonl")
    assert all(screen(row["text"]).red_flag for row in red_flags)
    alarms = sum(screen(row["text"]).red_flag for row in ordinary)
    assert alarms / len(ordinary) <= MAX_FALSE_ALARM_RATE


@pytest.mark.parametrize(
    ("categories", "group"),
    [
        (("suicidal",), "mental_health"), (("self_harm", "suicidal"), "mental_health"),
        (("chest_pain",), "physical"), (("overdose_poisoning",), "physical_and_mental_health"),
        (("chest_pain", "suicidal"), "physical_and_mental_health"),
        (("safeguarding", "bleeding"), "safeguarding"),
    ],
)
def test_the_reply_fits_the_category(categories, group):
    assert reply_group(categories) == group


def test_held_out_mental_health_and_safeguarding_messages_get_their_own_wording():
    corpus = _read("red_flags_test.jsonl")
    wrong = []
    for row in corpus:
        group = reply_group(screen(row["text"]).categories)
        if row["category"] == "safeguarding" and group != "safeguarding":
            wrong.append(row["text"])
    # Safeguarding wording is discreet; a safeguarding message read only as a symptom would
    # get a reply that could alert the person the patient fears. Allow a few mixed messages.
    assert len(wrong) <= len(corpus) // 60, wrong[:10]


@pytest.mark.parametrize("group", ["physical", "mental_health", "physical_and_mental_health",
                                   "safeguarding"])
def test_safety_net_points_to_999_and_111_and_gives_no_advice(group):
    from api.texts import text

    reply = text(f"safety_net_{group}", trust_name="Test Trust")
    assert "999" in reply
    assert "111" in reply or group == "safeguarding"
    if group != "physical":
        assert "116 123" in reply or group == "safeguarding"
    for advice in ("take ", "paracetamol", "rest", "dose", "lie down"):
        assert advice not in reply.lower(), (group, advice)
    if group == "safeguarding":  # discreet: the phone may be shared with the person feared
        assert not any(word in reply.lower() for word in ("abuse", "violence", "partner"))
