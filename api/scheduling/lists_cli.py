"""`rebook disruption list`, `rebook clinic list` and `rebook codes`: what there is, as tables
(times in the trust's time zone) or JSON with --json."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import typer

from api.system import terminal
from api.system.terminal import JsonOption

disruption_app = typer.Typer(help="Disruptions (strikes) and what they postponed.",
                             no_args_is_help=True)
clinic_app = typer.Typer(help="Clinic sessions and theatre lists.", no_args_is_help=True)
SHORT = "%d %b %Y %H:%M"


def _jsonable(rows: list[dict]) -> list[dict]:
    return [{k: terminal.iso(v) if isinstance(v, datetime) else v for k, v in r.items()}
            for r in rows]


@disruption_app.command("list")
def list_disruptions(as_json: bool = JsonOption) -> None:
    """Every disruption, latest first: when, who, where, how many appointments it postponed."""
    from api.db import session_scope
    from api.scheduling import listings

    with session_scope() as session:
        rows = listings.disruptions(session=session)
    if as_json:
        terminal.print_json(_jsonable(rows))
        return
    terminal.table(f"Disruptions ({len(rows)}); times are {terminal.zone_name()} time",
                   ("id", "name", "from", "to", "staff group", "specialties", "sites",
                    "postponed"),
                   [(r["id"], r["name"], terminal.local(r["starts_at"], SHORT),
                     terminal.local(r["ends_at"], SHORT), r["staff_group"],
                     _few(r["specialties"], "specialties"), _few(r["sites"], "sites"),
                     r["postponed"]) for r in rows])


def _few(codes: list[str], what: str) -> str:
    """Up to three codes in words; more as a count (`--json` lists them all)."""
    if not codes:
        return "all"
    return terminal.in_words(codes) if len(codes) <= 3 else f"{len(codes)} {what}"


def _day(text: str | None) -> date:
    from api.system import localtime

    if not text:
        return localtime.local_today()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): '{text}'") from exc


@clinic_app.command("list")
def list_clinics(
    start: str = typer.Option(None, "--from", metavar="DATE",
                              help="First day, YYYY-MM-DD (default: today)"),
    days: int = typer.Option(14, metavar="DAYS", help="How many days from --from"),
    site: list[str] = terminal.SiteFilter,
    specialty: list[str] = terminal.SpecialtyFilter,
    free_only: bool = typer.Option(False, "--free-only", help="Only sessions with free slots"),
    as_json: bool = JsonOption,
) -> None:
    """Clinic sessions with their site, specialty, date and free slots (see `rebook codes`)."""
    from api.db import session_scope
    from api.scheduling import listings
    from api.system import localtime

    first, site, specialty = _day(start), site or [], specialty or []
    with session_scope() as session:
        terminal.check_all("site", site, listings.site_names(session=session))
        terminal.check_all("specialty", specialty, listings.specialty_names(session=session))
        rows = listings.clinic_sessions(
            session=session, starting=localtime.local_midnight(first),
            until=localtime.local_midnight(first + timedelta(days=max(days, 1))),
            site_codes=site, specialty_codes=specialty)
    rows = [r for r in rows if r["free"] or not free_only]
    if as_json:
        terminal.print_json(_jsonable(rows))
        return
    terminal.table(
        f"Clinic sessions from {first:%a %d %b %Y}, {days} days ({len(rows)}); "
        f"{terminal.zone_name()} time",
        ("id", "when", "site", "specialty", "where", "free slots"),
        [(r["id"], f"{terminal.local(r['starts_at'], '%a %d %b %H:%M')}-"
                   f"{terminal.local(r['ends_at'], '%H:%M')}",
          r["site"], r["specialty"], r["location"], f"{r['free']} of {r['slots']}")
         for r in rows], caption="specialty and site codes: rebook codes")


def codes(as_json: bool = JsonOption) -> None:
    """Specialty and site codes, priority and pathway values, with what they mean."""
    from api.db import session_scope
    from api.scheduling import listings

    with session_scope() as session:
        found = listings.codes(session=session)
    if as_json:
        terminal.print_json(found)
        return
    terminal.table("Specialties (--specialty)", ("code", "name", "surgical"),
                   [(s["code"], s["name"], "yes" if s["surgical"] else "no")
                    for s in found["specialties"]])
    terminal.table("Sites (--site)", ("code", "name", "postcode"),
                   [(s["code"], s["name"], s["postcode"]) for s in found["sites"]])
    terminal.table("Priorities (--priority, --keep-priority)", ("value", "meaning"),
                   [(p["value"], p["label"]) for p in found["priorities"]])
    terminal.table("Pathways (--keep-pathway)", ("value", "meaning"),
                   [(p["value"], p["label"]) for p in found["pathways"]])
