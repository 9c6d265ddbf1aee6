"""Which offer a patient picked and what would suit them, from their own words."""

from __future__ import annotations

from datetime import date

import pytest

from actions.understanding import merge_preferences, parse_preferences, resolve_choice

OFFERS = [
    {"number": 1, "weekday": 1, "day": 16, "hour": 14, "minute": 30, "part": "afternoon",
     "site_name": "Royal Northshire Infirmary"},
    {"number": 2, "weekday": 3, "day": 18, "hour": 9, "minute": 0, "part": "morning",
     "site_name": "Millbrook Community Hospital"},
    {"number": 3, "weekday": 0, "day": 22, "hour": 13, "minute": 30, "part": "afternoon",
     "site_name": "Eastgate Treatment Centre"},
]
TODAY = date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize(("text", "entities", "picked"), [
    ("2", {}, [1]),
    ("2 please", {"offer_number": ["2"]}, [1]),
    ("first one pls", {"offer_number": ["1"]}, [0]),
    ("the last one", {"offer_number": ["last"]}, [2]),
    ("the tuesday one", {}, [0]),
    ("tues", {}, [0]),
    ("the thurs one pls", {}, [1]),
    ("the afternoon one", {}, [0, 2]),
    ("the morning one", {"time_of_day": ["morning"]}, [1]),
    ("the 18th please", {}, [1]),
    ("the one at 2:30", {}, [0]),
    ("the 9am one", {}, [1]),
    ("the millbrook one", {}, [1]),
    ("tuesday afternoon", {}, [0]),
    ("option 5", {}, []),
    ("the friday one", {}, []),
    ("hello", {}, []),
])
def test_resolve_choice(text, entities, picked):
    assert resolve_choice(OFFERS, text=text, entities=entities) == picked


@pytest.mark.parametrize(("text", "expected"), [
    ("none of those, mornings only", {"time_of_day": "morning"}),
    ("not mornings", {"time_of_day": "afternoon"}),
    ("not mondays", {"exclude_weekdays": {0}}),
    ("cant make tues", {"exclude_weekdays": {1}}),
    ("i work mondays", {"exclude_weekdays": {0}}),
    ("i cant do mondays or fridays", {"exclude_weekdays": {0, 4}}),
    ("tuesdays only", {"weekdays": {1}}),
    ("not mondays, tuesdays are fine", {"weekdays": {1}, "exclude_weekdays": {0}}),
    ("after the 20th", {"earliest_date": date(2026, 12, 21)}),
    ("nothing before the 10th of december", {"earliest_date": date(2026, 12, 10)}),
    ("before the 15th", {"latest_date": date(2026, 12, 14)}),
    ("im on holiday till 22nd so after that", {"earliest_date": date(2026, 12, 23)}),
    ("next week", {"earliest_date": date(2026, 11, 30), "latest_date": date(2026, 12, 6)}),
    ("anything in january", {"earliest_date": date(2027, 1, 1),
                             "latest_date": date(2027, 1, 31)}),
    ("anything 2moro", {"earliest_date": date(2026, 11, 30), "latest_date": date(2026, 11, 30)}),
    ("after christmas", {"earliest_date": date(2026, 12, 27)}),
    ("anything before xmas", {"latest_date": date(2026, 12, 23)}),
    ("after new year pls", {"earliest_date": date(2027, 1, 2)}),
    ("away till after easter", {"earliest_date": date(2027, 3, 30)}),  # Easter Monday 29 Mar
    ("boxing day", {"earliest_date": date(2026, 12, 26), "latest_date": date(2026, 12, 26)}),
    ("somewhere closer", {"closer": True}),
    ("a different hospital pls", {"closer": True}),
    ("anything later", {"later": True}),
])
def test_parse_preferences(text, expected):
    update = parse_preferences(text, entities=[], today=TODAY)
    found = {k: v for k, v in vars(update).items() if v not in (None, set(), False)}
    assert found == expected


def test_entities_from_the_nlu_are_used_with_their_position():
    text = "none of those, not fridays"
    entities = [{"entity": "weekday", "value": "friday", "start": 19, "end": 26}]

    update = parse_preferences(text, entities=entities, today=TODAY)

    assert update.exclude_weekdays == {4} and not update.weekdays


def test_merge_keeps_what_was_said_before():
    first = merge_preferences({}, parse_preferences("mornings only", entities=[], today=TODAY))
    second = merge_preferences(first, parse_preferences("not mondays", entities=[], today=TODAY))
    third = merge_preferences(second, parse_preferences("mondays are fine now", entities=[],
                                                        today=TODAY))

    assert first == {"time_of_day": "morning"}
    assert second == {"time_of_day": "morning", "exclude_weekdays": [0]}
    assert third == {"time_of_day": "morning", "weekdays": [0]}


def test_a_holiday_tagged_by_the_nlu_is_its_next_occurrence():
    text = "after christmas"
    entities = [{"entity": "date", "value": "christmas", "start": 6, "end": 15}]
    in_january = parse_preferences(text, entities=entities, today=date(2027, 1, 10))
    assert in_january.earliest_date == date(2027, 12, 27)
    on_boxing_day = parse_preferences(text, entities=entities, today=date(2026, 12, 26))
    assert on_boxing_day.earliest_date == date(2026, 12, 27)
