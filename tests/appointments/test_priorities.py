"""One plain-English priority vocabulary: every stored value has a label, most urgent first."""

from api.appointments import priorities
from api.appointments.models import Priority


def test_every_priority_has_one_label_and_meaning():
    assert set(priorities.LABELS) == set(Priority) == set(priorities.MEANINGS)
    assert len(set(priorities.LABELS.values())) == len(Priority)  # no two read the same


def test_labels_from_values_enums_and_labels():
    assert priorities.label("P2") == priorities.label(Priority.P2) == "Urgent (P2)"
    assert priorities.label("suspected_cancer") == "Suspected cancer"
    assert priorities.label("routine") == "Routine"
    assert priorities.parse("Urgent (P2)") is Priority.P2
    assert priorities.label("P9") == "P9" and priorities.label(None) == ""


def test_most_urgent_first():
    ordered = sorted(["routine", "P2", "P1a", "suspected_cancer", "P4"], key=priorities.sort_key)
    assert ordered == ["P1a", "suspected_cancer", "P2", "routine", "P4"]
    assert priorities.choices()[0] == ("P1a", "Emergency (P1a)")


def test_the_order_is_the_schedulers():
    from api.scheduling.priority import TIER

    tiers = [TIER[p] for p in priorities.LABELS]
    assert tiers == sorted(tiers)
