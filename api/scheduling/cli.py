"""`rebook schedule ...`: disruptions, short-notice capacity and the backlog plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from api.appointments import priorities
from api.appointments.models import Pathway, Priority
from api.reference.models import AppointmentType
from api.scheduling.models import SessionKind
from api.system import localtime, terminal

app = typer.Typer(help="The rescheduling engine: disruptions, capacity, offers, plans.",
                  no_args_is_help=True)
err = Console(stderr=True)
out = Console()
ACTOR = "cli"


def _when(text: str) -> datetime:
    """An ISO date-time; without an offset it is Europe/London wall-clock time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date-time: {text!r}") from exc
    return localtime.assume_local(value).astimezone(UTC)


@contextmanager
def _session(commit: bool = True) -> Iterator:
    """A session on DATABASE_URL; a refused request prints why and exits 2, changing nothing."""
    from api.appointments.service import InvalidTransition
    from api.db import get_sessionmaker
    from api.scheduling.errors import SchedulingError

    session = get_sessionmaker()()
    try:
        yield session
        if commit:
            session.commit()
        else:
            session.rollback()
    except (SchedulingError, InvalidTransition) as exc:
        session.rollback()
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    finally:
        session.close()


def _check_codes(session, *, site: list[str], specialty: list[str],
                 clinician: list[str] = ()) -> None:
    """Unknown codes are refused naming the valid ones."""
    from api.scheduling import listings

    terminal.check_all("site", site, listings.site_names(session=session))
    terminal.check_all("specialty", specialty, listings.specialty_names(session=session))
    if clinician:
        terminal.check_all("clinician", clinician, listings.clinician_names(session=session))


def _rules(keep_priority: list[str] | None, keep_pathway: list[str] | None,
           keep: list[int] | None, postpone: list[int] | None, block_free: bool):
    from api.scheduling.disruptions import (
        DEFAULT_KEEP_PATHWAYS,
        DEFAULT_KEEP_PRIORITIES,
        PostponementRules,
    )

    priorities = ({Priority(p) for p in terminal.check_all(
        "priority", keep_priority, (v.value for v in Priority))}
        if keep_priority is not None else DEFAULT_KEEP_PRIORITIES)
    pathways = ({Pathway(p) for p in terminal.check_all(
        "pathway", keep_pathway, (v.value for v in Pathway))}
        if keep_pathway is not None else DEFAULT_KEEP_PATHWAYS)
    return PostponementRules(keep_priorities=frozenset(priorities),
                             keep_pathways=frozenset(pathways),
                             keep_appointment_ids=frozenset(keep or ()),
                             postpone_appointment_ids=frozenset(postpone or ()),
                             block_free_slots=block_free)


def _print_decisions(decisions, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([{
            "appointment_id": d.appointment_id, "start_at": d.start_at.isoformat(),
            "priority": d.priority.value, "postpone": d.postpone, "why": d.why}
            for d in decisions], indent=1))
        return
    table = Table("appointment", f"when ({terminal.zone_name()} time)", "priority", "decision")
    for d in decisions:
        table.add_row(str(d.appointment_id), terminal.local(d.start_at, "%a %d %b %Y %H:%M"),
                      priorities.label(d.priority), d.why)
    out.print(table)
    postpone = sum(d.postpone for d in decisions)
    err.print(f"{len(decisions)} affected: {postpone} to postpone, {len(decisions) - postpone} "
              "to keep")


KeepPriority = typer.Option(None, "--keep-priority", metavar="PRIORITY",
                            help="Priorities that go ahead (repeat; default P1a, P1b, "
                                 "suspected_cancer; see `rebook codes`)")
KeepPathway = typer.Option(None, "--keep-pathway", metavar="PATHWAY",
                           help="Pathways that go ahead (repeat; default cancer_fds, cancer_62)")
KeepIds = typer.Option(None, "--keep", metavar="ID",
                       help="Appointment id to keep whatever its priority")
PostponeIds = typer.Option(None, "--postpone", metavar="ID",
                           help="Appointment id to postpone regardless")
SpecialtyCodes = typer.Option(None, "--specialty", metavar="CODE",
                              help="Specialty code (repeat; none: all; see `rebook codes`)")
SiteCodes = typer.Option(None, "--site", metavar="CODE",
                         help="Site code (repeat; none means all)")
When = "ISO date-time, e.g. 2027-01-12T07:00; London time if no offset"
DisruptionId = typer.Option(..., "--disruption", metavar="ID",
                            help="Disruption id (see `rebook disruption list`)")
NoticeHours = typer.Option(48, metavar="HOURS",
                           help="Offer no slot sooner than this many hours from now")
ClinicId = typer.Option(..., "--clinic", metavar="ID",
                        help="Clinic session id (see `rebook clinic list`)")
KindOption = typer.Option(SessionKind.CLINIC, help="clinic or theatre_list")
TypeOption = typer.Option(AppointmentType.OUTPATIENT, "--type", help="Slot type")


@app.command("disrupt")
def disrupt(
    name: str = typer.Option(..., help="e.g. 'Resident doctors strike, January'"),
    starts: str = typer.Option(..., metavar="WHEN", help=When),
    ends: str = typer.Option(..., metavar="WHEN", help=When),
    staff_group: str = typer.Option(..., help="e.g. 'resident doctors'"),
    specialty: list[str] = SpecialtyCodes,
    site: list[str] = SiteCodes,
    reason: str = typer.Option("industrial action"),
    keep_priority: list[str] = KeepPriority,
    keep_pathway: list[str] = KeepPathway,
    keep: list[int] = KeepIds,
    postpone: list[int] = PostponeIds,
    block_free: bool = typer.Option(True, help="Withdraw the disrupted sessions' free slots"),
    preview: bool = typer.Option(False, "--preview", help="Show what would happen; change nothing"),
    as_json: bool = terminal.JsonOption,
) -> None:
    """Declare a disruption and postpone what it affects (or --preview it)."""
    from api.scheduling import service as scheduling_service

    rules = _rules(keep_priority, keep_pathway, keep, postpone, block_free)
    with _session(commit=not preview) as session:
        _check_codes(session, site=site or [], specialty=specialty or [])
        disruption = scheduling_service.declare_disruption(
            session=session, name=name, starts_at=_when(starts), ends_at=_when(ends),
            staff_group=staff_group, specialty_codes=specialty or [], site_codes=site or [],
            reason=reason)
        if preview:
            _print_decisions(scheduling_service.preview_disruption(
                session=session, disruption_id=disruption.id, rules=rules), as_json)
            err.print("[yellow]preview only: nothing was saved[/yellow]")
            return
        result = scheduling_service.postpone_disruption(
            session=session, disruption_id=disruption.id, rules=rules, actor=ACTOR)
    err.print(f"[green]disruption {result.disruption_id}[/green]: {result.postponed} postponed, "
              f"{result.kept} kept, {result.slots_blocked} slots withdrawn, "
              f"{result.offers_withdrawn} open offers withdrawn")
    if as_json:
        typer.echo(json.dumps(result.__dict__))


@app.command("postpone")
def postpone_existing(
    disruption: int = DisruptionId,
    keep_priority: list[str] = KeepPriority,
    keep_pathway: list[str] = KeepPathway,
    keep: list[int] = KeepIds,
    postpone: list[int] = PostponeIds,
    block_free: bool = typer.Option(True, help="Withdraw the disrupted sessions' free slots"),
    preview: bool = typer.Option(False, "--preview", help="Show what would happen; change nothing"),
    as_json: bool = terminal.JsonOption,
) -> None:
    """Preview or postpone the appointments an existing disruption affects."""
    from api.scheduling import service as scheduling_service

    rules = _rules(keep_priority, keep_pathway, keep, postpone, block_free)
    with _session(commit=not preview) as session:
        if preview:
            _print_decisions(scheduling_service.preview_disruption(
                session=session, disruption_id=disruption, rules=rules), as_json)
            return
        result = scheduling_service.postpone_disruption(
            session=session, disruption_id=disruption, rules=rules, actor=ACTOR)
    err.print(f"[green]disruption {disruption}[/green]: {result.postponed} postponed, "
              f"{result.kept} kept, {result.slots_blocked} slots withdrawn")


@app.command("add-clinic")
def add_clinic(
    site: str = typer.Option(..., metavar="CODE", help="Site code (see `rebook codes`)"),
    specialty: str = typer.Option(..., metavar="CODE", help="Specialty code"),
    location: str = typer.Option(..., help="Room or theatre, e.g. 'Outpatients B'"),
    starts: str = typer.Option(..., metavar="WHEN", help=When),
    slots: int = typer.Option(10, help="How many slots (clinics)"),
    minutes: int = typer.Option(20, help="Minutes per slot (clinics)"),
    cases: str = typer.Option("", metavar="MINUTES",
                              help="Theatre list case lengths, e.g. '90,120,60'"),
    clinician: str = typer.Option(None, metavar="CODE", help="Clinician code"),
    kind: SessionKind = KindOption,
    appointment_type: AppointmentType = TypeOption,
    as_json: bool = terminal.JsonOption,
) -> None:
    """Add a short-notice clinic or theatre list (slots start free)."""
    from api.scheduling import service as scheduling_service

    try:
        lengths = [int(c) for c in cases.split(",") if c.strip()] if cases else [minutes] * slots
    except ValueError as exc:
        raise typer.BadParameter("--cases takes whole minutes separated by commas") from exc
    with _session() as session:
        _check_codes(session, site=[site], specialty=[specialty],
                     clinician=[clinician] if clinician else [])
        clinic = scheduling_service.add_clinic(
            session=session, site_code=site, specialty_code=specialty, location=location,
            starts_at=_when(starts), slot_minutes=lengths, kind=kind,
            appointment_type=appointment_type, clinician_code=clinician)
        clinic_id, ends_at = clinic.id, clinic.ends_at
    err.print(f"[green]clinic session {clinic_id}[/green]: {len(lengths)} slots until "
              f"{terminal.local(ends_at, '%H:%M')} ({terminal.zone_name()} time); "
              f"next: rebook schedule propose --clinic {clinic_id}")
    if as_json:
        typer.echo(json.dumps({"id": clinic_id, "slots": len(lengths)}))


@app.command("propose")
def propose(clinic: int = ClinicId,
            min_notice_hours: int = NoticeHours) -> None:
    """Show who each slot of a new session would be offered to, in priority order."""
    from api.scheduling import service as scheduling_service

    with _session(commit=False) as session:
        proposals = scheduling_service.propose(session=session, clinic_session_id=clinic,
                                               min_notice=timedelta(hours=min_notice_hours))
        table = Table("slot", f"when ({terminal.zone_name()} time)", "appointment", "why")
        for p in proposals:
            table.add_row(str(p.slot_id), terminal.local(p.start_at, "%a %d %b %H:%M"),
                          str(p.appointment_id), p.reasons)
        out.print(table)


@app.command("approve")
def approve(clinic: int = ClinicId,
            hold_hours: int = typer.Option(24, metavar="HOURS",
                                           help="How long each offer holds its slot"),
            min_notice_hours: int = NoticeHours) -> None:
    """Offer each slot of a new session to its proposed patient; declines cascade."""
    from api.scheduling import capacity

    with _session() as session:
        offers = capacity.approve(session=session, clinic_session_id=clinic, actor=ACTOR,
                                  hold_hours=hold_hours,
                                  min_notice=timedelta(hours=min_notice_hours))
        count = len(offers)
    err.print(f"[green]{count} offers sent[/green] (held {hold_hours} h each)")


PLAN_NAMES = {"greedy": "quick", "solver": "optimised"}


@app.command("plan")
def plan(
    disruption: int = DisruptionId,
    method: str = typer.Option("both", metavar="greedy|solver|both",
                               help="The quick plan (greedy), the best plan (solver) or both"),
    solver_limit: float = typer.Option(120.0, metavar="SECONDS",
                                       help="Seconds the solver may take"),
    apply: bool = typer.Option(False, "--apply",
                               help="Send the plan as 24-hour offers (the solver's if it "
                                    "finished, else greedy's)"),
    as_json: bool = terminal.JsonOption,
) -> None:
    """Plan the disruption's whole postponed backlog into free slots: who is placed, who is
    seen after their target date, and by how many days (the greedy and the optimised plan)."""
    from api.scheduling import planning

    if method not in ("greedy", "solver", "both"):
        raise typer.BadParameter("--method is greedy, solver or both")
    with _session(commit=apply) as session:
        problem = planning.load_problem(session=session, disruption_id=disruption)
        plans = []
        if method in ("greedy", "both"):
            plans.append(planning.greedy(problem))
        if method in ("solver", "both"):
            plans.append(planning.solver(problem, time_limit=solver_limit))
        sent = 0
        if apply:
            # The solver's plan when it finished (it is optimal), otherwise greedy's.
            chosen = next((p for p in reversed(plans) if p.finished), plans[0])
            sent = planning.apply_plan(session=session, plan=chosen, actor=ACTOR)
    rows = [{"method": p.method, "seconds": round(p.seconds, 3), "objective": p.objective,
             "breaches": p.breaches, "breach_days": p.breach_days, "unassigned": p.unassigned,
             "finished": p.finished, "assigned": len(p.assignment)} for p in plans]
    if as_json:
        typer.echo(json.dumps({"postponed": len(problem.needs), "slots": len(problem.openings),
                               "plans": rows, "offers_sent": sent}))
        return
    table = Table("plan", "patients placed", "not placed", "seen after their target",
                  "days past targets (total)", "took", title=f"{len(problem.needs):,} postponed "
                  f"appointments, {len(problem.openings):,} free slots",
                  caption="quick: waiting-list order, earliest slot; optimised: fewest days "
                          "past target, most urgent first")
    for r in rows:
        table.add_row(PLAN_NAMES.get(r["method"], r["method"]), f"{r['assigned']:,}",
                      f"{r['unassigned']:,}", f"{r['breaches']:,}", f"{r['breach_days']:,}",
                      f"{r['seconds']:.1f} s" + ("" if r["finished"] else " (time limit: "
                                                 "not the best possible)"))
    out.print(table)
    if apply:
        err.print(f"[green]{sent} offers sent[/green]")


@app.command("release-expired")
def release_expired() -> None:
    """Expire open offers past their time; free or cascade their slots."""
    from api.scheduling import service as scheduling_service

    with _session() as session:
        count = scheduling_service.release_expired_holds(session=session)
    err.print(f"{count} expired offers released")


@app.command("explain")
def explain(appointment_id: int = typer.Argument(...)) -> None:
    """Say in one sentence why an appointment is where it is in the queue."""
    from api.scheduling import service as scheduling_service

    with _session(commit=False) as session:
        typer.echo(scheduling_service.explain_position(session=session,
                                                       appointment_id=appointment_id))
