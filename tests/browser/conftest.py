"""Browser tests drive Debian's chromium (never a downloaded one) through Playwright."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("REBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")  # closed after its module: it holds an event loop
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (or set REBOOK_CHROMIUM)"
        if os.environ.get("REBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("REBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail("playwright is not installed: pip install -e '.[dev]'")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()
