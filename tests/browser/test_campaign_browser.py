"""Campaigns in a real browser against the real server and dispatcher (sandbox mode).

A clerk (the bookings team runs campaigns) creates a campaign, watches the segment count
follow the message, previews it, sends it and sees the progress move without a reload while
the dispatcher sends (paced at one message a second), then pauses it. Set
REBOOK_SCREENSHOT_DIR=docs/screenshots to refresh the screenshots in docs/.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.appointments import service as appointments_service
from api.appointments.models import AppointmentStatus
from api.campaigns.models import Campaign, CampaignStatus
from api.db import utcnow
from api.scheduling.models import Disruption
from tests.factories import make_appointment, make_patient
from tests.handover.helpers import PASSWORD, Desk
from tests.processes import free_port, process_env, running, wait_http

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]
PATIENTS = 20


@pytest.fixture
def stack(live_settings, live_session_factory, tmp_path):
    """api and dispatcher subprocesses over a disruption with 20 textable patients and one
    the campaign cannot write to."""
    with live_session_factory() as session:
        desk = Desk(session, prefix="cb")
        strike = Disruption(name="April strike", starts_at=utcnow(),
                            ends_at=utcnow() + timedelta(days=3), staff_group="resident doctors")
        session.add(strike)
        session.flush()
        patients = [make_patient(session) for _ in range(PATIENTS)]
        patients.append(make_patient(session, given_name="Noor", mobile=None, email=None))
        for patient in patients:
            appointment = make_appointment(session, patient=patient, specialty=desk.specialty,
                                           site_id=desk.site.id)
            appointments_service.change_status(session=session, appointment=appointment,
                                               to_status=AppointmentStatus.POSTPONED,
                                               reason="industrial action", actor="system")
            appointment.disruption_id = strike.id
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = live_settings.model_copy(update={"public_base_url": base})
    # One message a second: the send lasts long enough to watch it and pause it.
    env = process_env(settings, WORKER_POLL_SECONDS="0.05", SEND_RATE_PER_SECOND="1")
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"), \
            running(["dispatcher"], env, tmp_path / "dispatcher.log"):
        wait_http(f"{base}/healthz")
        yield base


def _screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REBOOK_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _fits_a_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_clerk_creates_previews_sends_and_pauses(browser, stack, live_session_factory,
                                                 tmp_path):
    from playwright.sync_api import expect

    base = stack
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("cb.clerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/queue")

    page.goto(f"{base}/console/campaigns")
    page.get_by_role("link", name="Create a campaign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a campaign")
    page.get_by_label("Campaign name").fill("April strike notice")
    page.get_by_label("Disruption").select_option(label="April strike (resident doctors, "
                                                   f"from {utcnow():%d %b %Y})")
    message = page.get_by_label("Message", exact=True)
    message.fill("{trust_name}: your appointment has moved. Reply to choose a new date.")
    count = page.locator("#segment-count")
    expect(count).to_contain_text("1 segment (GSM-7)")
    message.fill("x" * 161)  # past one GSM-7 message: two parts, counted as typed
    expect(count).to_contain_text("161 of 640 characters. As sent: 161 characters, 2 segments")
    message.fill("{trust_name}: your appointment has moved \u2013 reply to choose a new date.")
    expect(count).to_contain_text("replaced with plain ones")
    _screenshot(page, "console-campaign-new.png", tmp_path)
    page.get_by_role("button", name="Create and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview: April strike notice")
    expect(page.get_by_role("heading", name="Call list (1)")).to_be_visible()
    expect(page.get_by_text("No mobile number or email address")).to_be_visible()
    expect(page.locator("#total-segments")).to_have_text(f"{PATIENTS} segments")
    _screenshot(page, "console-campaign-preview.png", tmp_path)
    page.get_by_role("button", name="Send campaign").click()

    expect(page.get_by_role("status").filter(has_text="Campaign sent")).to_be_visible()
    expect(page.locator("#campaign-live[data-live=on]")).to_have_count(1)
    page.evaluate("window.__noReload = true")
    sent = page.locator("#count-sent")
    first = sent.inner_text()
    expect(sent).not_to_have_text(first, timeout=20_000)  # the dispatcher sends; the page sees
    assert page.evaluate("window.__noReload") is True  # without a reload
    _screenshot(page, "console-campaign-status.png", tmp_path)

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status").filter(has_text="Campaign paused")).to_be_visible()
    expect(page.locator("#campaign-status")).to_contain_text("Paused")
    with live_session_factory() as session:
        campaign = session.scalars(select(Campaign)).one()
        assert campaign.status is CampaignStatus.PAUSED

    # Phone width: every campaign page stacks without scrolling sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("", "status"), ("/preview", "preview"), ("/calls", "calls")):
        page.goto(f"{base}/console/campaigns/{campaign.id}{path}")
        assert _fits_a_phone(page), path
        _screenshot(page, f"console-campaign-{name}-phone.png", tmp_path)
    page.goto(f"{base}/console/campaigns/new")
    assert _fits_a_phone(page)
    context.close()
