"""What a caller said or keyed, read deterministically (no model): commands, choices, yes/no,
dates and digits.

Twilio's transcripts vary in case and end with full stops ("Repeat.", "Agent."), so everything
is read from a normalised form. Each reader is conservative: when in doubt it answers None and
the call flow asks again, which is cheaper than acting on a misheard word.
"""

from __future__ import annotations

import enum
import re
from datetime import date

OLDEST_AGE_YEARS = 120  # as api.conversations.identity.parse_dob


class Command(enum.StrEnum):
    REPEAT = "repeat"
    AGENT = "agent"
    TEXT_ME = "text_me"


# Whole requests, after politeness is trimmed (see _core): matching only whole requests keeps
# "my appointment is in person?" from being heard as asking for a person.
REPEAT_PHRASES = frozenset({
    "repeat", "repeat that", "repeat it", "repeat that again", "repeat the options",
    "say that again", "say it again", "pardon", "pardon me", "what was that", "come again",
    "repeat that please", "i didn't catch that", "i didn't hear that", "say again",
})
_PEOPLE = ("a person", "someone", "somebody", "a human", "a real person", "a member of staff",
           "reception", "the reception", "a receptionist", "the receptionist", "receptionist",
           "an agent", "an operator", "a real human", "a human being", "staff")
AGENT_PHRASES = frozenset(
    {"agent", "operator", "an agent", "an operator", "human", "a human", "real person",
     "a real person", "receptionist", "reception", "put me through",
     "put me through to someone", "put me through to reception"}
    | {f"{verb} {who}" for verb in ("speak to", "talk to", "speak with", "talk with")
       for who in _PEOPLE}
)
TEXT_ME_PHRASES = frozenset({
    "text me", "text me the options", "text me them", "text them to me", "text it to me",
    "send me a text", "send me a message", "send them by text", "send it by text",
    "send them by text message", "send me the options", "send me the options by text",
    "message me", "send it to my phone", "send them to my phone", "send a text",
    "just text me", "text", "by text",
})
# Trimmed from the start of a request, repeatedly ("um can you please ..."): politeness,
# hesitation and the openings of a request, never a word that changes its meaning.
_OPENINGS = ("um", "uh", "erm", "er", "hmm", "oh", "ok", "okay", "yes", "no", "sorry", "hi",
             "hello", "please", "just", "actually", "can you", "could you", "would you",
             "will you", "can i", "could i", "may i", "i want to", "i'd like to", "i would like to",
             "i need to", "i wanna", "let me", "i want", "i'd like", "i would like", "i need",
             "i'll", "then")
_CLOSINGS = ("please", "thanks", "thank you", "thank you very much", "instead", "now", "then",
             "for me", "if you can", "if possible")
_NEGATION = re.compile(r"\b(?:don't|dont|do not|didn't|not|no need|never|without|won't)\b")


def _normal(speech: str) -> str:
    """Lower case, straight apostrophes, punctuation gone (apostrophes kept), single spaces."""
    text = (speech or "").lower().replace("\u2019", "'").replace("-", " ")
    text = re.sub(r"[^\w\s']", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _trim(text: str, words: tuple[str, ...], *, start: bool) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in sorted(words, key=len, reverse=True):
            if start and (text == word or text.startswith(word + " ")):
                text, changed = text[len(word):].strip(), True
            elif not start and (text == word or text.endswith(" " + word)):
                text, changed = text[:len(text) - len(word)].strip(), True
    return text


def _core(speech: str) -> str:
    return _trim(_trim(_normal(speech), _OPENINGS, start=True), _CLOSINGS, start=False)


def command(speech: str) -> Command | None:
    """REPEAT, AGENT or TEXT_ME when the caller asked for one in so many words; else None."""
    text = _normal(speech)
    if not text or _NEGATION.search(text):
        return None
    core = _core(speech)
    for wanted, phrases in ((Command.REPEAT, REPEAT_PHRASES), (Command.AGENT, AGENT_PHRASES),
                            (Command.TEXT_ME, TEXT_ME_PHRASES)):
        if core in phrases:
            return wanted
    return None


UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
         "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
            "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
            "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
            "thirtieth": 30}
_MONTH_WORDS = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december", "jan", "feb", "mar", "apr",
                "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
# A number that is a time or a date, not a choice: "2pm", "2 o'clock", "at 2", "2nd of March".
_TIME_OR_DATE = re.compile(
    r"\d\s*(?:am|pm|a m|p m)\b|\d:\d|\bo'?clock\b|\bhalf past\b|\bquarter (?:past|to)\b"
    r"|\b(?:am|pm|morning|afternoon|evening)\b|\bat (?:\d|" + "|".join(UNITS) + "|"
    + "|".join(TEENS) + r")\b|\b(?:" + "|".join(_MONTH_WORDS) + r")\b"
)


def option_number(speech: str, count: int) -> int | None:
    """The option (1..count) the caller chose by number or position; None when unclear."""
    text = _normal(speech)
    if not text or count < 1 or _TIME_OR_DATE.search(text):
        return None
    # "the second one", "that one", "the tuesday one": after a word "one" names the option,
    # not number 1; only "option one", "number one" (or "one" on its own) choose the first.
    text = re.sub(r"\b(?!(?:number|option|choice|press|take|choose|pick|want|like)\b)"
                  r"([a-z0-9']+) ones?\b", r"\1", text)
    found: set[int] = set()
    for token in text.split():
        if match := re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", token):
            found.add(int(match[1]))
        elif token in ORDINALS or token == "last":
            found.add(ORDINALS.get(token, count))
        elif token in UNITS or token in TEENS or token in TENS:
            found.add({**UNITS, **TEENS, **TENS}[token])
    if len(found) != 1:
        return None
    number = found.pop()
    return number if 1 <= number <= count else None


WEEKDAYS = {"monday": "Mon", "tuesday": "Tue", "wednesday": "Wed", "thursday": "Thu",
            "friday": "Fri", "saturday": "Sat", "sunday": "Sun"}


def option_by_weekday(speech: str, titles: list[str]) -> int | None:
    """"The Tuesday one": the option (1-based) on the one weekday named, if only one is."""
    named = [short for day, short in WEEKDAYS.items() if re.search(rf"\b{day}\b",
                                                                   _normal(speech))]
    if len(named) != 1:
        return None
    matching = [number for number, title in enumerate(titles, 1) if title.startswith(named[0])]
    return matching[0] if len(matching) == 1 else None


YES_PHRASES = frozenset({
    "yes", "yeah", "yep", "yup", "yes please", "that's right", "that is right", "correct",
    "that's correct", "that is correct", "right", "ok", "okay", "book it", "go ahead",
    "sure", "yes it is", "please do", "absolutely", "definitely", "that's fine", "fine",
    "alright", "all right", "do it", "go on", "yes i do", "i do", "it is", "please",
    "that's it", "of course", "aye", "yes that's right", "ok book it", "go for it",
})
NO_PHRASES = frozenset({
    "no", "nope", "no thanks", "no thank you", "that's wrong", "that is wrong", "not right",
    "that's not right", "that isn't right", "incorrect", "that's incorrect", "wrong", "nah",
    "no it isn't", "no it's not", "it isn't", "it's not", "not really", "no way",
    "no i don't", "i don't", "not at all", "don't", "please don't",
})
_FILLER = frozenset({"um", "uh", "erm", "er", "oh", "well", "thanks", "thank you", "so"})


def yes_no(speech: str) -> bool | None:
    """True for a plain yes, False for a plain no, None for anything else ("yes but...")."""
    text = _normal(speech)
    answers: set[bool] = set()
    phrases = sorted(YES_PHRASES | NO_PHRASES | _FILLER, key=len, reverse=True)
    while text:
        phrase = next((p for p in phrases if text == p or text.startswith(p + " ")), None)
        if phrase is None:
            return None  # something else was said too: not a plain answer
        if phrase not in _FILLER:
            answers.add(phrase in YES_PHRASES)
        text = text[len(phrase):].strip()
    return answers.pop() if len(answers) == 1 else None


def keyed_date(digits: str, *, today: date) -> date | None:
    """DDMMYYYY from the keypad as a real, past date at most 120 years ago; else None."""
    if not re.fullmatch(r"\d{8}", digits or ""):
        return None
    try:
        keyed = date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None
    if keyed > today or keyed.year < today.year - OLDEST_AGE_YEARS:
        return None
    return keyed


_DIGIT_WORDS = {**UNITS, "nought": 0, "naught": 0, "nil": 0}
_REPEATS = {"double": 2, "triple": 3, "treble": 3}


def _digit_like(token: str) -> bool:
    return token.isdigit() or token in _DIGIT_WORDS or token in _REPEATS or token in ("oh", "o")


def spoken_digits(speech: str) -> str:
    """The digits said ("four eight five", "double seven", "oh" among digits); "" if none."""
    tokens = _normal(speech).split()
    out: list[str] = []
    repeat = 1
    for i, token in enumerate(tokens):
        if token in _REPEATS:
            repeat = _REPEATS[token]
            continue
        if token.isdigit():
            digits = token
        elif token in _DIGIT_WORDS:
            digits = str(_DIGIT_WORDS[token])
        elif token in ("oh", "o") and any(
                _digit_like(tokens[j]) for j in (i - 1, i + 1) if 0 <= j < len(tokens)):
            digits = "0"
        else:
            repeat = 1
            continue
        out.append(digits[0] * repeat + digits[1:])
        repeat = 1
    return "".join(out)


_DAY_ORDINALS = {**ORDINALS, **{f"{tens} {word}": value + ORDINALS[word]
                                for tens, value in (("twenty", 20), ("thirty", 30))
                                for word in ("first", "second", "third", "fourth", "fifth",
                                             "sixth", "seventh", "eighth", "ninth")
                                if value + ORDINALS[word] <= 31}}
_UNIT = "|".join(UNITS)
_TEEN = "|".join(TEENS)
_TEN = "|".join(TENS)
_TWO_DIGITS = rf"(?:(?:{_TEN})(?: (?:{_UNIT}))?|{_TEEN}|(?:oh|o|nought|zero) (?:{_UNIT}))"
_YEAR = re.compile(
    rf"\b(?:(?P<century>nineteen|eighteen|twenty) (?P<rest>hundred|{_TWO_DIGITS})"
    rf"|two thousand(?: and)?(?: (?P<after>{_TWO_DIGITS}|{_UNIT}))?)\b", re.IGNORECASE
)


def _two_digits(words: str) -> int:
    """"fifty eight" 58, "oh five" 5, "twelve" 12, "seven" 7."""
    total = 0
    for word in words.lower().split():
        total += {**UNITS, **TEENS, **TENS}.get(word, 0)
    return total


def _year(match: re.Match[str]) -> str:
    if match["century"]:
        century = {"eighteen": 18, "nineteen": 19, "twenty": 20}[match["century"].lower()]
        rest = 0 if match["rest"].lower() == "hundred" else _two_digits(match["rest"])
        return str(century * 100 + rest)
    return str(2000 + (_two_digits(match["after"]) if match["after"] else 0))


def spoken_date_text(speech: str) -> str:
    """A spoken date of birth in words ("the third of July nineteen fifty eight") put in
    figures dateparser reads day first ("3 July 1958"); text already in figures is kept."""
    text = re.sub(r"\s+", " ", (speech or "").replace("-", " ")).strip().rstrip(".!?,").strip()
    if not re.search(rf"\b(?:{_UNIT}|{_TEEN}|{_TEN}|{'|'.join(ORDINALS)}|oh|nought|"
                     r"thousand)\b", text, re.IGNORECASE):
        return text
    text = _YEAR.sub(_year, text)
    for words in sorted(_DAY_ORDINALS, key=len, reverse=True):
        text = re.sub(rf"\b(?:the )?{words}(?: of)?\b", str(_DAY_ORDINALS[words]), text,
                      flags=re.IGNORECASE)
    # What is left in words is a day, month or two-digit year: "oh three" is "03".
    text = re.sub(rf"\b(?:oh|o|nought|zero) ({_UNIT})\b", lambda m: f"0{UNITS[m[1].lower()]}",
                  text, flags=re.IGNORECASE)
    text = re.sub(_TWO_DIGITS.replace("(?:oh|o|nought|zero) (?:" + _UNIT + ")", "(?!)"),
                  lambda m: str(_two_digits(m[0])), text, flags=re.IGNORECASE)
    text = re.sub(rf"\b(?:{_UNIT})\b", lambda m: str(UNITS[m[0].lower()]), text,
                  flags=re.IGNORECASE)
    text = re.sub(r"\bthe (?=\d)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<=\d) of\b", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()
