"""`rebook campaign ...`: list, create, preview, send with a progress bar, status, pause, resume,
cancel. Results print as tables and sentences (api/campaigns/cli_report.py), or JSON with --json.
"""

from __future__ import annotations

import string
import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.campaigns import cli_report as report
from api.system import terminal
from api.system.terminal import JsonOption

app = typer.Typer(help="Notification campaigns to the patients of a disruption.",
                  no_args_is_help=True)
PriorityFilter = typer.Option(None, "--priority", metavar="PRIORITY",
                              help="Only this priority, e.g. P2 (repeat; see `rebook codes`)")
CampaignId = typer.Argument(..., metavar="CAMPAIGN_ID",
                            help="The campaign's number (see `rebook campaign list`)")


def _refused(exc: Exception) -> None:
    terminal.fail(str(exc))


@app.command("list")
def list_campaigns(as_json: bool = JsonOption) -> None:
    """Every campaign, newest first, with how far it has got."""
    from api.campaigns import service as campaigns_service
    from api.db import session_scope

    with session_scope() as session:
        rows = []
        for c in campaigns_service.list_campaigns(session=session):
            counts = campaigns_service.progress(session=session, campaign_id=c.id)
            rows.append({"id": c.id, "name": c.name, "disruption_id": c.disruption_id,
                         "status": counts["status"], "created_at": terminal.iso(c.created_at),
                         **{k: counts[k] for k in ("recipients", "queued", "sent", "failed",
                                                   "call_list")}})
    if as_json:
        terminal.print_json(rows)
        return
    terminal.table(f"Campaigns ({len(rows)})", (
        "id", "name", "disruption", "status", "patients",
        "waiting", "sent", "to call"), [
        (r["id"], r["name"], r["disruption_id"], r["status"],
         r["recipients"], r["queued"], r["sent"], r["call_list"]) for r in rows])


def _checked_request(*, name: str, disruption: int, sms_template: str,
                     whatsapp_content_sid: str | None) -> None:
    """The API's request model checks the same limits here (640 characters of SMS text...)."""
    from pydantic import ValidationError

    from api.campaigns import content
    from api.campaigns.schemas import CampaignCreate

    try:
        CampaignCreate(name=name, disruption_id=disruption, sms_template=sms_template,
                       whatsapp_content_sid=whatsapp_content_sid)
    except ValidationError as exc:
        terminal.fail(report.refusal(exc))
    allowed = terminal.in_words(f"{{{p}}}" for p in sorted(content.PLACEHOLDERS))
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(sms_template) if f is not None}
    except ValueError:  # an unpaired brace would fail when sent
        terminal.fail(f"curly brackets are only for the placeholders {allowed}")
    unknown = sorted(fields - content.PLACEHOLDERS)
    if unknown:
        terminal.fail(f"unknown placeholder {terminal.in_words(f'{{{u}}}' for u in unknown)} "
                      f"in the SMS text: choose from {allowed} (a first message carries no "
                      "name or clinical detail)")


def _checked_filters(session, specialty: list[str], priority: list[str],
                     site: list[str]) -> dict:
    """The filters, or stop naming the valid codes in words."""
    from api.appointments.models import Priority
    from api.scheduling import listings

    filters = {
        "specialties": terminal.check_all("specialty", specialty,
                                          listings.specialty_names(session=session)),
        "priorities": terminal.check_all("priority", priority, (p.value for p in Priority)),
        "sites": terminal.check_all("site", site, listings.site_names(session=session)),
    }
    return {k: v for k, v in filters.items() if v}


@app.command("create")
def create(
    disruption: int = typer.Option(..., metavar="ID",
                                   help="Disruption number (see `rebook disruption list`)"),
    name: str = typer.Option(..., help="A name staff will recognise"),
    sms_template: str = typer.Option(None, metavar="TEXT",
                                     help=f"SMS text (at most {report.SMS_LIMIT} characters); "
                                          "may use "
                                          "{trust_name} and {bookings_phone}; default: the "
                                          "catalogue's first message"),
    specialty: list[str] = terminal.SpecialtyFilter,
    priority: list[str] = PriorityFilter,
    site: list[str] = terminal.SiteFilter,
    whatsapp_content_sid: str = typer.Option(None, metavar="SID",
                                             help="Approved WhatsApp template (HX...)"),
    as_json: bool = JsonOption,
) -> None:
    """Draft a campaign (nothing is sent); prints what was created."""
    from api.audit import service as audit_service
    from api.campaigns import content
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope
    from api.messaging import render
    from api.scheduling.models import Disruption

    template = sms_template or content.DEFAULT_SMS_TEMPLATE
    _checked_request(name=name, disruption=disruption, sms_template=template,
                     whatsapp_content_sid=whatsapp_content_sid)
    try:
        with session_scope() as session:
            found = session.get(Disruption, disruption)
            if found is None:
                terminal.fail(f"no disruption {disruption}: see `rebook disruption list`")
            filters = _checked_filters(session, specialty or [], priority or [], site or [])
            campaign = campaigns_service.create(
                session=session, name=name, disruption_id=disruption, filters=filters,
                sms_template=template, whatsapp_content_sid=whatsapp_content_sid,
                created_by=audit_service.cli_actor())
            sms = render.render_sms(content.render(template, settings=get_settings()))
            summary = {"id": campaign.id, "name": name, "disruption_id": disruption,
                       "disruption": found.name, "filters": filters, "sms": sms,
                       "characters": len(sms), "segments": render.sms_segments(sms),
                       "whatsapp_content_sid": whatsapp_content_sid}
    except campaigns_service.CampaignError as exc:
        _refused(exc)
    if as_json:
        terminal.print_json(summary)
        return
    summary["filters_words"] = "; ".join(
        f"{k}: {terminal.in_words(v)}" for k, v in filters.items()) or "none (every patient)"
    report.show_created(summary)


@app.command("preview")
def preview(campaign_id: int = CampaignId, as_json: bool = JsonOption) -> None:
    """Counts per channel, the call list with reasons, the SMS and its cost, before sending."""
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    try:
        with session_scope() as session:
            name = campaigns_service.get(session=session, campaign_id=campaign_id).name
            result = campaigns_service.preview(session=session, campaign_id=campaign_id,
                                               settings=get_settings())
    except LookupError as exc:
        _refused(exc)
    if as_json:
        terminal.print_json(result)
        return
    report.show_preview(name, result)


def _check_not_empty(campaign_id: int, yes: bool) -> None:
    """A campaign with nobody to write to is a mistake more often than not: say so first."""
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    try:
        with session_scope() as session:
            if campaigns_service.progress(session=session, campaign_id=campaign_id)["recipients"]:
                return  # a re-run: its patients were enrolled by an earlier send
            patients = campaigns_service.preview(session=session, campaign_id=campaign_id,
                                                 settings=get_settings())["patients"]
    except LookupError as exc:
        _refused(exc)
    if patients:
        return
    if not yes:
        terminal.fail(f"campaign {campaign_id} selects no patients (0 recipients): nothing "
                      f"would be sent. Check it with `rebook campaign preview {campaign_id}`, "
                      "or pass --yes to send it anyway")
    terminal.err.print("[yellow]warning:[/yellow] sending a campaign with 0 recipients (--yes)")


def _queue(campaign_id: int, settings) -> int:
    """Run the send, committing each step (a re-run carries on); how many it queued."""
    from api.audit import service as audit_service
    from api.campaigns import service as campaigns_service
    from api.db import session_scope

    queued = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=terminal.err, transient=True) as bar:
        task = bar.add_task("queueing", total=None)
        try:
            with session_scope() as session:
                for step in campaigns_service.send(session=session, campaign_id=campaign_id,
                                                   settings=settings,
                                                   actor=audit_service.cli_actor()):
                    session.commit()  # per batch: a re-run carries on from here
                    bar.update(task, completed=step.queued, total=step.total or 1)
                    queued = step.queued
        except (campaigns_service.CampaignError, LookupError) as exc:
            _refused(exc)
    return queued


def _watch(campaign_id: int, counts: dict) -> dict:
    """Follow delivery until nothing of the campaign waits (Ctrl-C stops watching only)."""
    from api.campaigns import service as campaigns_service
    from api.db import session_scope

    columns = (TextColumn("sent"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=terminal.err) as bar:
        task = bar.add_task("sent", total=counts["recipients"] - counts["call_list"])
        try:
            while counts["queued"]:
                time.sleep(1)
                with session_scope() as session:
                    counts = campaigns_service.progress(session=session, campaign_id=campaign_id)
                bar.update(task, completed=counts["sent"] + counts["failed"] + counts["cancelled"])
        except KeyboardInterrupt:
            terminal.err.print("stopped watching; sending carries on in the dispatcher")
    return counts


@app.command("send")
def send(
    campaign_id: int = CampaignId,
    watch: bool = typer.Option(True, "--watch/--no-watch",
                               help="Follow delivery until nothing waits (Ctrl-C stops "
                                    "watching, not sending)"),
    yes: bool = typer.Option(False, "--yes", help="Send even when it selects no patients"),
    as_json: bool = JsonOption,
) -> None:
    """Queue every message (safe to re-run after a crash), then follow progress."""
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope
    from api.messaging import outbox

    settings = get_settings()
    _check_not_empty(campaign_id, yes)
    send_at = outbox.next_send_time(settings=settings)
    queued_now = _queue(campaign_id, settings)
    with session_scope() as session:
        counts = campaigns_service.progress(session=session, campaign_id=campaign_id)
        routes = report.route_counts(session, campaign_id)
    waiting = report.window_wait(send_at) if counts["queued"] else None
    if watch and counts["queued"] and not waiting:
        counts = _watch(campaign_id, counts)
    if as_json:
        terminal.print_json({"queued_now": queued_now, "by_route": routes,
                             "waits_until": terminal.iso(send_at) if waiting else None,
                             **counts})
        return
    terminal.out.print(report.send_sentence(campaign_id, queued_now, counts, routes),
                       highlight=False)
    if waiting:
        terminal.out.print(waiting, highlight=False)
    report.show_progress(counts)


@app.command("status")
def status(campaign_id: int = CampaignId, as_json: bool = JsonOption) -> None:
    """Where every patient of the campaign has got to."""
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope
    from api.messaging import outbox

    try:
        with session_scope() as session:
            counts = campaigns_service.progress(session=session, campaign_id=campaign_id)
    except LookupError as exc:
        _refused(exc)
    if as_json:
        terminal.print_json(counts)
        return
    waits = counts["queued"] and report.window_wait(outbox.next_send_time(settings=get_settings()))
    report.show_progress(counts, waits or None)


def _transition(verb: str, campaign_id: int) -> int:
    from api.audit import service as audit_service
    from api.campaigns import service as campaigns_service
    from api.config import get_settings
    from api.db import session_scope

    extra = {"settings": get_settings()} if verb == "resume" else {}
    try:
        with session_scope() as session:
            return getattr(campaigns_service, verb)(session=session, campaign_id=campaign_id,
                                                    actor=audit_service.cli_actor(), **extra)
    except (campaigns_service.CampaignError, LookupError) as exc:
        _refused(exc)


@app.command("pause")
def pause(campaign_id: int = CampaignId) -> None:
    """Hold every unsent message."""
    held = _transition("pause", campaign_id)
    terminal.out.print(f"Campaign {campaign_id} paused: {held} unsent messages held. "
                       f"Resume with `rebook campaign resume {campaign_id}`.", highlight=False)


@app.command("resume")
def resume(campaign_id: int = CampaignId) -> None:
    """Release held messages (they go inside the send window)."""
    from api.config import get_settings
    from api.messaging import outbox

    released = _transition("resume", campaign_id)
    terminal.out.print(f"Campaign {campaign_id} resumed: {released} held messages released.",
                       highlight=False)
    waiting = report.window_wait(outbox.next_send_time(settings=get_settings()))
    if released and waiting:
        terminal.out.print(waiting, highlight=False)


@app.command("cancel")
def cancel(campaign_id: int = CampaignId) -> None:
    """Withdraw every unsent message (messages already sent stay sent)."""
    withdrawn = _transition("cancel", campaign_id)
    terminal.out.print(f"Campaign {campaign_id} cancelled: {withdrawn} unsent messages "
                       "withdrawn; messages already sent stay sent.", highlight=False)
