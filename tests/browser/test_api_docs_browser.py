"""/docs and /redoc render in a real browser with every request beyond the app refused (a
trust network without internet), and no Content-Security-Policy violation on either page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.processes import free_port, process_env, running, wait_http

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def api(live_settings, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = process_env(live_settings.model_copy(update={"public_base_url": base}))
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        wait_http(f"{base}/healthz")
        yield base


def _offline_page(browser):
    """A page that may reach 127.0.0.1 only; what it tried elsewhere and what the CSP refused
    are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    outside, refused = [], []

    def only_local(route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return page, outside, refused


def test_swagger_ui_renders_offline(browser, api):
    from playwright.sync_api import expect

    page, outside, refused = _offline_page(browser)
    page.goto(f"{api}/docs")
    operation = page.locator(".opblock").filter(has_text="/api/v1/disruptions/{disruption_id}")
    expect(operation.first).to_be_visible(timeout=30_000)  # a large schema, on a busy machine
    expect(page.locator(".opblock-summary-path").filter(has_text="/api/v1/clinics").first
           ).to_be_visible()
    operation.first.locator(".opblock-summary").click()  # expand: the documented errors show
    expect(operation.first.locator(".responses-table")).to_contain_text("404")
    assert not outside, outside
    assert not [text for text in refused if REDOCLY_LOGO not in text], refused
    expect(page.locator(f'img[src="{REDOCLY_LOGO}"]')).to_have_count(0)


# ReDoc's sidebar credit is an <img> from cdn.redoc.ly, written into the bundle; the policy
# refuses it (so it never leaves the network) and ReDoc drops the image when it fails to load.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_renders_offline(browser, api):
    from playwright.sync_api import expect

    page, outside, refused = _offline_page(browser)
    page.goto(f"{api}/redoc")
    expect(page.get_by_role("heading", name="Rebook").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("/api/v1/disruptions/{disruption_id}").first).to_be_attached()
    expect(page.locator("[role=search] input, input[placeholder=Search]").first).to_be_visible()
    assert not outside, outside
    assert not [text for text in refused if REDOCLY_LOGO not in text], refused
    expect(page.locator(f'img[src="{REDOCLY_LOGO}"]')).to_have_count(0)
