"""The sandbox phone's call mode in a real browser against the real server (sandbox mode): a
demo patient calls the line, keys their date of birth on the keypad, presses 0 for a person
and, with no bookings number set, is promised a call-back and the call ends. axe finds no
violation in the call mode.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import axe
from tests.factories import make_patient
from tests.processes import free_port, process_env, running, wait_http

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)]
MOBILE = "+447700900001"


@pytest.fixture
def base(live_settings, live_session_factory, tmp_path):
    """The api in a subprocess over a committed database with one demo patient."""
    with live_session_factory() as session:
        make_patient(session, mobile=MOBILE)
        session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = live_settings.model_copy(update={"public_base_url": base})
    env = process_env(settings, VOICE_BOOKINGS_NUMBER="", VOICE_CLINICAL_NUMBER="")
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        wait_http(f"{base}/healthz")
        yield base


def _screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("REBOOK_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _key(page, digits: str) -> None:
    keypad = page.get_by_role("group", name="Keypad")
    for digit in digits:
        keypad.get_by_role("button", name=digit, exact=True).click()


def test_a_demo_patient_calls_keys_their_birthday_and_asks_for_a_person(browser, base,
                                                                         tmp_path):
    from playwright.sync_api import expect

    axe.require_axe()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []  # the page's CSP allows only its own files: an inline script is a fault
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto(f"{base}/sandbox")
    page.get_by_label("Demo patient").select_option(MOBILE)
    page.get_by_role("radio", name="Call").check()
    expect(page.get_by_role("heading", name="Phone call")).to_be_visible()
    expect(page.get_by_role("heading", name="Messages")).to_be_hidden()

    page.get_by_role("button", name="Call the line").click()
    transcript = page.get_by_role("log", name="Call transcript")
    expect(transcript).to_contain_text("date of birth")
    expect(transcript).to_contain_text("999")
    expect(page.get_by_text("The line expects 8 keys.")).to_be_visible()

    _key(page, "03071958")
    expect(page.get_by_label("Keyed")).to_have_value("03071958")
    page.get_by_role("button", name="Send keys").click()
    expect(transcript).to_contain_text("How can I help")
    expect(page.get_by_label("Keyed")).to_have_value("")
    expect(transcript.locator(".from-you")).to_contain_text("Pressed 0 3 0 7 1 9 5 8")

    found = axe.violations(page)  # a call in progress: transcript, keypad, all enabled
    assert not found, f"axe on the call mode:\n{axe.describe(found)}"
    _screenshot(page, "sandbox-call.png", tmp_path)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing scrolls sideways
    found = axe.violations(page)
    assert not found, f"axe on the call mode at 390 px:\n{axe.describe(found)}"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the call mode scrolls sideways at 390 px: {width}"
    page.set_viewport_size({"width": 1280, "height": 900})

    _key(page, "0")
    page.get_by_role("button", name="Send keys").click()
    expect(transcript).to_contain_text("call you back")
    expect(page.get_by_role("status")).to_have_text("Call ended.")
    expect(page.get_by_role("button", name="Send keys")).to_be_disabled()
    expect(page.get_by_role("button", name="Hang up")).to_be_disabled()
    expect(page.get_by_role("button", name="Say")).to_be_disabled()
    expect(page.get_by_role("button", name="Call the line")).to_be_enabled()
    expect(page.get_by_role("button", name="Call the line")).to_be_focused()

    found = axe.violations(page)  # the call over: inputs disabled
    context.close()
    assert not found, f"axe on the ended call:\n{axe.describe(found)}"
    assert not refused, refused
