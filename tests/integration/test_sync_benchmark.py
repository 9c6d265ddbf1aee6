"""The PAS load benchmark at a tiny size: every adapter loads the whole synthetic trust (the
full size is run by hand: benchmarks/integration_sync.py)."""

from __future__ import annotations

import re

from benchmarks import integration_sync


def test_every_adapter_loads_the_whole_trust_and_a_cancel_lag_is_measured(capsys):
    code = integration_sync.main(["--appointments", "260", "--slots", "600", "--cancels", "3"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(
        r"│\s+(csv|fhir|hl7)\s+│[^│]+│[^│]+│[^│]+│[^│]+│\s+([\d,]+)\s+│\s+([\d,]+)\s+│\s+([\d,]+)",
        printed)}
    assert set(rows) == {"csv", "fhir", "hl7"}, printed
    assert rows["csv"] == rows["fhir"] == ("200", "260", "600")  # patients, appointments, slots
    assert rows["hl7"][:2] == ("200", "260")  # no capacity in HL7: booked slots only
    assert "SIU^S15 to withdrawn offers (3 cancels)" in printed
