"""SRM requests to a fake PAS on loopback: accepted, refused (slot taken), unanswered."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from hl7.mllp import start_hl7_server
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.appointments.models import Appointment
from api.config import Settings
from api.demo import service as demo_service
from api.flows import pas_writeback
from api.integration import writeback
from api.integration.hl7 import fields, mllp, parse
from api.integration.hl7.writer import SLOT_TAKEN, Hl7Writer, control_id
from api.integration.models import (
    Adapter,
    IntegrationException,
    PasRequest,
    RequestKind,
    RequestStatus,
)
from api.integration.writeback import WriteBack
from tests.factories import valid_nhs_number
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7 import messages as m
from tests.integration.hl7.conftest import listening, send


@contextmanager
def fake_pas(mode: str) -> Iterator[list[str]]:
    """A PAS listener answering every SRM as `mode` says (accept, slot_taken, silent);
    yields the list of requests it received; its port is the list's `port` attribute."""
    received: list[str] = []
    ready, holder = threading.Event(), {}

    async def answer(reader, writer) -> None:
        while (block := await mllp.read_block(reader)) is not None:
            text = mllp.decode(block)
            received.append(text)
            if mode == "silent":
                continue
            _, header = parse.read(text)
            err = "" if mode == "accept" else (
                f"\rERR|||207^Application internal error^HL70357|E|{SLOT_TAKEN}^Slot already "
                "booked|||The slot is no longer available")
            answer = (f"MSH|^~\\&|PAS|TRUST|REBOOK|REBOOK|20261130120000||SRR^S01|X1|P|2.5\r"
                      f"MSA|{'AA' if mode == 'accept' else 'AR'}|{header.control_id}{err}\r"
                      + ("SCH||PAS-777\r" if mode == "accept" else ""))
            writer.writeblock(mllp.encode(answer))
            await writer.drain()

    async def main() -> None:
        holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()
        server = await start_hl7_server(answer, "127.0.0.1", 0)
        holder["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await holder["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        yield received, holder["port"]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(5)


def _change(kind: RequestKind = RequestKind.BOOK) -> WriteBack:
    return WriteBack(
        request_id=1, kind=kind, idempotency_key="offer-42-accept", attempts=0,
        nhs_number=valid_nhs_number(7), patient_pas_id="P7", appointment_pas_id="A9",
        slot_pas_id=None, slot_version=None, start_at=datetime(2027, 1, 4, 9, 30, tzinfo=UTC),
        duration_minutes=20, site_code="NTH-NGH", specialty_code="RESP",
        clinician_code="RESP-01", appointment_type="outpatient", priority="routine",
        given_name="Ada", family_name="Testpatient")


def _writer(port: int, **settings) -> Hl7Writer:
    return Hl7Writer(settings=Settings(pas_mode="hl7", hl7_peer_host="127.0.0.1",
                                       hl7_peer_port=port, hl7_timeout_seconds=1, **settings))


def test_an_accepted_booking_returns_the_pas_appointment_id():
    with fake_pas("accept") as (received, port):
        result = _writer(port).send(_change())
        again = _writer(port).send(_change())

    assert result.accepted and result.pas_reference == "PAS-777"
    assert again.accepted
    first, second = (fields.message(text) for text in received)
    assert fields.first(first, "MSH").get(9) == "SRM"
    assert fields.first(first, "MSH").get(9, 2) == "S01"
    # The same control id on a resend: the PAS recognises it.
    assert fields.first(first, "MSH").get(10) == fields.first(second, "MSH").get(10) == \
        control_id("offer-42-accept")
    arq = fields.first(first, "ARQ")
    assert (arq.get(1), arq.get(2), arq.get(9)) == ("offer-42-accept", "A9", "20")
    assert fields.first(first, "AIS").get(3) == "RESP"
    assert fields.first(first, "AIL").get(3, 4) == "NTH-NGH"
    assert fields.first(first, "AIP").get(3) == "RESP-01"
    assert parse.identifiers(fields.first(first, "PID")) == (valid_nhs_number(7), "P7")


@pytest.mark.parametrize("kind,setting,expected", [
    (RequestKind.MODIFY, {}, "SRM^S03"), (RequestKind.CANCEL, {}, "SRM^S04"),
    (RequestKind.BOOK, {"hl7_srm_new": "SRM^S02"}, "SRM^S02")])
def test_the_message_type_follows_the_request_and_the_settings(kind, setting, expected):
    with fake_pas("accept") as (received, port):
        assert _writer(port, **setting).send(_change(kind)).accepted
    msh = fields.first(fields.message(received[0]), "MSH")
    assert f"{msh.get(9, 1)}^{msh.get(9, 2)}" == expected


def test_a_slot_taken_in_the_pas_is_a_refusal_and_a_conflict():
    with fake_pas("slot_taken") as (_, port):
        result = _writer(port).send(_change())

    assert result.refused and result.conflict
    assert "no longer available" in result.reason


def test_no_answer_or_no_pas_means_try_again_later():
    with fake_pas("silent") as (received, port):
        silent = _writer(port).send(_change())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = _writer(closed_port).send(_change())

    assert len(received) == 1
    for result in (silent, refused):
        assert not result.accepted and not result.refused and result.reason


@pytest.mark.parametrize("mode,status", [("accept", RequestStatus.ACCEPTED),
                                         ("slot_taken", RequestStatus.REFUSED),
                                         ("silent", RequestStatus.PENDING)])
def test_the_dispatcher_sends_a_queued_change_through_the_hl7_writer(
        target_session, target_url, hl7_settings, mode, status):
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    target_session.commit()
    patient = m.patient()
    with listening(target_url, hl7_settings) as port:
        send(port, m.adt(patient, settings=hl7_settings),
             m.siu(m.appointment(target_session), patient, settings=hl7_settings))
    target_session.rollback()
    with fake_pas(mode) as (received, port):
        settings = Settings(pas_mode="hl7", hl7_peer_host="127.0.0.1", hl7_peer_port=port,
                            hl7_timeout_seconds=1)
        appointment = target_session.scalar(select(Appointment))
        writeback.request_change(session=target_session, settings=settings,
                                 kind=RequestKind.MODIFY, appointment=appointment,
                                 key="modify-1")
        target_session.commit()
        sent = pas_writeback.send_due(
            session_factory=sessionmaker(bind=target_session.get_bind(),
                                         expire_on_commit=False),
            settings=settings, writers={Adapter.HL7: Hl7Writer(settings=settings)})

    assert sent == 1 and len(received) == 1
    arq = fields.first(fields.message(received[0]), "ARQ")
    assert (arq.get(1), arq.get(2)) == ("modify-1", "A1")
    target_session.rollback()
    request = target_session.scalar(select(PasRequest))
    assert request.status is status
    exception = target_session.scalar(select(IntegrationException.reason))
    assert exception == ("slot_taken" if mode == "slot_taken" else None)
