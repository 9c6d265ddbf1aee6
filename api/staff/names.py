"""Who did it, in words: audit actors ("staff:2", "assistant", "cli:ops") as people read them.

The audit log stores the actor as a short code so it survives renames and deactivations; every
screen that shows one asks here for the name, in one query per page.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.staff.models import StaffUser

STAFF_PREFIX = "staff:"

# Actors that are not people, in words.
SYSTEM_ACTORS = {
    "assistant": "The assistant",
    "system": "The system",
    "patient": "The patient",
    "safety_screen": "The safety screen",
    "scheduler": "The scheduler",
    "worker": "The message worker",
    "cli": "A server command",
}


def staff_id(actor: str | None) -> int | None:
    """The staff user id in "staff:<id>", else None."""
    if actor and actor.startswith(STAFF_PREFIX) and actor[len(STAFF_PREFIX):].isdigit():
        return int(actor[len(STAFF_PREFIX):])
    return None


def display_names(*, session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Each actor's name as a screen shows it (one query for all the staff among them)."""
    actors = {a for a in actors if a}
    ids = {i for i in map(staff_id, actors) if i is not None}
    staff = dict(session.execute(select(StaffUser.id, StaffUser.display_name)
                                 .where(StaffUser.id.in_(ids))).all()) if ids else {}
    return {actor: describe(actor, staff) for actor in actors}


def describe(actor: str, staff: dict[int, str]) -> str:
    """One actor in words, given staff display names by id."""
    user_id = staff_id(actor)
    if user_id is not None:
        # A deleted account keeps its number: the log must still say someone acted.
        return staff.get(user_id) or f"Staff member #{user_id} (no longer on record)"
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    if actor.startswith("cli:"):
        return f"Server command run by {actor[4:]}"
    return actor.replace("_", " ").capitalize()


def staff_choices(*, session: Session) -> list[tuple[str, str]]:
    """(actor code, display name) for every staff member, by name: for a "who" filter."""
    return [(f"{STAFF_PREFIX}{user_id}", name) for user_id, name in session.execute(
        select(StaffUser.id, StaffUser.display_name).order_by(StaffUser.display_name,
                                                              StaffUser.id))]
