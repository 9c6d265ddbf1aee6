"""ADT and SIU fields as other PAS write them, read into records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.integration.hl7 import parse
from api.integration.records import MergeRecord, PasAppointmentStatus, PatientRecord
from tests.factories import valid_nhs_number

NHS = valid_nhs_number(40)
MSH = "MSH|^~\\&|PAS|TRUST|REBOOK|REBOOK|20261130101500||{type}|CTRL1|P|2.4"


def _message(message_type: str, *segments: str) -> str:
    return "\r".join([MSH.format(type=message_type), *segments])


def test_an_adt_from_another_pas_reads_its_identifiers_telecoms_death_and_protection():
    text = _message(
        "ADT^A08", "EVN|A08|20261130101000",
        f"PID|1||H123^^^RX1^MR~{NHS}^^^NHS^NH||O\\S\\Brien^Siobhan^M^^Mrs||19651203|F|||"
        "1 High St^^Leeds^^LS1 4AB^GBR^H||^WPN^PH^^^0113^4960000~^PRN^CP^^^^^^^^^07700900456~"
        "^NET^Internet^siobhan@example.org||pl^Polish^ISO639||||||||||||||20261129|Y",
        "PD1|||||||||||02|Y", "ZRP|bsl~no_text_messages")

    [record] = parse.records(text)

    assert isinstance(record, PatientRecord)
    assert record.change.pas_id == "H123" and record.nhs_number == NHS
    assert (record.family_name, record.given_name) == ("O^Brien", "Siobhan")
    assert record.date_of_birth == date(1965, 12, 3) and record.postcode == "LS1 4AB"
    assert (record.mobile, record.email) == ("07700900456", "siobhan@example.org")
    assert record.preferred_language == "pl"
    assert record.deceased and record.restricted
    assert record.communication_needs == ("bsl",) and not record.sms_allowed
    # EVN-2 without an offset is the trust's wall-clock time (GMT in November).
    assert record.change.event_at == datetime(2026, 11, 30, 10, 10, tzinfo=UTC)


def test_a_merge_names_the_surviving_and_the_merged_record():
    text = _message("ADT^A40", "EVN|A40|20261130101000",
                    f"PID|1||{NHS}^^^NHS^NH~P2^^^PAS^PI||Smith^Jo", "MRG|P9^^^PAS^PI")

    [record] = parse.records(text)

    assert record == MergeRecord(change=record.change, merged_pas_id="P9")
    assert record.change.pas_id == "P2"


@pytest.mark.parametrize("event,filler,status", [
    ("S12", "", PasAppointmentStatus.BOOKED), ("S13", "Booked", PasAppointmentStatus.BOOKED),
    ("S14", "Pending", PasAppointmentStatus.WAITLIST),
    ("S14", "Complete", PasAppointmentStatus.FULFILLED),
    ("S15", "Booked", PasAppointmentStatus.CANCELLED),
    ("S17", "", PasAppointmentStatus.DELETED), ("S26", "", PasAppointmentStatus.NOSHOW)])
def test_an_siu_status_follows_its_trigger_then_sch_25(event, filler, status):
    text = _message(f"SIU^{event}^SIU_S12",
                    f"SCH|PL1|F77||||^Clinic cancelled||outpatient|1|h|^^^202701041000"
                    f"||||||||||||||{filler}",
                    "PID|1||P2^^^PAS^PI||Smith^Jo||19800101", "AIS|1|A|CARD",
                    "AIL|1|A|OPD3^^^NTH-NGH", "AIP|1|A|CARD-02^Jones",
                    "ZRB|P2|cancer_62|20260901|20270105||Y")

    patient, appointment = parse.records(text)

    assert appointment.status is status
    assert appointment.change.pas_id == "F77" and appointment.patient_pas_id == "P2"
    assert appointment.start_at == datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
    assert appointment.duration_minutes == 60
    assert (appointment.specialty_code, appointment.site_code, appointment.clinician_code) \
        == ("CARD", "NTH-NGH", "CARD-02")
    assert appointment.reason == "Clinic cancelled"
    assert (appointment.priority.value, appointment.pathway.value) == ("P2", "cancer_62")
    assert appointment.requires_named_clinician and appointment.breach_date == date(2027, 1, 5)


@pytest.mark.parametrize("segments,ack,words", [
    (("SCH||F1|||||||||||||||||||||||Blocked", "PID|1||P2^^^PAS^PI"), "AE", "SCH-25"),
    (("SCH||F1", "PID|1||P2^^^PAS^PI", "AIS|1|A|CARD|tomorrow"), "AE", "AIS-4"),
    (("SCH||F1", f"PID|1||{NHS}^^^NHS^NH"), "AE", "PI or MR"),
    (("SCH||F1", "PID|1||P2^^^PAS^PI", "ZRP|telepathy"), "AE", "telepathy"),
    (("PID|1||P2^^^PAS^PI",), "AE", "no SCH"),
])
def test_what_cannot_be_read_says_why(segments, ack, words):
    with pytest.raises(parse.NotTaken) as caught:
        parse.records(_message("SIU^S12", *segments))
    assert caught.value.ack == ack and words in caught.value.reason
