"""The replies written for SMS, made into sentences for Twilio <Say> (api/voice/speech.py)."""

from __future__ import annotations

import re
import string
import unicodedata

import pytest

from api.texts import catalogue
from api.voice.speech import options_prompt, ordinal, speak_when, spoken

# Plausible values for the catalogue's placeholders; URLs in the site notes on purpose, as a
# deployment may write them there (TRUST_INFO_*), and they must not be read out.
VALUES = {
    "trust_name": "Northshire NHS Trust", "trust": "Northshire NHS Trust",
    "phone": "0161 496 0000", "bookings_phone": "0300 123 4567", "minutes": "30",
    "attempts_left": "2", "when": "Tue 16 Jan, 2:30pm", "time": "3pm", "day": "today",
    "numbers": "1, 2 or 3", "site": "Royal Northshire Infirmary",
    "names": "Royal Northshire Infirmary and St Anne's Hospital",
    "address": "1 Hospital Road, Northshire NS1 2AB",
    "place": "Royal Northshire Infirmary, Outpatients B",
    "parking": "Pay at the machines (cards only); see www.northshire.nhs.uk/parking for prices.",
    "transport": "Buses 42 & 43 stop outside. Timetables at https://bus.example.org/42.",
    "help": "Call 0300 123 4567 (Mon-Fri 8am-6pm) or visit northshire.nhs.uk.",
    "label": "cardiology appointment", "what": "cardiology appointment",
    "which": "cardiology appointment",
    "slot": "Tue 16 Jan, 2:30pm, Royal Northshire Infirmary, Outpatients B",
    "was": " on Mon 8 Jan", "count": "2", "choices": "the 9am or the 2:30pm",
    "wanted": "mornings only", "bring": "Please bring your glasses \U0001F453.",
    "language": "Polish", "about": "Interpreters are free.",
    "first": "why your appointment was moved", "second": "when your appointment is now",
}
URL_LEFT = re.compile(r"https?:|www\.|\b[\w-]+\.(?:uk|com|org|net)\b", re.IGNORECASE)
REPLY_TO_TEXT = re.compile(r"\breply (with|yes|no|[0-9]|a or b|stop|start)\b", re.IGNORECASE)
TEXT_STOP = re.compile(r"\btext stop\b", re.IGNORECASE)


def _filled(template: str) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**{name: VALUES.get(name, "the clinic") for name in names})


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_every_catalogue_text_is_fit_for_the_ear(key):
    sentences = spoken(_filled(catalogue()[key]))
    assert sentences, key
    for sentence in sentences:
        assert sentence.strip() and re.search(r"\w", sentence), (key, sentences)
        assert not URL_LEFT.search(sentence), (key, sentence)
        assert not REPLY_TO_TEXT.search(sentence), (key, sentence)
        assert not TEXT_STOP.search(sentence), (key, sentence)
        assert "{" not in sentence and "}" not in sentence and "\n" not in sentence
        assert not any(unicodedata.category(c) == "So" for c in sentence), (key, sentence)
        assert sentence[-1] in ".?!:", (key, sentence)
        assert sentence == sentence.strip() and "  " not in sentence


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_every_catalogue_text_with_options_ends_with_the_prompt(key):
    buttons = [{"title": "Tue 16 Jan, 2:30pm, Royal Northshire Infirmary", "payload": "a"},
               {"title": "Wed 17 Jan, 9am, St Anne's Hospital", "payload": "b"}]
    sentences = spoken(_filled(catalogue()[key]), buttons)
    assert sentences[-3:] == [
        "Option 1: Tuesday the 16th of January at 2:30pm, at Royal Northshire Infirmary.",
        "Option 2: Wednesday the 17th of January at 9am, at St Anne's Hospital.",
        "Say or press 1 or 2.",
    ]


# --- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Tue 16 Jan, 2:30pm", "Tuesday the 16th of January at 2:30pm"),
    ("Tue 16 Jan", "Tuesday the 16th of January"),
    ("Mon 20 Jan, 9am", "Monday the 20th of January at 9am"),
    ("Fri 1 Mar", "Friday the 1st of March"),
    ("Sat 2 Nov", "Saturday the 2nd of November"),
    ("Sun 3 Aug", "Sunday the 3rd of August"),
    ("Thu 11 Dec, 12pm", "Thursday the 11th of December at 12pm"),
    ("Wed 22 Oct", "Wednesday the 22nd of October"),
    ("Tue 16 Jan 2024", "Tuesday the 16th of January 2024"),
    ("Tue 16 Jan 2024, 10:15am", "Tuesday the 16th of January 2024 at 10:15am"),
    ("on Tuesday 16 January", "on Tuesday the 16th of January"),
    ("Your appointment on Tue 16 Jan, 2:30pm is at X.",
     "Your appointment on Tuesday the 16th of January at 2:30pm is at X."),
    ("We're open Tuesday", "We're open Tuesday"),
    ("16 Jan", "16 Jan"),
])
def test_speak_when(text, expected):
    assert speak_when(text) == expected


@pytest.mark.parametrize(("number", "expected"), [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
    (21, "21st"), (22, "22nd"), (23, "23rd"), (24, "24th"), (30, "30th"), (31, "31st"),
    (101, "101st"), (111, "111th"),
])
def test_ordinals(number, expected):
    assert ordinal(number) == expected


def test_example_date_of_birth_is_read_as_a_date():
    assert spoken("For example 14/03/1962.") == ["For example the 14th of March 1962."]


# --- options -----------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "expected"), [
    (1, "Say or press 1."), (2, "Say or press 1 or 2."), (3, "Say or press 1, 2 or 3."),
    (5, "Say or press 1, 2, 3, 4 or 5."),
])
def test_options_prompt(count, expected):
    assert options_prompt(count) == expected


def test_buttons_become_numbered_options_after_the_text():
    buttons = [{"title": "Tue 16 Jan, 2:30pm, Royal Northshire Infirmary, Outpatients B",
                "payload": "/choose{\"n\": 1}"},
               {"title": "Fri 1 Mar, 9am, St Anne's Hospital", "payload": "2"},
               {"title": "Mon 20 Jan", "payload": "3"}]
    assert spoken("Which one would you like?", buttons) == [
        "Which one would you like?",
        "Option 1: Tuesday the 16th of January at 2:30pm, at Royal Northshire Infirmary, "
        "Outpatients B.",
        "Option 2: Friday the 1st of March at 9am, at St Anne's Hospital.",
        "Option 3: Monday the 20th of January.",
        "Say or press 1, 2 or 3.",
    ]


def test_one_option_keeps_the_prompt_simple():
    assert spoken("Here it is.", [{"title": "Tue 16 Jan, 2:30pm", "payload": "1"}]) == [
        "Here it is.", "Option 1: Tuesday the 16th of January at 2:30pm.", "Say or press 1."]


def test_a_button_that_is_not_a_date_is_spoken_as_written():
    assert spoken("", [{"title": "New date", "payload": "x"}, {"title": "Keep it 👍"}]) == [
        "Option 1: New date.", "Option 2: Keep it.", "Say or press 1 or 2."]


def test_no_buttons_no_prompt():
    assert spoken("Hello.") == ["Hello."]
    assert spoken("Hello.", []) == ["Hello."]


# --- addresses on the web ----------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("If you feel worse, use NHS 111 online at 111.nhs.uk or call 111.",
     ["If you feel worse, use NHS 111 online or call 111."]),
    ("Details at https://www.northshire.nhs.uk/parking?x=1.", []),
    ("Find the details on www.nhs.uk, or call us.", ["Find the details, or call us."]),
    ("Call 111 or visit 111.nhs.uk for advice.", ["Call 111."]),
    ("Call 111, or see https://111.nhs.uk.", ["Call 111."]),
    ("Read more at www.nhs.uk/conditions today.", ["Read more today."]),
    ("Visit nhs.uk for more. Call 111.", ["Call 111."]),
    ("See https://example.org/a for help.", []),
    ("Go to www.example.com", []),
    ("http://example.com", []),
])
def test_urls_are_dropped_and_the_sentence_tidied(text, expected):
    assert spoken(text) == expected


# --- symbols, lines and abbreviations ----------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("You're booked \u2705 See you soon \U0001F600", ["You're booked See you soon."]),
    ("Thanks! \U0001F44D\U0001F3FD", ["Thanks!"]),
    ("\u2b50\u2b50\u2b50", []),
    ("Hello \u2764\ufe0f there", ["Hello there."]),
    ("Bring:\n- your letter\n- your glasses\n\n* your medicines",
     ["Bring:", "Your letter.", "Your glasses.", "Your medicines."]),
    ("\u2022 one\n\u2022 two", ["One.", "Two."]),
    ("First line\nSecond line", ["First line.", "Second line."]),
    ("Did you mean:\nA) why it moved\nB) when it is",
     ["Did you mean:", "A: why it moved.", "B: when it is."]),
    ("Go to A&E now.", ["Go to A and E now."]),
    ("Bring things, e.g. your glasses.", ["Bring things, for example your glasses."]),
    ("Call us (Mon-Fri 8am-6pm).", ["Call us, Monday to Friday, 8am to 6pm."]),
    ("Open Mon-Fri 8am-6pm", ["Open Monday to Friday, 8am to 6pm."]),
    ("Open Sat-Sun", ["Open Saturday to Sunday."]),
    ("Clinics 9:30am - 12pm", ["Clinics 9:30am to 12pm."]),
    ("It was moved (strikes) today.", ["It was moved, strikes, today."]),
    ('He said "hello".', ["He said hello."]),
    ("Just say 'new date' and I'll find some.", ["Just say new date and I'll find some."]),
    ("You're welcome; we'll call you.", ["You're welcome.", "We'll call you."]),
    ("One; two; three", ["One.", "Two.", "Three."]),
    ("   ", []),
    ("", []),
    ("...", []),
])
def test_rules_for_the_ear(text, expected):
    assert spoken(text) == expected


# --- phone numbers -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Call 0161 496 0000.", "Call 0 1 6 1, 4 9 6, 0 0 0 0."),
    ("Call 0300 123 4567.", "Call 0 3 0 0, 1 2 3, 4 5 6 7."),
    ("Call 01632 960123.", "Call 0 1 6 3 2, 9 6 0 1 2 3."),
    ("Call 020 7946 0000 today.", "Call 0 2 0, 7 9 4 6, 0 0 0 0 today."),
    ("Call 01614960000.", "Call 0 1 6 1, 4 9 6, 0 0 0 0."),
    ("Call 07700900123.", "Call 0 7 7 0 0, 9 0 0 1 2 3."),
    ("Call +44 161 496 0000.", "Call 0 1 6 1, 4 9 6, 0 0 0 0."),
    ("Call +44 (0)7700 900123.", "Call 0 7 7 0 0, 9 0 0 1 2 3."),
    ("Call +447700900123.", "Call 0 7 7 0 0, 9 0 0 1 2 3."),
    ("Call 111.", "Call 111."),
    ("In an emergency call 999.", "In an emergency call 999."),
    ("Call NHS 111 and choose option 2.", "Call NHS 111 and choose option 2."),
    ("Samaritans free on 116 123.", "Samaritans free on 1 1 6, 1 2 3."),
    ("Press 55 when asked.", "Press 55 when asked."),
    ("Held for 30 minutes.", "Held for 30 minutes."),
    ("In 2024 and 2025.", "In 2024 and 2025."),
])
def test_phone_numbers_are_read_in_digit_groups(text, expected):
    assert spoken(text) == [expected]


# --- texting instructions become speaking ones -------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Reply YES to confirm.", ["Say yes, or press 1, to confirm."]),
    ("Reply YES.", ["Say yes, or press 1."]),
    ("Or reply YES and I'll pass it on.", ["Or say yes, or press 1, and I'll pass it on."]),
    ("Reply NO to keep it.", ["Say no, or press 2, to keep it."]),
    ("Reply YES or reply NO.", ["Say yes, or press 1, or say no, or press 2."]),
    ("Please reply with its number.", ["Please say or press its number."]),
    ("Reply with its number.", ["Say or press its number."]),
    ("Reply with the number of the one you would like, or call 111.",
     ["Say or press the number of the one you would like, or call 111."]),
    ("Please reply with the first name or initials of the person you're messaging about.",
     ["Please say the first name of the person you're calling about."]),
    ("Reply 1.", ["Say or press 1."]),
    ("Reply 1, 2 or 3.", ["Say or press 1, 2 or 3."]),
    ("Reply 1 or 2.", ["Say or press 1 or 2."]),
    ("Reply A or B, or put it another way.", ["Say A or B, or put it another way."]),
    ("Reply STOP to stop messages.", []),
    ("Thanks. Reply STOP to opt out. Bye.", ["Thanks.", "Bye."]),
    ("To start again, reply START.", []),
    ("Text STOP to 60060.", []),
    ("Please reply to this message to continue.", ["Please tell me if you'd like to continue."]),
    ("If you can't come, reply to this message and tell us, or call 111.",
     ["If you can't come, tell me, or call 111."]),
    ("Reply to this message.", ["Tell me."]),
    ("Reply to talk to our assistant, or call 111.", ["Talk to our assistant, or call 111."]),
    ("Please send the date of birth again.", ["Please say the date of birth again."]),
    ("Hello, you're messaging Northshire NHS Trust.",
     ["Hello, you're speaking to Northshire NHS Trust."]),
    ("I'll reply soon.", ["I'll reply soon."]),
    ("Please wait for a reply before sending more.",
     ["Please wait for a reply before sending more."]),
])
def test_texting_imperatives(text, expected):
    assert spoken(text) == expected


@pytest.mark.parametrize("text", [
    "Your appointment stays as it is.",
    "I can't give medical advice here.",
    "Blue Badge holders can park free at all our hospitals.",
    "Would you like me to find you a new date now?",
])
def test_anything_else_is_spoken_verbatim(text):
    assert spoken(text) == [text]
