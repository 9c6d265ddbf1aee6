"""The queue's filters in a real browser: a filtered view stays filtered when the live update
brings new handovers, and the filter form fits a phone's width."""

from __future__ import annotations

import pytest

from api.handover.models import HandoverReason, Urgency
from tests.browser.test_console_browser import _sign_in, stack  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]


def test_the_live_update_keeps_the_filters(browser, stack, live_session_factory):  # noqa: F811
    from playwright.sync_api import expect

    base, desk = stack
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, base, "b.clerk")
    page.get_by_label("Urgent").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(f"{base}/console/queue?*urgent=1*")
    expect(page.locator("#queue[data-live=on]")).to_have_count(1)
    expect(page.locator("tr[data-handover-id]")).to_have_count(0)
    page.evaluate("window.__noReload = true")

    with live_session_factory() as session:
        desk.session = session
        routine, *_ = desk.patient_case(urgency=Urgency.NORMAL, text="can I change my time")
        flagged, *_ = desk.patient_case(urgency=Urgency.URGENT, reason=HandoverReason.RED_FLAG,
                                        text="my chest hurts and I feel faint")
        session.commit()
        routine_id, flagged_id = routine.id, flagged.id

    row = page.locator(f'tr[data-handover-id="{flagged_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".tag-red-flag")).to_contain_text("Red flag")
    expect(row).to_contain_text("my chest hurts and I feel faint")
    expect(page.locator(f'tr[data-handover-id="{routine_id}"]')).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
    # The filter form fits a phone (the stacked table rows are the responsive CSS's concern).
    form = page.locator("form.queue-filters")
    assert form.bounding_box()["x"] + form.bounding_box()["width"] <= 390
    assert form.evaluate("f => f.scrollWidth <= f.clientWidth")
    context.close()
