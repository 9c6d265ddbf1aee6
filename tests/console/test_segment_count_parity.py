"""The create form's live segment count (campaigns.js, run here under node) gives what the
server gives: the same text as sent (placeholders filled, folded to GSM-7) and the same number
of SMS segments, GSM-7 and UCS-2 alike."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from api.campaigns import content
from api.config import get_settings
from api.messaging import render

SCRIPT = Path(__file__).resolve().parents[2] / "api" / "console" / "static" / "campaigns.js"
CASES = [
    "{trust_name}: your appointment has moved \u201cnow\u201d \u2013 caf\u00e9 \u2026 \U0001F600",
    "x" * 161, "\u20ac" * 80, "\u00e9" * 200, "a  b\u00a0\u00a0c", "{{literal}} {bookings_phone}",
    "\u03a9mega \u00df \u00fc \u00f1 \u00e7 \u00c7 \u00d8\u00f8", "\U0001F600" * 40,
    "\u65e5\u672c\u8a9e", "tab\there", "  spaces  ", "a" * 306 + "b",
]
RUNNER = """
const t = require(process.argv[1]);
const [cases, values] = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(c => {
  const body = t.toGsm7(t.fill(c, values));
  return [body, t.segments(body).count, t.segments(c).count];
})));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_live_count_matches_the_server():
    settings = get_settings()
    values = {"trust_name": settings.trust_name, "bookings_phone": settings.bookings_phone}
    got = subprocess.run(["node", "-e", RUNNER, str(SCRIPT)], input=json.dumps([CASES, values]),
                         capture_output=True, text=True, check=True, timeout=30)
    expected = []
    for case in CASES:
        content.check_template(case)
        body = render.render_sms(content.render(case, settings=settings))
        expected.append([body, render.sms_segments(body), render.sms_segments(case)])
    assert json.loads(got.stdout) == expected
