"""A clerk works an unidentified handover to the end in a real browser, against the real server
and dispatcher (sandbox mode): finds the patient, records the identity check, books a slot, and
the patient's sandbox phone receives the confirmation. And a clerk cannot resolve a red flag,
while a clinician can.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from api.conversations.models import Conversation
from api.conversations.service import facts_of
from api.handover import service as handover_service
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel
from tests.browser.test_console_browser import _sign_in
from tests.handover.helpers import Desk, inbound
from tests.processes import free_port, process_env, running, wait_http, wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]
STRANGER = "+447700944555"


@pytest.fixture
def stack(live_settings, live_session_factory, tmp_path):
    """api and dispatcher subprocesses over a committed database: an unidentified case (opened
    while the assistant was unavailable, from a number on no record) and a red flag."""
    with live_session_factory() as session:
        desk = Desk(session, prefix="i")
        known, patient, *_ = desk.patient_case(given_name="Grace", family_name="Adeyemi",
                                               date_of_birth=date(1961, 4, 9))
        known.status = HandoverStatus.RESOLVED
        stranger = Conversation(channel=Channel.SMS, address=STRANGER)
        session.add(stranger)
        session.flush()
        inbound(session, stranger, "hello, is anyone there about my skin clinic")
        unknown = handover_service.open_handover(
            session=session, settings=desk.settings, urgency=Urgency.HIGH,
            reason=HandoverReason.ASSISTANT_UNAVAILABLE, created_by="gateway",
            summary="The assistant was unavailable.", conversation=facts_of(stranger))
        flag, *_ = desk.patient_case(reason=HandoverReason.RED_FLAG, urgency=Urgency.URGENT,
                                     text="I have had chest pain since this morning")
        session.commit()
        ids = {"unknown": unknown.id, "flag": flag.id, "mobile": patient.mobile}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = live_settings.model_copy(update={"public_base_url": base})
    env = process_env(settings)
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"), \
            running(["dispatcher"], env, tmp_path / "dispatcher.log"):
        wait_http(f"{base}/healthz", timeout=120)  # a busy test machine starts it slowly
        yield base, ids


def test_clerk_identifies_a_patient_and_books(browser, stack, live_session_factory):
    from playwright.sync_api import expect

    base, ids = stack
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, "i.clerk")
    page.goto(f"{base}/console/handovers/{ids['unknown']}")
    expect(page.get_by_text("Patient not identified.")).to_be_visible()

    page.get_by_label("Family name").fill("Adeyemi")
    page.get_by_label("Date of birth (day/month/year)").fill("31/02/1961")
    page.get_by_role("button", name="Find patient").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a real date")
    page.get_by_label("Date of birth (day/month/year)").fill("09/04/1961")
    page.get_by_role("button", name="Find patient").click()
    expect(page.locator("ul.matches strong", has_text="Grace Adeyemi")).to_be_visible()
    page.get_by_label("Date of birth and postcode, by phone").check()
    page.get_by_role("button", name=re.compile("Link this patient")).click()
    expect(page.get_by_role("status").filter(has_text="Patient linked")).to_be_visible()
    expect(page.get_by_text("Checked: Date of birth and postcode, by phone")).to_be_visible()
    expect(page.locator(".warning", has_text="Identity not verified")).to_have_count(0)

    page.get_by_role("button", name=re.compile("Find slots")).first.click()
    expect(page.get_by_role("heading", name="Available slots")).to_be_visible()
    expect(page.get_by_text(re.compile("Held until")).first).to_be_visible()
    page.get_by_role("button", name=re.compile("^Book")).first.click()
    expect(page.get_by_role("status").filter(has_text="Appointment booked")).to_be_visible()

    def confirmed():
        got = httpx.get(f"{base}/sandbox/messages", params={"to": ids["mobile"]},
                        timeout=5).json()
        return [m for m in got if m["body"].startswith("You're booked")
                and m["status"] == "delivered"]

    assert wait_until(confirmed, timeout=20)  # to the patient's recorded mobile...
    strangers = httpx.get(f"{base}/sandbox/messages", params={"to": STRANGER}, timeout=5).json()
    assert not [m for m in strangers if "booked" in m["body"]]  # ...not the unknown number
    with live_session_factory() as session:
        case = session.scalar(select(Handover).where(Handover.id == ids["unknown"]))
        assert case.patient_id is not None and case.identity_check == "dob_postcode_phone"
        stranger = session.scalar(select(Conversation).where(Conversation.address == STRANGER))
        assert stranger.verified_as() is None
    context.close()


def test_a_clerk_cannot_resolve_a_red_flag_and_a_clinician_can(browser, stack,
                                                               live_session_factory):
    from playwright.sync_api import expect

    base, ids = stack
    clerk = browser.new_context(viewport={"width": 1366, "height": 900})
    page = clerk.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, "i.clerk")
    page.goto(f"{base}/console/handovers/{ids['flag']}")
    expect(page.get_by_text("Only a clinician or an admin can resolve a red flag.")).to_be_visible()
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    # Posting the form by hand is refused on the server too.
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(f"{base}/console/handovers/{ids['flag']}/resolve",
                                form={"csrf_token": token, "outcome": "close"})
    assert refused.status == 403
    clerk.close()

    clinician = browser.new_context(viewport={"width": 1366, "height": 900})
    page = clinician.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, "i.clinician")
    page.goto(f"{base}/console/handovers/{ids['flag']}")
    page.get_by_label("Close the conversation").check()
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="Handover resolved")).to_be_visible()
    with live_session_factory() as session:
        case = session.scalar(select(Handover).where(Handover.id == ids["flag"]))
        assert case.status is HandoverStatus.RESOLVED
    clinician.close()
