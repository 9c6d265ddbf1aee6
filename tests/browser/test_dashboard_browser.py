"""The backlog dashboard in a real browser over the seeded demo trust; its charts render."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.demo import service as demo_service
from tests.handover.helpers import PASSWORD, Desk
from tests.processes import free_port, process_env, running, wait_http

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]


def test_manager_sees_the_dashboard_charts(browser, live_settings, live_session_factory,
                                           tmp_path):
    from playwright.sync_api import expect

    with live_session_factory() as session:
        demo_service.seed(session=session, patients=400)
        Desk(session, prefix="m")
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(live_settings.model_copy(update={"public_base_url": base}))
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        wait_http(f"{base}/healthz")
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
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
        expect(page.locator("svg.chart rect")).not_to_have_count(0)
        expect(page.get_by_role("img", name="Appointments by specialty: rebooked, waiting "
                                            "and other")).to_be_visible()
        folder = Path(os.environ.get("REBOOK_SCREENSHOT_DIR") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "console-dashboard.png"), full_page=False)
