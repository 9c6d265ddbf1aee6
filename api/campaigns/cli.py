"""`rebook campaign ...`: create, preview, send with a progress bar, pause, resume, cancel."""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Notification campaigns.", no_args_is_help=True)
console = Console(stderr=True)


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code=2) from exc


@app.command("create")
def create(
    disruption: int = typer.Option(..., help="Disruption id"),
    name: str = typer.Option(..., help="A name staff will recognise"),
    sms_template: str = typer.Option(None, help="Text; may use {trust_name} {bookings_phone}"),
    specialty: list[str] = typer.Option([], help="Specialty code filter (repeatable)"),
    priority: list[str] = typer.Option([], help="Priority filter, e.g. P2 (repeatable)"),
    site: list[str] = typer.Option([], help="Site code filter (repeatable)"),
    whatsapp_content_sid: str = typer.Option(None, help="Approved WhatsApp template (HX...)"),
) -> None:
    """Draft a campaign; prints its id."""
    from api.audit import service as audit_service
    from api.campaigns import content
    from api.campaigns import service as campaigns_service
    from api.db import session_scope

    filters = {k: v for k, v in {"specialties": specialty, "priorities": priority,
                                 "sites": site}.items() if v}
    try:
        with session_scope() as session:
            campaign = campaigns_service.create(
                session=session, name=name, disruption_id=disruption, filters=filters,
                sms_template=sms_template or content.DEFAULT_SMS_TEMPLATE,
                whatsapp_content_sid=whatsapp_content_sid, created_by=audit_service.cli_actor())
            campaign_id = campaign.id
    except (campaigns_service.CampaignError, LookupError) as exc:
        _fail(exc)
    typer.echo(campaign_id)


@app.command("preview")
def preview(campaign_id: int) -> None:
    """Counts per channel and the messages, before sending."""
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    try:
        with session_scope() as session:
            typer.echo(json.dumps(campaigns_service.preview(
                session=session, campaign_id=campaign_id, settings=get_settings()), indent=2))
    except LookupError as exc:
        _fail(exc)


@app.command("send")
def send(campaign_id: int, watch: bool = typer.Option(True, help="Follow delivery")) -> None:
    """Queue every message (safe to re-run after a crash), then follow progress."""
    from api.audit import service as audit_service
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        queue_task = bar.add_task("queued", total=None)
        try:
            with session_scope() as session:
                for step in campaigns_service.send(
                        session=session, campaign_id=campaign_id, settings=get_settings(),
                        actor=audit_service.cli_actor()):
                    session.commit()  # per batch: a re-run carries on from here
                    bar.update(queue_task, completed=step.queued, total=step.total)
                counts = campaigns_service.progress(session=session, campaign_id=campaign_id)
        except (campaigns_service.CampaignError, LookupError) as exc:
            _fail(exc)
        if not watch:
            return
        total = counts["recipients"] - counts["call_list"]
        sent_task = bar.add_task("sent", total=total)
        try:
            while True:
                with session_scope() as session:
                    counts = campaigns_service.progress(session=session, campaign_id=campaign_id)
                bar.update(sent_task, completed=counts["sent"] + counts["failed"]
                           + counts["cancelled"])
                if not counts["queued"]:
                    break
                time.sleep(1)
        except KeyboardInterrupt:
            console.print("stopped watching; sending carries on in the dispatcher")
    console.print(counts)


def _transition(verb: str, campaign_id: int) -> None:
    from api.audit import service as audit_service
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    try:
        with session_scope() as session:
            if verb == "resume":
                changed = campaigns_service.resume(session=session, campaign_id=campaign_id,
                                                   settings=get_settings(),
                                                   actor=audit_service.cli_actor())
            else:
                changed = getattr(campaigns_service, verb)(session=session,
                                                           campaign_id=campaign_id,
                                                           actor=audit_service.cli_actor())
    except (campaigns_service.CampaignError, LookupError) as exc:
        _fail(exc)
    console.print(f"{verb}: {changed} messages")


@app.command("pause")
def pause(campaign_id: int) -> None:
    """Hold every unsent message."""
    _transition("pause", campaign_id)


@app.command("resume")
def resume(campaign_id: int) -> None:
    """Release held messages."""
    _transition("resume", campaign_id)


@app.command("cancel")
def cancel(campaign_id: int) -> None:
    """Withdraw every unsent message."""
    _transition("cancel", campaign_id)


@app.command("status")
def status(campaign_id: int) -> None:
    """Progress counts as JSON."""
    from api.campaigns import service as campaigns_service
    from api.db import session_scope

    try:
        with session_scope() as session:
            typer.echo(json.dumps(campaigns_service.progress(session=session,
                                                             campaign_id=campaign_id)))
    except LookupError as exc:
        _fail(exc)
