"""axe-core (from npm, see tests/browser/package.json) injected into a Playwright page.

`make test` installs it with `npm ci`; without it the accessibility tests skip, or fail when
REBOOK_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# The bar: WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require_axe() -> Path:
    """The axe script, or a skip (a failure in CI) saying how to install it."""
    if not AXE_JS.exists():
        message = f"{AXE_JS} is missing: run `make axe` (npm ci in tests/browser)"
        if os.environ.get("REBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE_JS


@functools.cache
def _source() -> str:
    return require_axe().read_text(encoding="utf-8") + "\n;true"


def violations(page) -> list[dict]:
    """axe's violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script> tag (page.add_script_tag): the console's CSP
        # refuses inline scripts, and bypassing the CSP would hide the pages' own CSP faults.
        page.evaluate(_source())
    return page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations)", TAGS)


def describe(found: list[dict]) -> str:
    """One readable line per violation and node: rule, impact, help, where."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"][:8]:
            target = " ".join(" > ".join(t) if isinstance(t, list) else t
                              for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary[:200]}")
    return "\n".join(lines)
