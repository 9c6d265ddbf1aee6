"""The listener as its own process, killed mid-batch and restarted: the sender resends what was
not acknowledged, and every message is applied exactly once (0 lost, 0 duplicated)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from api.appointments.models import Appointment, AppointmentEvent
from api.demo import service as demo_service
from api.integration.hl7 import ack
from api.integration.models import InboundStatus, PasInbound
from api.patients.models import Patient
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7 import messages as m
from tests.integration.hl7.conftest import send_all

ROOT = Path(__file__).resolve().parents[3]
BATCH = 60


def _start(url: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, PAS_MODE="hl7", PYTHONPATH=str(ROOT))
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "integration", "hl7", "listen", "--port", str(port)],
            cwd=ROOT, env=env, stderr=stderr, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while log.read_text().count("listening for HL7") < _start.count + 1:  # it accepts now
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()  # never left running after the test
            process.wait(10)
            raise AssertionError(log.read_text())
        time.sleep(0.02)
    _start.count += 1
    return process


def _stored(path: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("select count(*) from pas_inbound").fetchone()[0]


def test_a_listener_killed_mid_batch_loses_and_doubles_nothing(target_session, target_url,
                                                               hl7_settings, tmp_path):
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    target_session.commit()
    feed = []
    for n in range(1, BATCH + 1):
        patient = m.patient(n)
        feed += [m.adt(patient, settings=hl7_settings),
                 m.siu(m.appointment(target_session, n, patient_n=n), patient,
                       settings=hl7_settings)]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = target_session.get_bind().url.database
    log = tmp_path / "listener.log"
    _start.count = 0
    first = _start(target_url, port, log)
    answers: list = []
    sender = threading.Thread(target=lambda: answers.extend(
        send_all(port, feed, timeout=5, attempts=80)))
    sender.start()
    try:
        deadline = time.monotonic() + 60
        while _stored(path) < BATCH // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = _stored(path)
    second = _start(target_url, port, log)
    try:
        sender.join(120)
    finally:
        second.send_signal(signal.SIGTERM)  # and it stops gracefully
        assert second.wait(20) == 0

    assert killed_at < len(feed)
    assert [ack.read(a)[:3] for a in answers if ack.read(a)[0] != "AA"] == []
    assert len(answers) == len(feed)
    target_session.rollback()
    stored = target_session.scalars(select(PasInbound)).all()
    assert [(r.status, r.outcome) for r in stored if r.status is not InboundStatus.APPLIED] \
        == []
    assert len(stored) == len(feed)
    assert target_session.scalar(select(func.count(Patient.id))) == BATCH
    assert target_session.scalar(select(func.count(Appointment.id))) == BATCH
    assert target_session.scalar(select(func.count(AppointmentEvent.id))) == BATCH
