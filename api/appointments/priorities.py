"""One plain-English vocabulary for appointment priorities, for every screen and command.

The stored values mix the surgical scale (P1a..P4, Royal College of Surgeons) with outpatient
referral types (urgent, suspected cancer, routine). Staff read a label that says what the
priority means, with the surgical code kept in brackets because clinical teams speak in it.
"""

from __future__ import annotations

from api.appointments.models import Priority

# Most urgent first: the order of filters and tables, as the scheduler ranks them
# (api.scheduling.priority.TIER: a routine referral's 18 weeks before P4).
LABELS: dict[Priority, str] = {
    Priority.P1A: "Emergency (P1a)",
    Priority.P1B: "Very urgent (P1b)",
    Priority.SUSPECTED_CANCER: "Suspected cancer",
    Priority.P2: "Urgent (P2)",
    Priority.URGENT: "Urgent referral",
    Priority.P3: "Within 3 months (P3)",
    Priority.ROUTINE: "Routine",
    Priority.P4: "Over 3 months (P4)",
}

# What each means in time, for hints next to a label.
MEANINGS: dict[Priority, str] = {
    Priority.P1A: "within 24 hours",
    Priority.P1B: "within 72 hours",
    Priority.SUSPECTED_CANCER: "first appointment within 2 weeks",
    Priority.P2: "within 4 weeks",
    Priority.URGENT: "urgent outpatient referral",
    Priority.P3: "within 3 months",
    Priority.P4: "can wait over 3 months",
    Priority.ROUTINE: "routine outpatient referral",
}

ORDER: dict[Priority, int] = {priority: rank for rank, priority in enumerate(LABELS)}


def parse(value: Priority | str | None) -> Priority | None:
    """The priority a stored value, enum or label names; None when it names none."""
    if value is None or isinstance(value, Priority):
        return value
    for priority, label in LABELS.items():
        if value in (priority.value, label):
            return priority
    return None


def label(value: Priority | str | None) -> str:
    """"Urgent (P2)" for "P2" or Priority.P2; an unknown value is shown as it is."""
    priority = parse(value)
    if priority is None:
        return "" if value is None else str(value)
    return LABELS[priority]


def choices() -> list[tuple[str, str]]:
    """(stored value, label) pairs, most urgent first: for a filter's options."""
    return [(priority.value, text) for priority, text in LABELS.items()]


def sort_key(value: Priority | str | None) -> int:
    """Most urgent first; unknown values last."""
    priority = parse(value)
    return ORDER[priority] if priority is not None else len(ORDER)
