"""A small world for scheduling tests: one specialty, two sites, slots and postponed patients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus, Priority
from tests import factories

# A fixed "now" (a Monday morning, UTC): slot times and notice are measured from it.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def at(days: int, hour: int = 10, minute: int = 0) -> datetime:
    """A UTC instant `days` after NOW's date, at hour:minute (UTC = London in March)."""
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC) + timedelta(days=days)


def postponed(session, *, patient, specialty, **overrides):
    """An appointment that has been postponed (BOOKED -> POSTPONED, with history)."""
    values = {"referral_date": date(2025, 12, 1), "breach_date": date(2026, 4, 6)} | overrides
    appointment = factories.make_appointment(session, patient=patient, specialty=specialty,
                                             **values)
    appointments_service.change_status(session=session, appointment=appointment,
                                       to_status=AppointmentStatus.POSTPONED,
                                       reason="industrial action", actor="system")
    session.flush()
    return appointment


class World:
    def __init__(self, session):
        self.session = session
        self.site = factories.make_site(session)
        self.other_site = factories.make_site(session, step_free_access=False)
        self.specialty = factories.make_specialty(session)

    def slot(self, days: int, hour: int = 10, minute: int = 0, **overrides):
        values = {"start_at": at(days, hour, minute)} | overrides
        site = values.pop("site", self.site)
        return factories.make_slot(self.session, site=site, specialty=self.specialty, **values)

    def patient(self, **overrides):
        return factories.make_patient(self.session, **overrides)

    def postponed(self, patient=None, **overrides):
        return postponed(self.session, patient=patient or self.patient(),
                         specialty=self.specialty, **overrides)


@pytest.fixture
def world(db_session) -> World:
    return World(db_session)


__all__ = ["NOW", "TODAY", "World", "at", "postponed", "Priority"]
