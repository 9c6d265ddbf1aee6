import pytest

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from tests.factories import make_appointment, make_patient, make_site, make_slot, make_specialty


def test_status_history_is_kept(db_session):
    site, specialty = make_site(db_session), make_specialty(db_session)
    slot = make_slot(db_session, site=site, specialty=specialty)
    patient = make_patient(db_session)
    appointment = make_appointment(db_session, patient=patient, specialty=specialty,
                                   slot_id=slot.id)

    appointments_service.change_status(
        session=db_session, appointment=appointment, to_status=AppointmentStatus.POSTPONED,
        reason="industrial action", actor="system",
    )
    appointments_service.change_status(
        session=db_session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
        reason="3 slots offered", actor="assistant",
    )
    appointments_service.change_status(
        session=db_session, appointment=appointment, to_status=AppointmentStatus.REBOOKED,
        reason="patient chose a slot", actor="assistant",
    )
    db_session.commit()
    db_session.expire_all()

    events = appointments_service.history(session=db_session, appointment_id=appointment.id)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, AppointmentStatus.BOOKED),
        (AppointmentStatus.BOOKED, AppointmentStatus.POSTPONED),
        (AppointmentStatus.POSTPONED, AppointmentStatus.OFFERED),
        (AppointmentStatus.OFFERED, AppointmentStatus.REBOOKED),
    ]
    assert events[1].reason == "industrial action"
    assert events[1].slot_id == slot.id
    assert all(e.occurred_at.tzinfo is not None for e in events)
    assert appointment.times_postponed == 1


def test_disallowed_transition_changes_nothing(db_session):
    specialty = make_specialty(db_session)
    appointment = make_appointment(db_session, patient=make_patient(db_session),
                                   specialty=specialty)
    with pytest.raises(appointments_service.InvalidTransition):
        appointments_service.change_status(
            session=db_session, appointment=appointment, to_status=AppointmentStatus.OFFERED,
            reason="x", actor="system",
        )
    assert appointment.status is AppointmentStatus.BOOKED
    assert len(appointment.history) == 1


def test_invalid_nhs_number_cannot_be_stored(db_session):
    from api.patients.identifiers import InvalidIdentifier

    with pytest.raises(InvalidIdentifier):
        make_patient(db_session, nhs_number="9434765918")
