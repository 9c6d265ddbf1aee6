"""The waiting-list order: each criterion, ties, and the one-sentence explanation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.appointments.models import Pathway, Priority
from api.scheduling import priority
from api.scheduling.priority import Facts

TODAY = date(2026, 3, 2)


def facts(appointment_id: int, **overrides) -> Facts:
    values = {"priority": Priority.ROUTINE, "pathway": Pathway.RTT,
              "referral_date": TODAY - timedelta(weeks=10),
              "breach_date": TODAY + timedelta(weeks=8), "times_postponed": 0,
              "vulnerable": False} | overrides
    return Facts(appointment_id, **values)


def ordered_ids(*items: Facts) -> list[int]:
    return [f.appointment_id for f in priority.order(list(items), TODAY)]


def test_clinical_priority_comes_first_whatever_else():
    # The P4 has breached, waited longest, was postponed most and is vulnerable: still last.
    p4 = facts(1, priority=Priority.P4, breach_date=TODAY - timedelta(days=30),
               referral_date=TODAY - timedelta(weeks=60), times_postponed=3, vulnerable=True)
    items = [p4] + [facts(i + 2, priority=p) for i, p in enumerate(
        [Priority.P3, Priority.P2, Priority.P1B, Priority.P1A, Priority.SUSPECTED_CANCER])]
    assert ordered_ids(*items) == [5, 4, 6, 3, 2, 1]


@pytest.mark.parametrize("higher, lower", [
    (Priority.P1A, Priority.P1B), (Priority.P1B, Priority.SUSPECTED_CANCER),
    (Priority.SUSPECTED_CANCER, Priority.URGENT), (Priority.URGENT, Priority.P3),
    (Priority.P2, Priority.P3), (Priority.P3, Priority.ROUTINE), (Priority.ROUTINE, Priority.P4),
])
def test_each_priority_step(higher, lower):
    assert ordered_ids(facts(2, priority=lower), facts(1, priority=higher)) == [1, 2]


def test_breach_risk_breaks_priority_ties():
    soon = facts(2, breach_date=TODAY + timedelta(days=10))
    later = facts(1, breach_date=TODAY + timedelta(days=40), times_postponed=4, vulnerable=True,
                  referral_date=TODAY - timedelta(weeks=30))
    breached = facts(3, breach_date=TODAY - timedelta(days=1))
    assert ordered_ids(later, soon, breached) == [3, 2, 1]


def test_breach_risk_is_counted_in_whole_weeks():
    # Same breach week: the next criterion (days waited) decides.
    a = facts(1, breach_date=TODAY + timedelta(days=15), referral_date=TODAY - timedelta(days=50))
    b = facts(2, breach_date=TODAY + timedelta(days=20), referral_date=TODAY - timedelta(days=90))
    assert ordered_ids(a, b) == [2, 1]


def test_everyone_in_breach_shares_the_front_bucket():
    long_ago = facts(1, breach_date=TODAY - timedelta(days=60),
                     referral_date=TODAY - timedelta(days=100))
    yesterday = facts(2, breach_date=TODAY - timedelta(days=1),
                      referral_date=TODAY - timedelta(days=200))
    assert ordered_ids(long_ago, yesterday) == [2, 1]


def test_days_waited_breaks_breach_ties():
    assert ordered_ids(facts(1, referral_date=TODAY - timedelta(days=70)),
                       facts(2, referral_date=TODAY - timedelta(days=71))) == [2, 1]


def test_times_postponed_breaks_waiting_ties():
    assert ordered_ids(facts(1, times_postponed=1), facts(2, times_postponed=2)) == [2, 1]


def test_vulnerability_breaks_postponement_ties():
    assert ordered_ids(facts(1), facts(2, vulnerable=True)) == [2, 1]


def test_complete_ties_fall_back_to_the_earlier_appointment():
    assert ordered_ids(facts(9), facts(3), facts(5)) == [3, 5, 9]


def test_explanation_is_one_sentence_with_every_reason():
    f = facts(1, priority=Priority.P2, breach_date=date(2026, 3, 30),
              referral_date=date(2025, 12, 1), times_postponed=2, vulnerable=True)
    assert priority.explain(f, today=TODAY, position=12, total=340,
                            queue="General Surgery operations") == (
        "Urgent (P2), breaches the 18-week referral-to-treatment target on "
        "Mon 30 Mar 2026 (in 4 weeks), waited 13 weeks since referral, postponed twice, "
        "recorded as vulnerable: 12th of 340 waiting for General Surgery operations.")


def test_explanation_of_a_breached_cancer_pathway():
    f = facts(1, priority=Priority.SUSPECTED_CANCER, pathway=Pathway.CANCER_FDS,
              breach_date=date(2026, 2, 27), referral_date=date(2026, 1, 30), times_postponed=1)
    assert priority.reasons(f, TODAY) == (
        "Suspected cancer, passed the 28-day cancer diagnosis standard on Fri 27 Feb 2026, "
        "waited 4 weeks since referral, postponed once")


def test_ordinals():
    assert [priority.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
