"""The synthetic demo trust: synthetic identifiers, a realistic strike, determinism, idempotency.

Most tests seed 300 patients (capacity has a floor, so every kind of slot still exists);
one test checks the default size (2,500 patients, ~600 postponed).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.appointments.models import (
    OUTPATIENT_PRIORITIES,
    SURGICAL_PRIORITIES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Pathway,
    Priority,
)
from api.demo import data
from api.demo import service as demo_service
from api.models import Base
from api.patients.identifiers import is_valid_nhs_number, normalise_mobile
from api.patients.models import CommunicationNeed, Patient
from api.reference.models import AppointmentType, Site, Specialty
from api.scheduling.models import ClinicSession, Disruption, SessionKind, Slot, SlotStatus
from api.system import localtime
from tests.factories import (
    make_appointment,
    make_patient,
    make_site,
    make_slot,
    make_specialty,
)

TODAY = date(2026, 1, 7)  # a Wednesday: the strike runs Mon 12 - Fri 16 January
SMALL = 300
STRIKE_REASON = f"industrial action: {data.DISRUPTION_NAME}"
DRAMA_MOBILE = re.compile(r"^\+447700900\d{3}$")
FAKE_POSTCODE = re.compile(r"^NX\d{1,2} \d[ABDEFGHJLNPQRSTUWXYZ]{2}$")
PATIENT_KEYS = ["nhs_number", "name", "dob", "postcode", "mobile", "email", "whatsapp",
                "appointments"]
APPOINTMENT_KEYS = ["id", "status", "specialty", "priority", "start"]


def _seed(session: Session, **overrides) -> demo_service.SeedResult:
    arguments = {"patients": SMALL, "seed": 2024, "today": TODAY} | overrides
    result = demo_service.seed(session=session, **arguments)
    session.flush()
    return result


def _row_counts(session: Session) -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables}


def test_default_size_postpones_about_600_across_every_priority(db_session):
    result = _seed(db_session, patients=2500)

    assert result.created
    assert 500 <= result.postponed <= 700
    assert 3500 <= result.appointments <= 4500
    postponed = db_session.scalars(
        select(Appointment.priority).where(Appointment.status == AppointmentStatus.POSTPONED))
    assert Counter(postponed).keys() == set(Priority)
    assert result.free_future_slots >= 2 * result.postponed
    assert result.patients == db_session.scalar(select(func.count()).select_from(Patient))
    assert result.slots == db_session.scalar(select(func.count()).select_from(Slot))
    mobiles = Counter(db_session.scalars(select(Patient.mobile).where(Patient.mobile.is_not(None))))
    assert len(mobiles) == data.DRAMA_MOBILE_COUNT  # the whole drama range is in use
    assert any(count > 1 for count in mobiles.values())


def test_describe_follows_the_json_contract(db_session):
    _seed(db_session)
    patients = demo_service.describe(session=db_session)["patients"]

    assert len(patients) == SMALL
    assert [p["nhs_number"] for p in patients] == sorted(p["nhs_number"] for p in patients)
    for patient in patients:
        assert list(patient) == PATIENT_KEYS
        assert date.fromisoformat(patient["dob"]) < TODAY
        assert patient["appointments"], "every demo patient has an appointment"
        ids = [a["id"] for a in patient["appointments"]]
        assert ids == sorted(ids)
        if patient["whatsapp"] is not None:
            assert patient["whatsapp"] == f"whatsapp:{patient['mobile']}"
        for appointment in patient["appointments"]:
            assert list(appointment) == APPOINTMENT_KEYS
            assert appointment["status"] in {s.value for s in AppointmentStatus}
            assert appointment["priority"] in {p.value for p in Priority}
            if appointment["status"] == "postponed":
                assert appointment["start"] is None
            else:
                start = datetime.fromisoformat(appointment["start"])
                assert start.utcoffset() == timedelta(0)
                assert appointment["start"].endswith("+00:00")
    json.dumps(patients)  # plain JSON types only


def test_identifiers_are_synthetic(db_session):
    _seed(db_session)
    patients = db_session.scalars(select(Patient)).all()

    for patient in patients:
        assert patient.nhs_number.startswith("999")
        assert is_valid_nhs_number(patient.nhs_number)
        assert FAKE_POSTCODE.match(patient.postcode), patient.postcode
        if patient.mobile:
            assert DRAMA_MOBILE.match(patient.mobile)
            assert normalise_mobile(patient.mobile) == patient.mobile  # E.164
        if patient.email:
            assert patient.email.rsplit("@", 1)[1] in data.EMAIL_DOMAINS
    assert len({p.nhs_number for p in patients}) == len(patients)
    for site in db_session.scalars(select(Site)):
        assert FAKE_POSTCODE.match(site.postcode)
        assert site.address and site.parking and site.transport


def test_shared_mobiles_belong_to_households_and_contact_details_vary(db_session):
    _seed(db_session)
    patients = db_session.scalars(select(Patient)).all()

    by_mobile = defaultdict(list)
    for patient in patients:
        if patient.mobile:
            by_mobile[patient.mobile].append(patient)
    shared = [group for group in by_mobile.values() if len(group) > 1]
    assert shared, "some mobiles are shared on purpose"
    assert 0.03 <= sum(len(g) for g in shared) / len(patients) <= 0.08
    for group in shared:
        assert len({p.family_name for p in group}) == 1
        assert len({p.postcode for p in group}) == 1

    whatsapp = [p for p in patients if p.whatsapp_opt_in]
    assert 0.05 * len(patients) <= len(whatsapp) <= 0.15 * len(patients)
    assert all(p.mobile and not p.opted_out for p in whatsapp)
    opted_out = [p for p in patients if p.opted_out]
    assert opted_out and all(p.opted_out_at for p in opted_out)
    assert any(p.vulnerable for p in patients)

    needs = Counter(need for p in patients for need in p.communication_needs)
    assert set(needs) == {need.value for need in CommunicationNeed}
    interpreted = [p for p in patients if CommunicationNeed.INTERPRETER in p.communication_needs]
    assert all(p.preferred_language != "en" for p in interpreted)
    for patient in interpreted:
        languages = db_session.scalars(
            select(Appointment.interpreter_language).where(Appointment.patient_id == patient.id))
        assert all(languages)


def test_capacity_covers_every_specialty_with_free_slots_to_rebook_into(db_session):
    result = _seed(db_session)
    strike_start, strike_end = demo_service.strike_window(today=TODAY)
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    horizon = now + timedelta(weeks=12)

    specialties = db_session.scalars(select(Specialty)).all()
    assert len(specialties) >= 8
    assert any(s.surgical for s in specialties) and any(not s.surgical for s in specialties)
    assert db_session.scalar(select(func.count()).select_from(Site)) == 4

    kinds = set(db_session.execute(select(ClinicSession.kind, Slot.type).join(Slot.session)))
    assert kinds == {(SessionKind.CLINIC, AppointmentType.OUTPATIENT),
                     (SessionKind.CLINIC, AppointmentType.PROCEDURE),
                     (SessionKind.THEATRE_LIST, AppointmentType.THEATRE)}
    durations = defaultdict(set)
    for slot_type, minutes in db_session.execute(select(Slot.type, Slot.duration_minutes)):
        durations[slot_type].add(minutes)
    assert durations[AppointmentType.OUTPATIENT] == {20}
    assert durations[AppointmentType.PROCEDURE] <= {30, 45}
    assert min(durations[AppointmentType.THEATRE]) >= 60
    assert max(durations[AppointmentType.THEATRE]) <= 120
    assert all(location.startswith("Theatre ") for location in db_session.scalars(
        select(ClinicSession.location).where(ClinicSession.kind == SessionKind.THEATRE_LIST)))

    offered = set(db_session.execute(select(Slot.specialty_id, Slot.type).distinct()))
    free = Counter(db_session.execute(
        select(Slot.specialty_id, Slot.type)
        .where(Slot.status == SlotStatus.FREE, Slot.start_at >= now, Slot.start_at < horizon)))
    assert set(free) == offered, "free future slots in every specialty and type"
    assert sum(free.values()) >= 2 * result.postponed

    disruption = db_session.scalar(select(Disruption))
    affected = {s.id for s in disruption.specialties}
    in_strike = db_session.execute(
        select(Slot.specialty_id, Slot.status)
        .where(Slot.start_at >= strike_start, Slot.start_at < strike_end)).all()
    assert {status for specialty_id, status in in_strike if specialty_id in affected} == {
        SlotStatus.BLOCKED}


def test_postponed_appointments_carry_the_strike_history(db_session):
    result = _seed(db_session)
    disruption = db_session.scalar(select(Disruption))
    strike_start, strike_end = demo_service.strike_window(today=TODAY)

    assert disruption.name == data.DISRUPTION_NAME
    assert disruption.staff_group == "resident doctors"
    assert (disruption.starts_at, disruption.ends_at) == (strike_start, strike_end)
    assert timedelta(days=4) <= strike_start - datetime.combine(TODAY, datetime.min.time(),
                                                                tzinfo=UTC) <= timedelta(days=11)
    assert len(disruption.sites) == 4
    assert len(data.SPECIALTIES) > len(disruption.specialties) >= len(data.SPECIALTIES) // 2 + 1

    postponed = db_session.scalars(
        select(Appointment).where(Appointment.status == AppointmentStatus.POSTPONED)).all()
    assert len(postponed) == result.postponed > 0
    for appointment in postponed:
        assert appointment.slot_id is None
        assert appointment.disruption_id == disruption.id
        assert appointment.times_postponed == 1
        first, last = appointment.history
        assert (first.from_status, first.to_status) == (None, AppointmentStatus.BOOKED)
        assert (last.from_status, last.to_status) == (AppointmentStatus.BOOKED,
                                                      AppointmentStatus.POSTPONED)
        assert last.reason == STRIKE_REASON and last.actor == "system"
        assert first.occurred_at < last.occurred_at
        released = db_session.get(Slot, last.slot_id)
        assert released.status is SlotStatus.BLOCKED
        assert strike_start <= released.start_at < strike_end
    assert Counter(a.priority for a in postponed).keys() == set(Priority)

    first_events = Counter(db_session.scalars(
        select(AppointmentEvent.appointment_id).where(AppointmentEvent.from_status.is_(None))))
    appointment_ids = db_session.scalars(select(Appointment.id)).all()
    assert all(first_events[i] == 1 for i in appointment_ids)
    attended = db_session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.status == AppointmentStatus.ATTENDED))
    attended_events = db_session.scalar(select(func.count()).select_from(AppointmentEvent).where(
        AppointmentEvent.to_status == AppointmentStatus.ATTENDED))
    assert attended == attended_events > 0


def test_priorities_pathways_and_dates_are_consistent(db_session):
    _seed(db_session)
    rows = db_session.execute(
        select(Appointment, Specialty.surgical).join(Specialty, Appointment.specialty_id
                                                     == Specialty.id)).all()
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)

    for appointment, surgical in rows:
        if appointment.type is AppointmentType.THEATRE or (
                appointment.type is AppointmentType.PROCEDURE and surgical):
            assert appointment.priority in SURGICAL_PRIORITIES
        else:
            assert appointment.priority in OUTPATIENT_PRIORITIES
        if appointment.priority is Priority.SUSPECTED_CANCER:
            assert appointment.pathway is Pathway.CANCER_FDS
        limit = {Pathway.RTT: 18 * 7, Pathway.CANCER_FDS: 28, Pathway.CANCER_62: 62}
        assert appointment.breach_date - appointment.referral_date == timedelta(
            days=limit[appointment.pathway])
        assert appointment.referral_date < TODAY
        if appointment.status is AppointmentStatus.ATTENDED:
            assert appointment.slot.start_at < now
        elif appointment.status is AppointmentStatus.BOOKED:
            assert appointment.slot.start_at >= now
            assert appointment.slot.status is SlotStatus.BOOKED


def test_seeding_twice_changes_nothing(db_session):
    first = _seed(db_session)
    counts = _row_counts(db_session)

    second = _seed(db_session)
    again = demo_service.seed(session=db_session, patients=1000, seed=7)  # other arguments too

    assert first.created and not second.created and not again.created
    assert "already" in second.summary()
    assert _row_counts(db_session) == counts


def test_same_seed_and_today_give_identical_output(db_session):
    def seeded_output(**overrides) -> str:
        savepoint = db_session.begin_nested()
        _seed(db_session, **overrides)
        output = json.dumps(demo_service.describe(session=db_session))
        savepoint.rollback()
        return output

    first = seeded_output()
    assert seeded_output() == first
    assert seeded_output(seed=2025) != first
    assert seeded_output(today=TODAY + timedelta(days=1)) != first


def test_seeds_beside_existing_rows_and_later_inserts_still_work(db_session):
    site, specialty = make_site(db_session), make_specialty(db_session)
    outsider = make_patient(db_session)
    make_appointment(db_session, patient=outsider, specialty=specialty, site_id=site.id)

    result = _seed(db_session, patients=50)
    # Ids were given explicitly: the sequences must have moved past them (PostgreSQL).
    later = make_patient(db_session)
    make_slot(db_session, site=site, specialty=specialty)
    make_appointment(db_session, patient=later, specialty=specialty)

    described = demo_service.describe(session=db_session)["patients"]
    assert result.created and len(described) == 50
    assert outsider.nhs_number not in {p["nhs_number"] for p in described}


@pytest.mark.parametrize(("arguments", "message"), [
    ({"patients": 0}, "between 1 and 20,000"),
    ({"patients": 20_001}, "between 1 and 20,000"),
    ({"patients": "many"}, "whole number"),
    ({"seed": -1}, "zero or more"),
    ({"today": datetime(2026, 1, 7, 9, 0)}, "must be a date"),
])
def test_bad_arguments_are_refused_before_touching_the_database(arguments, message):
    with pytest.raises(ValueError, match=message):
        demo_service.seed(session=None, **arguments)


@pytest.mark.parametrize("offset", range(7))
def test_the_strike_starts_on_a_monday_about_a_week_ahead(offset):
    today = TODAY + timedelta(days=offset)
    starts_at, ends_at = demo_service.strike_window(today=today)
    local = localtime.to_local(starts_at)

    assert local.weekday() == 0 and (local.hour, local.minute) == (7, 0)
    assert 4 <= (local.date() - today).days <= 10
    assert ends_at - starts_at == timedelta(days=5)
