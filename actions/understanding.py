"""Reading what a patient meant about dates: which offer they picked, what would suit them.

The NLU model finds the pieces (entities: offer_number, weekday, time_of_day, date,
location_pref); dates inside them are resolved by dateparser in Europe/London. What is left
here is this product's own logic: whether a day is wanted or ruled out ("not mondays"),
whether a date is a start or an end ("after the 20th"), and which offer fits a description.
No rasa_sdk here: these are plain functions, tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateparser.date import DateDataParser
from dateutil.easter import easter

from actions.wording import WEEKDAYS

TIMES_OF_DAY = ("morning", "afternoon", "evening")
# The other half of the day, for "not mornings".
OPPOSITE_TIME = {"morning": "afternoon", "afternoon": "morning", "evening": "morning"}
# Words before a day or time that rule it out: "not mondays", "i work tuesdays".
NEGATIONS = {"not", "no", "cant", "can't", "cannot", "except", "but", "apart", "avoid", "work",
             "working", "busy", "never", "nothing", "any", "away", "without"}
# Words before a date that make it the earliest or latest acceptable date.
AFTER_WORDS = {"after", "beyond", "past"}
FROM_WORDS = {"from", "starting", "commencing"}
BEFORE_WORDS = {"before", "by", "until", "till", "til", "untill"}
AWAY_WORDS = {"away", "holiday", "holidays", "abroad", "busy", "working", "not", "nothing"}
CLOSER_WORDS = ("closer", "nearer", "different hospital", "another hospital", "other hospital",
                "somewhere else", "too far", "elsewhere", "local")
LATER_WORDS = ("later", "further ahead", "further away", "too soon", "too early")
# Text-speak folded before dates are read ("2moro" is not in dateparser's vocabulary).
_TEXT_SPEAK = (
    (r"\b2mo+r+o+w*\b|\btmr+w?\b|\btomoz\b|\b2morrow\b", "tomorrow"),
    (r"\b2day\b", "today"),
    (r"\bnxt\b", "next"),
    (r"\bwk\b", "week"),
)
_WEEKDAY_PREFIXES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def weekday_of(word: str, *, weekend: bool = True) -> int | None:
    """0-6 for "monday", "tues", "weds", "thurs", "fridays"... (None for anything else)."""
    word = word.lower().strip("'")
    if word.endswith(("'s", "s")) and len(word) > 4:
        word = word.removesuffix("'s").removesuffix("s")
    for index, name in enumerate(WEEKDAYS):
        if word == name or (3 <= len(word) <= 5 and name.startswith(word)) or (
                word == "weds" and index == 2):
            return index if weekend or index < 5 else None
    return None


def time_of_day_of(word: str) -> str | None:
    word = word.lower()
    for name in TIMES_OF_DAY:
        if word.startswith(name):
            return name
    return {"am": "morning", "pm": "afternoon"}.get(word)


def fold_text_speak(text: str) -> str:
    folded = text.lower()
    for pattern, replacement in _TEXT_SPEAK:
        folded = re.sub(pattern, replacement, folded)
    return folded


def _negated(text: str, start: int, window: int = 3) -> bool:
    """True when one of the few words before position `start` rules the thing out."""
    clause = re.split(r"[,.;:!?]", text[:start].lower())[-1]
    return any(word in NEGATIONS for word in _words(clause)[-window:])


# -- picking an offer ------------------------------------------------------------------------


def _parse_time(phrase: str) -> tuple[int, int] | None:
    """(hour, minute) of "2:30", "2.30pm", "9am", "14:00"; clinic hours decide am or pm."""
    match = re.search(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\b", phrase.lower())
    if not match or not (match.group(2) or match.group(3)):
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    if match.group(3) == "pm" and hour < 12:
        hour += 12
    elif match.group(3) is None and 1 <= hour <= 7:
        hour += 12  # nobody is offered 2:30 in the morning
    return hour, minute


def _dateparser(*, today: date) -> DateDataParser:
    base = datetime.combine(today, datetime.min.time()).replace(hour=12)
    return DateDataParser(languages=["en"], settings={
        "DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base,
        "PREFER_DAY_OF_MONTH": "first", "RETURN_TIME_AS_PERIOD": True})


def _day_of_month(phrase: str) -> int | None:
    match = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", phrase.lower())
    if match and not re.search(r"\d[:.]\d|am\b|pm\b", phrase.lower()):
        value = int(match.group(1))
        return value if 1 <= value <= 31 else None
    return None


def resolve_choice(offers: list[dict[str, Any]], *, text: str,
                   entities: dict[str, list[str]]) -> list[int]:
    """Indexes of the offers that fit what the patient said ("2", "the tuesday one"...).

    Empty when nothing in the message picks an offer, or when what it describes is not
    among them; several when the description fits more than one.
    """
    if not offers:
        return []
    numbers = list(entities.get("offer_number") or [])
    if not numbers:
        bare = re.fullmatch(r"\D{0,12}?\b([1-9])\b\D{0,20}", text.strip().lower())
        if bare and not re.search(r"\d\s*(am|pm|st|nd|rd|th)\b", text.lower()):
            numbers = [bare.group(1)]
    for number in numbers:
        if number == "last":
            return [len(offers) - 1]
        if number.isdigit():
            return [int(number) - 1] if 1 <= int(number) <= len(offers) else []
    words = _words(text)
    tests = []
    days = {weekday_of(value) for value in entities.get("weekday") or []}
    days |= {weekday_of(word, weekend=False) for word in words}
    days.discard(None)
    if days:
        tests.append(lambda o: o["weekday"] in days)
    parts = {time_of_day_of(value) for value in entities.get("time_of_day") or []}
    parts |= {time_of_day_of(word) for word in words
              if word.startswith(("morn", "aftern", "even"))}
    parts.discard(None)
    if parts:
        tests.append(lambda o: o["part"] in parts)
    for phrase in (entities.get("date") or []) + [text]:
        clock = _parse_time(phrase)
        if clock:
            tests.append(lambda o, c=clock: (o["hour"], o["minute"]) == c)
            break
        day_number = _day_of_month(phrase)
        if day_number:
            tests.append(lambda o, d=day_number: o["day"] == d)
            break
    named = {w for w in words if len(w) >= 4} - {"hospital", "royal", "centre", "general"}
    if named and any(named & set(_words(o["site_name"])) for o in offers):
        tests.append(lambda o: bool(named & set(_words(o["site_name"]))))
    if not tests:
        return []
    return [i for i, offer in enumerate(offers) if all(test(offer) for test in tests)]


# -- preferences -------------------------------------------------------------------------------


@dataclass
class PreferenceUpdate:
    """What one message said about dates that would suit."""

    time_of_day: str | None = None
    weekdays: set[int] = field(default_factory=set)
    exclude_weekdays: set[int] = field(default_factory=set)
    earliest_date: date | None = None
    latest_date: date | None = None
    closer: bool = False
    later: bool = False


# Holidays patients plan around, as (first day, last day) in a given year; dateparser knows
# none of them. "After Christmas" means after the whole break, so Christmas is 24-26 Dec.
_HOLIDAYS: tuple[tuple[str, Callable[[int], tuple[date, date]]], ...] = (
    (r"christmas eve|xmas eve", lambda y: (date(y, 12, 24), date(y, 12, 24))),
    (r"boxing day", lambda y: (date(y, 12, 26), date(y, 12, 26))),
    (r"christmas|xmas", lambda y: (date(y, 12, 24), date(y, 12, 26))),
    (r"new year'?s? eve", lambda y: (date(y, 12, 31), date(y, 12, 31))),
    (r"new year", lambda y: (date(y, 1, 1), date(y, 1, 1))),
    (r"easter", lambda y: (easter(y) - timedelta(days=2), easter(y) + timedelta(days=1))),
)
HOLIDAY_PATTERN = "|".join(pattern for pattern, _ in _HOLIDAYS)


def _holiday(phrase: str, *, today: date) -> tuple[date, date] | None:
    """The next (or current) occurrence of a holiday named in `phrase`."""
    for pattern, days in _HOLIDAYS:
        if re.search(rf"\b(?:{pattern})\b", phrase.lower()):
            first, last = days(today.year)
            return days(today.year + 1) if last < today else (first, last)
    return None


def _resolve_date(phrase: str, *, today: date) -> tuple[date, date] | None:
    """A date phrase ("the 20th", "next week", "january", "christmas") as (first, last day)."""
    holiday = _holiday(phrase, today=today)
    if holiday is not None:
        return holiday
    data = _dateparser(today=today).get_date_data(fold_text_speak(phrase))
    if data is None or data.date_obj is None:
        return None
    value = data.date_obj.date()
    period = data.period or "day"
    if period == "day" and value < today and not re.search(r"[a-z]{3}", phrase.lower()
                                                           .replace("the", "").replace("th", "")):
        # "the 20th" when the 20th has passed this month: next month's.
        month = value.month % 12 + 1
        year = value.year + (1 if month == 1 else 0)
        try:
            value = value.replace(year=year, month=month)
        except ValueError:
            return None
    if period == "week":
        value = value - timedelta(days=value.weekday())
    if period == "month":
        value = value.replace(day=1)
    return value, _period_end(value, period)


def _period_end(start: date, period: str) -> date:
    if period == "week":
        return start + timedelta(days=6)
    if period == "month":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    if period == "year":
        return start.replace(month=12, day=31)
    return start


def _apply_date(update: PreferenceUpdate, text: str, start: int, phrase: str, *,
                today: date) -> None:
    resolved = _resolve_date(phrase, today=today)
    if resolved is None:
        return
    first, last = resolved
    before = _words(text[:start])[-3:]
    last_word = before[-1] if before else ""
    if last_word in AFTER_WORDS:
        update.earliest_date = last + timedelta(days=1)
    elif last_word in FROM_WORDS or (last_word == "before"
                                     and set(before[:-1]) & {"not", "nothing", "no"}):
        update.earliest_date = first
    elif last_word in BEFORE_WORDS and set(before[:-1]) & AWAY_WORDS:
        update.earliest_date = last + timedelta(days=1)
    elif last_word in BEFORE_WORDS:
        update.latest_date = first - timedelta(days=1) if last_word == "before" else first
    else:
        update.earliest_date, update.latest_date = first, last


def parse_preferences(text: str, *, entities: list[dict[str, Any]], today: date
                      ) -> PreferenceUpdate:
    """Preferences in one message: days wanted or ruled out, time of day, dates, place."""
    update = PreferenceUpdate()
    lowered = text.lower()
    spans = [e for e in entities if e.get("start") is not None]
    for entity in spans:
        value = str(entity.get("value") or "").lower()
        negated = _negated(text, entity["start"])
        if entity.get("entity") == "weekday" and weekday_of(value) is not None:
            (update.exclude_weekdays if negated else update.weekdays).add(weekday_of(value))
        elif entity.get("entity") == "time_of_day" and time_of_day_of(value):
            part = time_of_day_of(value)
            update.time_of_day = OPPOSITE_TIME[part] if negated else part
        elif entity.get("entity") == "date":
            _apply_date(update, text, entity["start"], str(entity.get("value") or ""),
                        today=today)
        elif entity.get("entity") == "location_pref":
            update.closer = True
    # Words the NLU did not mark (typos, unusual phrasing) are still honoured. A day joined
    # to the one before by "or"/"and" shares its sense: "can't do mondays or fridays".
    previous_end, previous_negated = None, False
    for match in re.finditer(r"[a-z']+", lowered):
        word = match.group(0)
        day = weekday_of(word)
        if day is None:
            continue
        joined = previous_end is not None and re.fullmatch(
            r"[\s,]*(?:or|and|nor|&)[\s,]*", lowered[previous_end:match.start()])
        negated = previous_negated if joined else _negated(text, match.start())
        if day in update.exclude_weekdays:
            negated = True
        elif day not in update.weekdays:
            (update.exclude_weekdays if negated else update.weekdays).add(day)
        previous_end, previous_negated = match.end(), negated
    for match in re.finditer(r"[a-z']+", lowered):
        word = match.group(0)
        part = time_of_day_of(word) if word.startswith(("morn", "aftern", "even")) else None
        if part and update.time_of_day is None:
            update.time_of_day = OPPOSITE_TIME[part] if _negated(text, match.start()) else part
    if not any(e.get("entity") == "date" for e in spans):
        for match in re.finditer(
                r"\b(?:the )?\d{1,2}(?:st|nd|rd|th)?(?: of)?(?: [a-z]{3,9})?\b|"
                r"\b(?:next|this) (?:week|month)\b|\bin \d+ weeks?\b|\btomorrow\b|"
                r"\b(?:january|february|march|april|may|june|july|august|september|october"
                rf"|november|december|{HOLIDAY_PATTERN})\b", fold_text_speak(lowered)):
            if re.fullmatch(r"\d", match.group(0)):
                continue
            _apply_date(update, fold_text_speak(lowered), match.start(), match.group(0),
                        today=today)
            break
    update.weekdays -= update.exclude_weekdays
    if any(word in lowered for word in CLOSER_WORDS):
        update.closer = True
    if any(word in lowered for word in LATER_WORDS):
        update.later = True
    return update


def merge_preferences(previous: dict[str, Any] | None, update: PreferenceUpdate
                      ) -> dict[str, Any]:
    """The preferences kept so far, with this message's on top (JSON-friendly, for a slot)."""
    prefs = dict(previous or {})
    if update.time_of_day:
        prefs["time_of_day"] = update.time_of_day
    excluded = set(prefs.get("exclude_weekdays") or []) | update.exclude_weekdays
    if update.weekdays:
        prefs["weekdays"] = sorted(update.weekdays)
        excluded -= update.weekdays
    if prefs.get("weekdays"):
        prefs["weekdays"] = sorted(set(prefs["weekdays"]) - excluded) or None
    prefs["exclude_weekdays"] = sorted(excluded)
    if update.earliest_date:
        prefs["earliest_date"] = update.earliest_date.isoformat()
        if prefs.get("latest_date") and prefs["latest_date"] < prefs["earliest_date"]:
            prefs.pop("latest_date")
    if update.latest_date:
        prefs["latest_date"] = update.latest_date.isoformat()
        if prefs.get("earliest_date") and prefs["earliest_date"] > prefs["latest_date"]:
            prefs.pop("earliest_date")
    return {key: value for key, value in prefs.items() if value not in (None, [], "")}
