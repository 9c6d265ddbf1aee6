"""The deterministic red-flag screen, misspellings included."""

import pytest

from api.conversations.safety import safety_net_text, screen


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I have chest pain", "chest_pain"),
        ("chest pian since this morning", "chest_pain"),
        ("my chest is really tight, tight chest", "chest_pain"),
        ("i cant breathe", "breathing"),
        ("cnt breath properly", "breathing"),
        ("I'm struggling to breathe", "breathing"),
        ("heavy bleedin after my op", "bleeding"),
        ("coughing up blood", "bleeding"),
        ("my face is droopin", "stroke"),
        ("slurred speech and my arm is weak", "stroke"),
        ("I think im having a stroke", "stroke"),
        ("i want to kil myself", "mental_health_crisis"),
        ("feeling suicidle", "mental_health_crisis"),
        ("took an overdose", "mental_health_crisis"),
        ("my dad collapsed", "collapse"),
        ("she is unconscious", "collapse"),
        ("had a seizure", "collapse"),
        ("CHEST PAIN!!!", "chest_pain"),
        ("ok so basically can u move it, also cant breathe properly tbh", "breathing"),
    ],
)
def test_red_flags_are_caught(text, category):
    result = screen(text)
    assert result.red_flag, text
    assert result.category == category


@pytest.mark.parametrize(
    "text",
    [
        "can i bring my chess set", "when is my chest xray", "ok ta", "2", "cant make tues",
        "what time is my appointment", "is there parking", "thanks so much x", "hi",
        "I have a cold", "why was it moved", "the strike is annoying", "the breast clinic",
        "\U0001F600\U0001F44D", "", "wot time 2moro",
    ],
)
def test_everyday_messages_pass(text):
    assert not screen(text).red_flag, text


def test_safety_net_points_to_999_and_111_and_gives_no_advice():
    text = safety_net_text(trust_name="Test Trust")
    assert "999" in text and "111" in text
    for advice in ("take", "paracetamol", "rest", "dose"):
        assert advice not in text.lower()
