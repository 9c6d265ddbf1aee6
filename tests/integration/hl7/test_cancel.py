"""SIU^S15 withdraws the offers held on the appointment, well within the 2 s target."""

from __future__ import annotations

from sqlalchemy import select

from api.appointments.models import Appointment, AppointmentStatus
from api.integration.models import DataKind, PasLink
from api.scheduling.models import Offer, OfferStatus
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7 import latency
from tests.integration.hl7.conftest import listening


def test_an_siu_cancel_withdraws_the_offers_held_on_the_appointment(
        target_session, target_url, hl7_settings):
    latency.prepare(target_session, patients=50, today=DEMO_TODAY)
    held = latency.hold_offers(target_session, limit=10)
    assert len(held) >= 5
    messages = latency.cancels(target_session, hl7_settings, set(held))

    with listening(target_url, hl7_settings) as port:
        seconds, codes = latency.send_timed(port, messages)

    assert codes == ["AA"] * len(messages)
    target_session.rollback()
    local = [link.local_id for link in target_session.scalars(select(PasLink).where(
        PasLink.kind == DataKind.APPOINTMENT, PasLink.pas_id.in_(held)))]
    assert set(target_session.scalars(select(Appointment.status).where(
        Appointment.id.in_(local)))) == {AppointmentStatus.CANCELLED}
    offers = target_session.scalars(select(Offer).where(Offer.appointment_id.in_(local))).all()
    assert len(offers) == sum(held.values())
    assert {offer.status for offer in offers} == {OfferStatus.WITHDRAWN}
    p50, p95 = latency.percentiles(seconds)
    assert p95 < 2000, f"an S15 took {p95:.0f} ms at p95 to withdraw its offers"
