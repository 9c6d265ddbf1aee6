"""What a caller said or keyed, read deterministically (api/voice/understanding.py)."""

from __future__ import annotations

from datetime import date

import pytest

from api.conversations.identity import parse_dob
from api.voice.understanding import (
    Command,
    command,
    keyed_date,
    option_by_weekday,
    option_number,
    spoken_date_text,
    spoken_digits,
    yes_no,
)

TODAY = date(2026, 11, 30)


# --- commands ----------------------------------------------------------------------------

@pytest.mark.parametrize("speech", [
    "repeat", "Repeat.", "REPEAT", "repeat that", "Repeat that please.", "say that again",
    "Say that again.", "pardon", "Pardon?", "sorry what was that", "Sorry, what was that?",
    "can you say that again", "Can you say that again please?", "come again",
    "could you repeat that", "um repeat", "say it again",
])
def test_repeat(speech):
    assert command(speech) is Command.REPEAT


@pytest.mark.parametrize("speech", [
    "agent", "Agent.", "operator", "Operator.", "speak to a person", "Speak to someone.",
    "speak to somebody", "speak to a human", "I want to speak to a real person",
    "can I speak to a member of staff please", "speak to reception", "Speak to the receptionist.",
    "talk to someone", "Talk to someone please.", "put me through", "Put me through to someone.",
    "I'd like to talk to a person", "could I speak with someone", "a real person",
    "No, I want to speak to someone.",
])
def test_agent(speech):
    assert command(speech) is Command.AGENT


@pytest.mark.parametrize("speech", [
    "text me", "Text me.", "text me the options", "send me a text", "Send me a text please.",
    "can you send them by text", "Can you send them by text?", "message me instead",
    "send it to my phone", "Could you text me instead?", "just text me",
])
def test_text_me(speech):
    assert command(speech) is Command.TEXT_ME


@pytest.mark.parametrize("speech", [
    # negations
    "don't text me", "Don't text me.", "please don't text me", "no need to repeat",
    "No need to repeat that.", "I don't want an agent", "I do not want to speak to someone",
    "you don't need to put me through", "never text me",
    # merely mentioning a word
    "my appointment is in person?", "Is it in person?", "person", "the person is my mother",
    "I got a text", "I got your text message about my appointment", "someone rang me",
    "the receptionist told me to call", "will it repeat every week", "my agent is away",
    "I spoke to someone last week and they said it was moved",
    # other answers
    "", "   ", "yes", "no", "2", "the third of July 1958", "sorry", "hello",
])
def test_not_a_command(speech):
    assert command(speech) is None


def test_command_values_are_strings():
    assert Command.REPEAT == "repeat" and Command.AGENT == "agent"
    assert Command.TEXT_ME == "text_me"


# --- choosing an option -------------------------------------------------------------------

@pytest.mark.parametrize(("speech", "expected"), [
    ("2", 2), ("two", 2), ("2.", 2), ("Two.", 2), ("number two", 2), ("Number 2.", 2),
    ("option 2", 2), ("Option two please.", 2), ("the second one", 2), ("second", 2),
    ("2nd one please", 2), ("I'll take the first", 1), ("The first one.", 1), ("one", 1),
    ("One.", 1), ("number one please", 1), ("the last one", 3), ("last", 3),
    ("three please", 3), ("Three.", 3), ("the third", 3), ("3rd", 3), ("yes the second", 2),
    ("two two", 2), ("um two", 2),
])
def test_option_number(speech, expected):
    assert option_number(speech, 3) == expected


@pytest.mark.parametrize("speech", [
    "", "that one", "the one", "yes", "no", "repeat",
    "two or three", "one or two", "the first or the second", "2 3",
    "four", "4", "the fourth", "0", "zero", "ten",
    "the 2nd of March", "the second of March", "2 o'clock", "two o'clock", "2pm", "2 p.m.",
    "the one at 2", "the one at two", "the morning one", "2:30", "two thirty",
    "the one in March", "half past two",
])
def test_not_an_option(speech):
    assert option_number(speech, 3) is None


def test_last_follows_the_count_and_one_option_is_fine():
    assert option_number("the last one", 5) == 5
    assert option_number("five", 5) == 5
    assert option_number("1", 1) == 1
    assert option_number("2", 1) is None
    assert option_number("1", 0) is None


# --- yes or no -----------------------------------------------------------------------------

@pytest.mark.parametrize("speech", [
    "yes", "Yes.", "YES", "yeah", "Yeah.", "yep", "yes please", "Yes please.", "that's right",
    "That's right.", "that\u2019s right", "correct", "Correct.", "right", "ok book it",
    "OK, book it.", "go ahead", "Go ahead.", "yes that's right", "Yes, that's correct.",
    "yes yes", "um yes", "yes thank you", "okay",
])
def test_yes(speech):
    assert yes_no(speech) is True


@pytest.mark.parametrize("speech", [
    "no", "No.", "NO", "nope", "Nope.", "no thanks", "No thank you.", "that's wrong",
    "That's wrong.", "not right", "incorrect", "Incorrect.", "no that's wrong", "no no",
    "that's not right", "um no",
])
def test_no(speech):
    assert yes_no(speech) is False


@pytest.mark.parametrize("speech", [
    "", "   ", "yes but not mornings", "Yes, but not mornings.", "no but I can do Friday",
    "yes no", "no yes", "maybe", "I don't know", "repeat", "2", "yes I need to speak to someone",
    "the third of July", "right no", "yes, can you text me",
])
def test_neither(speech):
    assert yes_no(speech) is None


# --- a date keyed on the keypad ---------------------------------------------------------------

@pytest.mark.parametrize(("digits", "expected"), [
    ("03071958", date(1958, 7, 3)),
    ("14031962", date(1962, 3, 14)),
    ("29022000", date(2000, 2, 29)),
    ("30112026", TODAY),
    ("01011906", date(1906, 1, 1)),
])
def test_keyed_date(digits, expected):
    assert keyed_date(digits, today=TODAY) == expected


@pytest.mark.parametrize("digits", [
    "31022000", "29021999", "00011990", "01001990", "32011990", "01131990",  # not real dates
    "0307195", "030719588", "", "3/7/1958", "0307 1958", "O3071958", "0307195a",
    "01122026", "01012030",  # in the future
    "31121905", "01011800",  # more than 120 years ago
])
def test_not_a_keyed_date(digits):
    assert keyed_date(digits, today=TODAY) is None


# --- digits said aloud -----------------------------------------------------------------------

@pytest.mark.parametrize(("speech", "expected"), [
    ("485 777 3456", "4857773456"),
    ("4857773456", "4857773456"),
    ("four eight five seven seven seven three four five six", "4857773456"),
    ("Four, eight, five.", "485"),
    ("four eight five double seven", "48577"),
    ("double seven", "77"),
    ("double 7", "77"),
    ("triple 3", "333"),
    ("treble three", "333"),
    ("oh one six one", "0161"),
    ("one oh one", "101"),
    ("nought one", "01"),
    ("zero seven seven", "077"),
    ("it's 485 777 3456", "4857773456"),
    ("my number is four eight five", "485"),
    ("um, 485, er, 777", "485777"),
    ("485-777-3456", "4857773456"),
    ("", ""),
    ("hello", ""),
    ("oh", ""),
    ("oh I don't know", ""),
    ("double", ""),
])
def test_spoken_digits(speech, expected):
    assert spoken_digits(speech) == expected


# --- a date of birth said aloud ---------------------------------------------------------------

@pytest.mark.parametrize(("speech", "expected"), [
    ("3rd of July 1958.", "3rd of July 1958"),
    ("the third of July nineteen fifty eight", "3 July 1958"),
    ("July the 3rd 1958", "July the 3rd 1958"),
    ("oh three oh seven fifty eight", "03 07 58"),
    ("14/03/1962", "14/03/1962"),
    ("the twenty first of March two thousand and five", "21 March 2005"),
    ("Thirty-first December nineteen ninety-nine.", "31 December 1999"),
    ("the second of February two thousand", "2 February 2000"),
    ("fifth of November nineteen oh five", "5 November 1905"),
    ("twelfth of May nineteen hundred", "12 May 1900"),
    ("first of June twenty ten", "1 June 2010"),
])
def test_spoken_date_text(speech, expected):
    assert spoken_date_text(speech) == expected


@pytest.mark.parametrize(("speech", "expected"), [
    ("3rd of July 1958.", date(1958, 7, 3)),
    ("The 3rd of July 1958.", date(1958, 7, 3)),
    ("the third of July nineteen fifty eight", date(1958, 7, 3)),
    ("The third of July, nineteen fifty-eight.", date(1958, 7, 3)),
    ("July the 3rd 1958", date(1958, 7, 3)),
    ("July third nineteen fifty eight", date(1958, 7, 3)),
    ("oh three oh seven fifty eight", date(1958, 7, 3)),
    ("3 7 1958", date(1958, 7, 3)),
    ("14th March 1962.", date(1962, 3, 14)),
    ("fourteenth of March nineteen sixty two", date(1962, 3, 14)),
    ("the twenty first of March two thousand and five", date(2005, 3, 21)),
    ("twenty-first March two thousand five", date(2005, 3, 21)),
    ("Thirty first December nineteen ninety nine.", date(1999, 12, 31)),
    ("the second of February two thousand", date(2000, 2, 2)),
    ("fifth of November nineteen fifteen", date(1915, 11, 5)),
    ("It's the first of May nineteen seventy two.", date(1972, 5, 1)),
    ("twelfth of the twelfth nineteen eighty", date(1980, 12, 12)),
    ("first of June twenty ten", date(2010, 6, 1)),
])
def test_spoken_dates_of_birth_parse(speech, expected):
    assert parse_dob(spoken_date_text(speech), today=TODAY) == expected


@pytest.mark.parametrize("speech", [
    "", "I don't know", "July", "the third of July", "fifth of November nineteen oh five",
])
def test_spoken_dates_of_birth_that_are_not(speech):
    assert parse_dob(spoken_date_text(speech), today=TODAY) is None


@pytest.mark.parametrize("speech", ["the Tuesday one", "the earliest one", "that one please",
                                    "the one at the infirmary"])
def test_one_after_a_word_is_not_the_first_option(speech):
    assert option_number(speech, 3) is None


@pytest.mark.parametrize(("speech", "expected"), [
    ("the tuesday one please", 2), ("Wednesday.", 3), ("monday or tuesday", None),
    ("friday", None), ("the second", None),
])
def test_an_option_chosen_by_its_weekday(speech, expected):
    titles = ["Mon 15 Jan, 9am, Royal Testshire Infirmary", "Tue 16 Jan, 2:30pm, Millbrook",
              "Wed 17 Jan, 10am, Royal Testshire Infirmary"]
    assert option_by_weekday(speech, titles) == expected


def test_two_options_on_the_weekday_named_are_not_guessed():
    assert option_by_weekday("tuesday", ["Tue 16 Jan, 9am, A", "Tue 23 Jan, 9am, B"]) is None
