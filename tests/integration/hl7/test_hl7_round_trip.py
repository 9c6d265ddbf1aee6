"""The demo trust exported as an HL7 feed, sent over MLLP to a listener on another Rebook
database, is the same trust (patients and appointments, field by field)."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app
from api.demo import service as demo_service
from api.integration.hl7 import export
from api.integration.models import InboundStatus, PasInbound
from tests.integration import roundtrip
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7.conftest import listening


def test_the_demo_trust_survives_an_hl7_feed_over_mllp(db_session, target_session, target_url,
                                                       hl7_settings, tmp_path):
    demo_service.seed(session=db_session, patients=50, today=DEMO_TODAY)
    demo_service.seed_reference(session=target_session, today=DEMO_TODAY)
    target_session.commit()
    feed = tmp_path / "trust.hl7"
    messages = list(export.feed(session=db_session, settings=hl7_settings))
    feed.write_text("\n".join(messages) + "\n", encoding="utf-8")

    with listening(target_url, hl7_settings) as port:
        result = CliRunner().invoke(app, ["integration", "hl7", "send", str(feed),
                                          "--port", str(port)])

    assert result.exit_code == 0, result.output
    assert "AA" in result.output and "AE" not in result.output
    target_session.rollback()
    stored = target_session.query(PasInbound).all()
    assert len(stored) == len(messages)
    assert {row.status for row in stored} <= {InboundStatus.APPLIED, InboundStatus.IGNORED}
    roundtrip.assert_same(roundtrip.patients(db_session), roundtrip.patients(target_session),
                          "patients")
    roundtrip.assert_same(
        roundtrip.appointments(db_session, by_link=False, with_slot_times=True),
        roundtrip.appointments(target_session, by_link=True, with_slot_times=True),
        "appointments")


def test_a_feed_file_splits_into_its_messages_however_it_is_laid_out():
    one = "MSH|^~\\&|PAS|T|REBOOK|R|20261130||ADT^A28|1|P|2.5\rEVN|A28\rPID|1"
    two = "MSH|^~\\&|PAS|T|REBOOK|R|20261130||ADT^A28|2|P|2.5\rEVN|A28\rPID|1"
    per_line = one + "\n\n" + two + "\n"
    per_segment = one.replace("\r", "\n") + "\n" + two.replace("\r", "\r\n")

    assert export.split(per_line) == [one, two]
    assert export.split(per_segment) == [one, two]
