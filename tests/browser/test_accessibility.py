"""Every console page and the sandbox phone, at a laptop's and a phone's width: axe-core finds
no violation (WCAG 2.0/2.1 A and AA, best practices) and nothing scrolls sideways.

Set REBOOK_SCREENSHOT_DIR=docs/screenshots to save a full-page screenshot of each page at
each width.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import axe
from tests.browser.a11y_stack import running_stack

pytestmark = pytest.mark.browser

WIDTHS = {1366: 768, 390: 844}


@dataclass(frozen=True)
class Page:
    name: str  # also the screenshot's name
    path: str  # formatted with the stack's ids: {handover}, {campaign}, {integration_exception}
    status: int = 200
    signed_in: bool = True


# Every page, in ONE list: a new console page adds its line here.
PAGES = [
    Page("console-login", "/console/login", signed_in=False),
    Page("console-queue", "/console/queue"),
    Page("console-handover", "/console/handovers/{handover}"),
    Page("console-handover-find-patient",
         "/console/handovers/{handover}/find-patient?family_name=Nobody&date_of_birth=01/01/1970"),
    Page("console-red-flag-reviews", "/console/red-flag-reviews"),
    Page("console-dashboard", "/console/dashboard"),
    Page("console-campaigns", "/console/campaigns"),
    Page("console-campaign", "/console/campaigns/{campaign}"),
    Page("console-campaign-new", "/console/campaigns/new"),
    Page("console-campaign-preview", "/console/campaigns/{campaign}/preview"),
    Page("console-campaign-calls", "/console/campaigns/{campaign}/calls"),
    Page("console-audit", "/console/audit"),
    Page("console-staff", "/console/staff"),
    Page("console-account", "/console/account"),
    Page("console-integration", "/console/integration"),
    Page("console-integration-exceptions", "/console/integration/exceptions?show=all"),
    Page("console-integration-exception",
         "/console/integration/exceptions/{integration_exception}"),
    Page("console-error", "/console/handovers/999999999", status=404),
    Page("console-not-found", "/console/no-such-page", status=404),  # api/console/error_pages.py
    Page("console-invalid", "/console/handovers/not-a-number", status=422),
    Page("sandbox-phone", "/sandbox", signed_in=False),
]


def _cases():
    for page in PAGES:
        for width in WIDTHS:
            yield pytest.param(page, width, id=f"{page.name}-{width}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from api.schema import upgrade

    folder = tmp_path_factory.mktemp("a11y")
    url = f"sqlite:///{folder / 'a11y.db'}"
    upgrade(database_url=url)
    with running_stack(url, folder) as running:
        yield running


@pytest.fixture(scope="module")
def signed_in_state(browser, stack):
    """The admin's cookies, signed in once for the whole module."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{stack.base}/console/login")
    page.get_by_label("Username").fill(stack.admin)
    page.get_by_label("Password").fill(stack.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{stack.base}/console/queue")
    state = context.storage_state()
    context.close()
    return state


def open_page(browser, stack, state, page_spec: Page, width: int):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]},
                                  storage_state=state if page_spec.signed_in else None)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []  # the console's CSP allows only its own files: an inline script is a fault
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    response = page.goto(stack.base + page_spec.path.format(**stack.ids))
    try:  # let scripts fill the page; a live page (an event stream) may never go quiet
        page.wait_for_load_state("networkidle", timeout=5_000)
    except PlaywrightTimeout:
        pass
    return context, page, response, refused


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("REBOOK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("page_spec", "width"), list(_cases()))
def test_page_is_accessible_and_fits(browser, stack, signed_in_state, page_spec, width):
    axe.require_axe()
    context, page, response, refused = open_page(browser, stack, signed_in_state, page_spec,
                                                 width)
    try:
        assert response.status == page_spec.status
        if page_spec.name == "sandbox-phone":
            page.locator("#thread .bubble").first.wait_for()
        found = axe.violations(page)
        overflow = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        _screenshot(page, f"{page_spec.name}-{width}")
    finally:
        context.close()
    assert not found, f"axe on {page_spec.path} at {width} px:\n{axe.describe(found)}"
    assert overflow[0] <= overflow[1], f"{page_spec.path} scrolls sideways at {width} px: " \
                                       f"{overflow[0]} px wide"
    assert not refused, refused


def test_sandbox_keeps_the_readers_place(browser, stack):
    """Scrolled up to read, the reader stays put through refreshes and new messages."""
    import httpx
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{stack.base}/sandbox")
    bubbles = page.locator("#thread .bubble")
    expect(bubbles).to_have_count(24)
    at_bottom = "t => t.scrollHeight - t.scrollTop - t.clientHeight < 24"
    thread = page.locator("#thread")
    page.wait_for_function(f"({at_bottom})(document.getElementById('thread'))")
    shown_at = re.compile(r"^\w{3} \d{2} \w{3}, \d\d:\d\d$")  # UK time, e.g. Mon 30 Nov, 14:05
    expect(bubbles.first.locator("time")).to_have_text(shown_at)

    thread.evaluate("t => { t.scrollTop = 0; }")
    page.wait_for_timeout(3_500)  # two refresh cycles
    assert thread.evaluate("t => t.scrollTop") == 0

    sent = httpx.post(f"{stack.base}/sandbox/send", timeout=10,
                      json={"mobile": stack.phone, "body": "Is there anything on Friday?"})
    assert sent.status_code == 202
    expect(bubbles).to_have_count(25)
    newest = page.get_by_role("button", name="New messages: show the newest")
    expect(newest).to_be_visible()
    assert thread.evaluate("t => t.scrollTop") == 0  # still reading the top
    newest.click()
    assert thread.evaluate(at_bottom)
    expect(newest).to_be_hidden()
    context.close()
