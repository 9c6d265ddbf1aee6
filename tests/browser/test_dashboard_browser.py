"""The backlog dashboard in a real browser over the seeded demo trust: its charts render, stay
legible on a phone, and every number it shows equals an independent computation from the
records (tests/reporting/independent.py: plain loops over the stored rows)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.appointments import service as appointments_service
from api.appointments.models import Appointment, AppointmentStatus
from api.campaigns.models import Campaign, CampaignRecipient, RecipientRoute
from api.db import utcnow
from api.demo import service as demo_service
from api.handover.models import Handover, HandoverReason, HandoverStatus, Urgency
from api.messaging.models import Channel, Direction, Message, MessageCategory, MessageStatus
from api.patients.models import Patient
from api.scheduling.models import Slot, SlotStatus
from tests.handover.helpers import PASSWORD, Desk
from tests.processes import free_port, process_env, running, wait_http
from tests.reporting import independent

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]


def _activity(session, disruption_id: int, desk: Desk) -> None:
    """A morning's work on the demo strike, with each edge case of the figures: rebooked after
    the message, before it (phoned in), never messaged (opted out); open, overdue, resolved
    and unidentified handovers."""
    now = utcnow()
    waiting = list(session.scalars(select(Appointment).where(
        Appointment.disruption_id == disruption_id).order_by(Appointment.id).limit(12)))
    free = list(session.scalars(select(Slot).where(Slot.status == SlotStatus.FREE,
                                                   Slot.start_at > now).limit(12)))
    campaign = Campaign(name="Strike notice", disruption_id=disruption_id, sms_template="x")
    session.add(campaign)
    session.flush()
    told = now - timedelta(hours=30)
    for i, appointment in enumerate(waiting[:8]):
        patient = session.get(Patient, appointment.patient_id)
        status = [MessageStatus.DELIVERED, MessageStatus.SENT, MessageStatus.FAILED][i % 3]
        message = Message(direction=Direction.OUTBOUND, channel=Channel.SMS, from_address="x",
                          to_address=patient.mobile or "+447700900001", body="moved",
                          status=status, category=MessageCategory.NOTIFICATION,
                          sent_at=told + timedelta(minutes=i))
        session.add(message)
        session.flush()
        session.add(CampaignRecipient(campaign_id=campaign.id, patient_id=patient.id,
                                      route=RecipientRoute.SMS, address=message.to_address,
                                      message_id=message.id, queued_at=told,
                                      replied_at=now if i % 2 else None))
    session.get(Patient, waiting[9].patient_id).opted_out = True
    # (index, actor, hours after the first message): 0 and 1 after it, 3 before it (by phone),
    # 9 never messaged (opted out).
    for index, actor, hours in ((0, "assistant", 3), (1, "staff:1", 20), (3, "staff:1", -5),
                                (9, desk.users_actor, 2)):
        appointment = waiting[index]
        appointments_service.change_status(session=session, appointment=appointment,
                                           to_status=AppointmentStatus.REBOOKED,
                                           reason="test", actor=actor)
        appointment.slot_id = free[index].id
        session.flush()
        appointment.history[-1].occurred_at = told + timedelta(hours=hours)
    for patient_id, status, due in ((waiting[2].patient_id, HandoverStatus.OPEN, -2),
                                    (waiting[4].patient_id, HandoverStatus.RESOLVED, 3),
                                    (None, HandoverStatus.OPEN, 5),
                                    (None, HandoverStatus.OPEN, -3)):
        session.add(Handover(patient_id=patient_id, status=status, created_by="assistant",
                             reason=HandoverReason.ASKED_FOR_PERSON, urgency=Urgency.HIGH,
                             due_at=now + timedelta(hours=due),
                             resolved_at=now if status is HandoverStatus.RESOLVED else None))


def _kpi(page, words: str) -> tuple[str, str]:
    item = page.locator(".kpis li", has_text=words)
    return item.locator(".kpi-value").inner_text().strip(), item.inner_text()


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _check_figures(page, expected: dict) -> None:
    assert _kpi(page, "appointments postponed")[0] == str(expected["postponed"])
    assert _kpi(page, "still waiting")[0] == str(expected["waiting"])
    rate = expected["self_service_rate"]
    assert _kpi(page, "of rebookings made by the assistant")[0] == (
        f"{int(rate * 100)}%" if rate is not None else "-")
    value, text = _kpi(page, "median hours from first message")
    median = expected["median_hours_to_rebook"]
    assert value == (str(median) if median is not None else "-")
    note = text.split("Over ", 1)[1]
    assert _numbers(note) == [expected["rebooked_timed"], expected["rebooked_before_notified"],
                              expected["rebooked_not_notified"]]
    value, text = _kpi(page, "open handovers in the queue")
    assert value == str(expected["handover_queue"])
    assert _numbers(text.split("queue", 1)[1])[:2] == [expected["handover_queue_overdue"],
                                                       expected["handover_queue_disruption"]]
    assert _kpi(page, "handovers missed their due time")[0] == str(
        expected["handover_sla_breaches"])
    assert _kpi(page, "phone calls avoided")[0] == str(expected["calls_avoided_estimate"])
    assert _kpi(page, "miss their RTT or cancer target")[0] == str(expected["breaching"])
    funnel = page.get_by_role("img", name=re.compile("^Funnel"))
    values = [int(t) for t in funnel.locator(".chart-value").all_text_contents()]
    assert values == [expected[k] for k in (
        "postponed", "patients", "notified", "delivered", "replied", "rebooked_by_assistant",
        "rebooked_by_staff", "waiting")]
    shown = page.locator(".pager p").inner_text()
    assert f"of {expected['breaching']} appointments" in shown


def _check_phone(page) -> None:
    """At 390 px the charts fit the screen and no label is cut off."""
    boxes = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
        const box = svg.getBoundingClientRect();
        return {right: box.right, left: box.left, texts: [...svg.querySelectorAll('text')].map(
            t => { const b = t.getBoundingClientRect();
                   const scale = box.width / svg.viewBox.baseVal.width;
                   return {left: b.left, right: b.right,
                           size: parseFloat(getComputedStyle(t).fontSize) * scale}; })};
    })""")
    assert boxes
    for chart in boxes:
        assert chart["left"] >= 0 and chart["right"] <= 390
        for text in chart["texts"]:
            assert chart["left"] - 0.5 <= text["left"] and text["right"] <= chart["right"] + 0.5
            assert text["size"] >= 11  # legible: at least 11 px on screen


def test_dashboard_numbers_equal_an_independent_computation(browser, live_settings,
                                                            live_session_factory, tmp_path):
    from playwright.sync_api import expect

    with live_session_factory() as session:
        seeded = demo_service.seed(session=session, patients=400)
        desk = Desk(session, prefix="m")
        desk.users_actor = next(iter(desk.users.values())).audit_actor
        _activity(session, seeded.disruption_id, desk)
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(live_settings.model_copy(update={"public_base_url": base}))
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        wait_http(f"{base}/healthz")
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/console/login?next=/console/dashboard")
        page.get_by_label("Username").fill("m.clerk")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/console/dashboard")
        expect(page.get_by_role("heading", name="Backlog dashboard")).to_be_visible()
        funnel = page.get_by_role("img", name="Funnel: postponed, notified, delivered, replied, "
                                              "rebooked, waiting")
        expect(funnel).to_be_visible()
        assert funnel.bounding_box()["height"] > 100  # drawn, not an empty box
        expect(page.get_by_role("img", name="Appointments by specialty: rebooked, waiting "
                                            "and other")).to_be_visible()
        with live_session_factory() as session:
            now = utcnow()
            expected = independent.figures(session, seeded.disruption_id, now.date(), now)
        assert expected["rebooked_timed"] and expected["rebooked_before_notified"]
        _check_figures(page, expected)
        folder = Path(os.environ.get("REBOOK_SCREENSHOT_DIR") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "console-dashboard.png"), full_page=False)

        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        _check_phone(page)
        page.screenshot(path=str(folder / "console-dashboard-phone.png"), full_page=True)
        if os.environ.get("REBOOK_SCREENSHOT_DIR"):
            page.locator("svg.chart").nth(1).screenshot(
                path=str(folder / "console-dashboard-phone-chart.png"))
            page.locator("#breaches").screenshot(
                path=str(folder / "console-dashboard-phone-breaches.png"))
        context.close()
