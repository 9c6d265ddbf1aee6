"""The assistant's replies, written for SMS, turned into short sentences for the ear.

Twilio <Say> reads text literally: a URL is spelled out, an emoji is read by name or skipped,
"Reply YES" makes no sense on a call and "0161 496 0000" comes out as large numbers. Each rule
here fixes one such thing; anything no rule touches is spoken as written.
"""

from __future__ import annotations

import re
import unicodedata

WEEKDAYS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "oct": "October",
    "nov": "November", "dec": "December",
}
_DAY = (r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?"
        r"|Sun(?:day)?)")
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_CLOCK = r"\d{1,2}(?::\d\d)?(?:am|pm)"
# "Tue 16 Jan", "Tue 16 Jan 2024", "Tue 16 Jan, 2:30pm": the house style of api/texts.py.
WHEN = re.compile(
    rf"\b(?P<weekday>{_DAY}) (?P<day>\d{{1,2}}) (?P<month>{_MONTH})\b(?: (?P<year>\d{{4}})\b)?"
    rf"(?:,? (?P<time>{_CLOCK})\b)?"
)
SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")

# URLs, www. addresses and bare domains ("111.nhs.uk"), with a leading "at" or "on" if any.
_ADDRESS = (r"(?:https?://\S*[^\s.,;:!?)]|www\.\S*[^\s.,;:!?)]"
            r"|\b[\w-]+(?:\.[\w-]+)*\.(?:uk|com|org|net|gov|info|io)\b(?:/\S*[^\s.,;:!?)])?)")
URL = re.compile(rf"(?:\s*\b(?:at|on|via|from)\b)?\s*{_ADDRESS}", re.IGNORECASE)
# "or visit nhs.uk for more": the whole clause goes, not just the address.
VISIT_URL = re.compile(rf"(?:,?\s*\b(?:or|and)\b)?\s*\b(?:visit|see|go to|check|look at|open)"
                       rf"\s+{_ADDRESS}(?:\s+for\s+[^,.;:!?]*)?", re.IGNORECASE)
MIN_WORDS_AFTER_URL = 2  # "Details at nhs.uk." leaves "Details.": nothing worth saying
# UK numbers spelled with a leading 0 (10 or 11 digits, optional spaces); never 111 or 999.
PHONE = re.compile(r"(?<![\d+])0\d{2,4}(?:[ -]?\d{3,4}){1,2}(?![\d])|(?<![\d+])0\d{9,10}(?!\d)")
# "+44 161 496 0000", "+44 (0)7700 900123": read as a UK caller would dial it, from 0.
INTERNATIONAL = re.compile(r"\+44\s?(?:\(0\)\s?)?(?=[1-9])")
# Samaritans: a six-digit number nobody reads as "one hundred and sixteen".
SAMARITANS = re.compile(r"\b116 123\b")
DECORATIVE = set("*#~|_•·►▶✓✔✗✘→←↑↓★☆")

# (pattern, replacement): texting instructions as speaking ones, tried in order. The first
# letter of a replacement follows the case of what it replaced, so sentences stay sensible.
IMPERATIVES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement) for pattern, replacement in (
        (r"\breply yes\b(?=\s+\w)", "say yes, or press 1,"),
        (r"\breply yes\b", "say yes, or press 1"),
        (r"\breply no\b(?=\s+\w)", "say no, or press 2,"),
        (r"\breply no\b", "say no, or press 2"),
        (r"\breply with (its|the) number\b", r"say or press \1 number"),
        (r"\breply with the first name or initials\b", "say the first name"),
        (r"\breply with\b", "say"),
        (r"\breply ((?:\d+, )*\d+(?: or \d+)?)\b", r"say or press \1"),
        (r"\breply ([A-Z]) or ([A-Z])\b", r"say \1 or \2"),
        (r"\breply to this message and tell us\b", "tell me"),
        (r"\breply to this message to\b", "tell me if you'd like to"),
        (r"\breply to this message\b", "tell me"),
        (r"\breply to talk to\b", "talk to"),
        (r"\bsend the (date of birth|first name)\b", r"say the \1"),
        (r"\byou're messaging about\b", "you're calling about"),
        (r"\byou're messaging\b", "you're speaking to"),
        (r"\bjust message us here\b", "just call us"),
        (r"\bjust message here\b", "just call"),
    )
)
# Sentences about SMS keywords: meaningless on a call, so dropped whole.
DROPPED = re.compile(r"\b(?:reply|text|send) (?:stop|start)\b", re.IGNORECASE)
ABBREVIATIONS = ((re.compile(r"\be\.g\.", re.IGNORECASE), "for example"),
                 (re.compile(r"\bi\.e\.", re.IGNORECASE), "that is"),
                 (re.compile(r"\betc\."), "and so on."),
                 (re.compile(r"\bA&E\b"), "A and E"),
                 (re.compile(r"\s*&\s*"), " and "))


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st..."""
    if 11 <= number % 100 <= 13:
        return f"{number}th"
    return f"{number}{({1: 'st', 2: 'nd', 3: 'rd'}).get(number % 10, 'th')}"


def _spoken_when(match: re.Match[str]) -> str:
    weekday = WEEKDAYS[match["weekday"][:3].lower()]
    month = MONTHS[match["month"][:3].lower()]
    words = f"{weekday} the {ordinal(int(match['day']))} of {month}"
    if match["year"]:
        words += f" {match['year']}"
    if match["time"]:
        words += f" at {match['time']}"
    return words


def speak_when(text: str) -> str:
    """"Tue 16 Jan, 2:30pm" read as "Tuesday the 16th of January at 2:30pm", in any text."""
    return WHEN.sub(_spoken_when, text)


def _spoken_slash_date(match: re.Match[str]) -> str:
    day, month, year = int(match[1]), int(match[2]), match[3]
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match[0]
    return f"the {ordinal(day)} of {list(MONTHS.values())[month - 1]} {year}"


def _digit_groups(number: str) -> list[str]:
    """A number's groups as written, or the usual UK grouping when written without spaces."""
    groups = number.replace("-", " ").split()
    if len(groups) > 1:
        return groups
    if number.startswith("07") and len(number) == 11:
        sizes = (5, 6)
    elif number.startswith("02") and len(number) == 11:
        sizes = (3, 4, 4)
    else:
        sizes = (4, 3, 4) if len(number) == 11 else (4, 3, 3)
    out, start = [], 0
    for size in sizes:
        out.append(number[start:start + size])
        start += size
    return out


def _spoken_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0])
    if len(digits) not in (10, 11):
        return match[0]
    return ", ".join(" ".join(group) for group in _digit_groups(match[0]))


def options_prompt(count: int) -> str:
    """"Say or press 1, 2 or 3.": how to choose among `count` options."""
    if count <= 1:
        return "Say or press 1."
    numbers = ", ".join(str(i) for i in range(1, count)) + f" or {count}"
    return f"Say or press {numbers}."


def _without_symbols(text: str) -> str:
    kept = []
    for char in text:
        if char in DECORATIVE or unicodedata.category(char) in ("So", "Sk", "Co", "Cn", "Cs"):
            continue
        if char in "\u200d\ufe0f\ufe0e":
            continue
        kept.append({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                     "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " "}.get(char, char))
    return "".join(kept)


def _same_case(replacement: str, original: str) -> str:
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _replace_keeping_case(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    return pattern.sub(lambda m: _same_case(m.expand(replacement), m[0]), text)


def _line(line: str) -> str:
    """One line of the SMS without its bullet, with abbreviations said in full."""
    line = line.strip()
    line = re.sub(r"^(?:[-*•·]+|\d{1,2}[.)])\s+", "", line)  # read aloud, a bullet is noise
    line = re.sub(r"^([A-Z])\)\s+", r"\1: ", line)  # "A) first" of the did-you-mean lists
    for pattern, replacement in ABBREVIATIONS:
        line = pattern.sub(replacement, line)
    return line


def _tidy(sentence: str) -> str:
    """Quotes and brackets that would be read oddly removed, punctuation made tidy."""
    sentence = sentence.replace('"', "")
    sentence = re.sub(r"(?<!\w)'([^']+?)'(?!\w)", r"\1", sentence)
    sentence = re.sub(r"\s*\(([^()]*)\)", r", \1,", sentence)
    sentence = re.sub(r"[()\[\]{}<>]", "", sentence)
    sentence = re.sub(r"\s+", " ", sentence).strip()
    sentence = re.sub(r"\s+([,.?!:])", r"\1", sentence)
    sentence = re.sub(r",\s*([,.?!:])", r"\1", sentence)
    sentence = re.sub(r"^[\s,.:;-]+", "", sentence)
    sentence = re.sub(r"[,;-]+$", "", sentence).strip()
    if sentence and sentence[-1] not in ".?!:":
        sentence += "."
    return sentence[:1].upper() + sentence[1:]


def _spoken_sentence(sentence: str) -> str:
    """One sentence with every rule for the ear applied ("" when it should not be said)."""
    if DROPPED.search(sentence):
        return ""
    without_url = URL.sub("", VISIT_URL.sub("", sentence))
    if without_url != sentence and len(re.findall(r"\w+", without_url)) < MIN_WORDS_AFTER_URL:
        return ""
    sentence = without_url
    sentence = re.sub(rf"\b({_DAY})-({_DAY})\b(\s+(?=\d))?",
                      lambda m: f"{WEEKDAYS[m[1][:3].lower()]} to {WEEKDAYS[m[2][:3].lower()]}"
                      + (", " if m[3] else ""), sentence)
    sentence = re.sub(rf"\b({_CLOCK})\s*-\s*({_CLOCK})\b", r"\1 to \2", sentence)
    sentence = speak_when(sentence)
    sentence = SLASH_DATE.sub(_spoken_slash_date, sentence)
    sentence = PHONE.sub(_spoken_phone, INTERNATIONAL.sub("0", sentence))
    sentence = SAMARITANS.sub("1 1 6, 1 2 3", sentence)
    for pattern, replacement in IMPERATIVES:
        sentence = _replace_keeping_case(pattern, replacement, sentence)
    sentence = _tidy(sentence)
    return sentence if re.search(r"\w", sentence) else ""


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in _without_symbols(text).splitlines():
        for sentence in re.split(r"(?<=[.?!])\s+", _line(line)):
            for part in sentence.split("; "):
                spoken_part = _spoken_sentence(part)
                if spoken_part:
                    out.append(spoken_part)
    return out


def _option(number: int, title: str) -> str:
    """"Option 1: Tuesday the 16th of January at 2:30pm, at Royal Northshire Infirmary"."""
    title = _without_symbols(title).strip()
    match = WHEN.match(title)
    if match:
        rest = title[match.end():].lstrip(", ").strip()
        title = _spoken_when(match) + (f", at {rest}" if rest else "")
    body = " ".join(_spoken_sentence(s) for s in re.split(r"(?<=[.?!])\s+", _line(title)))
    return f"Option {number}: {body.strip()}" if body.strip() else f"Option {number}."


def spoken(text: str, buttons: list[dict] | None = None) -> list[str]:
    """The reply as short sentences for <Say>, then the options and how to choose one."""
    sentences = _sentences(text or "")
    if buttons:
        sentences += [_option(i, b.get("title", "")) for i, b in enumerate(buttons, start=1)]
        sentences.append(options_prompt(len(buttons)))
    return sentences
