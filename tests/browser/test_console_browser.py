"""The console in a real browser against the real server and dispatcher (sandbox mode).

A clerk signs in; an urgent handover opened by another process (as the worker's safety screen
would) appears in the queue without a reload; the clerk opens it, replies (the reply reaches the
sandbox outbox through the dispatcher), books a slot and hands the conversation back; a clerk
cannot open the audit log. Set REBOOK_SCREENSHOT_DIR=docs/screenshots to refresh its
screenshots.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.db import utcnow
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.staff.models import Role
from tests.handover.helpers import PASSWORD, Desk
from tests.processes import free_port, process_env, running, wait_http, wait_until

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def stack(live_settings, live_session_factory, tmp_path):
    """api and dispatcher subprocesses over a committed database with a small bookings desk."""
    with live_session_factory() as session:
        desk = Desk(session, prefix="b")
        # Some work already waiting, so the queue looks like a morning's queue.
        early, *_ = desk.patient_case(urgency=Urgency.HIGH, given_name="Priya",
                                      family_name="Shah", text="I can't make the new date")
        early.due_at = utcnow() - timedelta(minutes=40)  # overdue
        desk.patient_case(urgency=Urgency.NORMAL, reason=HandoverReason.COMMUNICATION_NEEDS,
                          given_name="Tom", family_name="Evans",
                          text="My dad needs an interpreter")
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = live_settings.model_copy(update={"public_base_url": base})
    env = process_env(settings, WORKER_POLL_SECONDS="0.05")
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"), \
            running(["dispatcher"], env, tmp_path / "dispatcher.log"):
        wait_http(f"{base}/healthz")
        yield base, desk


def _screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REBOOK_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/queue")


def test_clerk_works_a_new_urgent_handover(browser, stack, live_session_factory, tmp_path):
    from playwright.sync_api import expect

    base, desk = stack
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, "b.clerk")
    expect(page.get_by_role("heading", name="Handover queue")).to_be_visible()
    expect(page.locator("#queue[data-live=on]")).to_have_count(1)  # the event stream is open
    page.evaluate("window.__noReload = true")

    # Another process (the worker's safety screen) opens an urgent handover.
    with live_session_factory() as session:
        desk.session = session
        handover, patient, appointment, conversation = desk.patient_case(
            urgency=Urgency.URGENT, reason=HandoverReason.RED_FLAG, given_name="Margaret",
            family_name="Okafor", text="I have had chest pain since this morning")
        session.commit()
        handover_id, address = handover.id, conversation.address

    row = page.locator(f'tr[data-handover-id="{handover_id}"]')
    expect(row).to_be_visible()
    assert page.evaluate("window.__noReload") is True  # it arrived without a reload
    expect(page.locator("#live-status")).to_contain_text("1 urgent")
    first = page.locator("tr[data-handover-id]").first
    assert first.get_attribute("data-handover-id") == str(handover_id)  # urgent goes first
    expect(page.locator("tr.overdue")).to_have_count(1)
    _screenshot(page, "console-queue.png", tmp_path)

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Red flag")
    expect(page.get_by_text("I have had chest pain since this morning").first).to_be_visible()

    reply = "Hello Margaret, this is the bookings team. Please call 111 now if the pain continues."
    page.get_by_label("Message").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply queued")).to_be_visible()

    def delivered():
        got = httpx.get(f"{base}/sandbox/messages", params={"to": address}, timeout=5).json()
        return [m for m in got if m["body"] == reply and m["status"] == "delivered"]

    assert wait_until(delivered, timeout=20)

    page.get_by_role("button", name=re.compile("Find slots")).first.click()
    expect(page.get_by_role("heading", name="Available slots")).to_be_visible()
    page.get_by_label("Add a note").fill("Safety-net given; patient will call 111.")
    _screenshot(page, "console-conversation.png", tmp_path)
    page.get_by_role("button", name=re.compile("^Book")).first.click()
    expect(page.get_by_role("status").filter(has_text="Appointment booked")).to_be_visible()
    expect(page.get_by_text("rebooked").first).to_be_visible()

    # Only clinicians resolve a red flag: the clerk, who judges it is not one, says why.
    expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    page.get_by_label(re.compile("Not a red flag")).fill("Pain was from a fall last week.")
    page.get_by_role("button", name="Mark not a red flag").click()
    expect(page.get_by_role("status").filter(has_text="Marked not a red flag")).to_be_visible()
    page.get_by_label("Hand back to the assistant").check()
    page.get_by_label("What was done (optional)").fill("Rebooked; safety-net advice given.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text="Handover resolved")).to_be_visible()

    with live_session_factory() as session:
        done = session.scalar(select(Handover).where(Handover.id == handover_id))
        assert done.status is HandoverStatus.RESOLVED and done.resolution == "handed_back"
        assert done.assignee_id == desk.users[Role.CLERK].id

    # A clerk has no audit log: no link, and the page refuses.
    page.goto(f"{base}/console/queue")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    response = page.goto(f"{base}/console/audit")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Only admins can read the audit log.")).to_be_visible()
    context.close()
