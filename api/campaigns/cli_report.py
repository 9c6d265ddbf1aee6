"""What `rebook campaign ...` prints: tables and sentences a bookings manager reads.

Kept apart from the commands (api/campaigns/cli.py) so each stays one concern: the commands
check and call the service, this module says the result in words.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.campaigns.models import CallReason, CampaignRecipient, RecipientRoute
from api.campaigns.schemas import CampaignCreate
from api.db import utcnow
from api.system import terminal

ROUTE_WORDS = {RecipientRoute.SMS.value: "SMS", RecipientRoute.WHATSAPP.value: "WhatsApp",
               RecipientRoute.EMAIL.value: "email", RecipientRoute.CALL_LIST.value: "call list"}
REASON_WORDS = {
    CallReason.NO_CONTACT_ROUTE.value: "no mobile number or email address",
    CallReason.OPTED_OUT.value: "opted out of text messages",
    CallReason.COMMUNICATION_NEEDS.value: "needs other than text messages (recorded)",
    CallReason.NO_REPLY.value: "did not reply",
    CallReason.UNDELIVERABLE.value: "message could not be delivered",
    CallReason.RESTRICTED_RECORD.value: "restricted record in the PAS (staff contact only)",
}
# The API's own limit (its request model), so the help says what the check enforces.
SMS_LIMIT = next(m.max_length for m in CampaignCreate.model_fields["sms_template"].metadata
                 if getattr(m, "max_length", None))
OPTION_OF_FIELD = {"sms_template": "--sms-template (the SMS text)", "name": "--name",
                   "whatsapp_content_sid": "--whatsapp-content-sid"}


def refusal(exc: ValidationError) -> str:
    """The API's own validation error (same limits as POST /api/v1/campaigns), in words."""
    problems = []
    for error in exc.errors():
        field = OPTION_OF_FIELD.get(str(error["loc"][0]), str(error["loc"][0]))
        limit = (error.get("ctx") or {}).get("max_length")
        if error["type"] == "string_too_long" and limit:
            problems.append(f"{field} is {len(error['input'])} characters; the limit is {limit}")
        else:
            problems.append(f"{field}: {error['msg'].lower()}")
    return "; ".join(problems)


def route_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """Recipients per route (enrolled by a send)."""
    return {route.value: count for route, count in session.execute(
        select(CampaignRecipient.route, func.count()).where(
            CampaignRecipient.campaign_id == campaign_id).group_by(CampaignRecipient.route))}


def per_channel(counts: dict[str, int]) -> str:
    """'SMS 80, WhatsApp 30, email 0, call list 5'"""
    return ", ".join(f"{ROUTE_WORDS[r]} {counts.get(r, 0)}" for r in ROUTE_WORDS)


def window_wait(send_at: datetime) -> str | None:
    """A sentence when messages queued now wait for the send window, else None."""
    if send_at <= utcnow():
        return None
    return (f"Outside the send window: these messages wait and go from "
            f"{terminal.local(send_at, '%H:%M on %a %d %b')} ({terminal.zone_name()} time).")


def show_created(summary: dict) -> None:
    terminal.table(f"Campaign {summary['id']} created (draft: nothing sent yet)",
                   ("", ""), [
                       ("name", summary["name"]),
                       ("disruption", f"{summary['disruption_id']} {summary['disruption']}"),
                       ("filters", summary["filters_words"]),
                       ("SMS text", summary["sms"]),
                       ("SMS length", f"{summary['characters']} characters, "
                                      f"{summary['segments']} segment(s) per SMS"),
                       ("WhatsApp template", summary["whatsapp_content_sid"] or "none: SMS only"),
                   ])
    terminal.err.print(f"next: rebook campaign preview {summary['id']}")


def show_preview(name: str, preview: dict) -> None:
    routes = preview["by_route"]
    sms = preview["messages"]["sms"]
    cost = routes.get("sms", 0) * sms["segments"]
    terminal.table(
        f"Campaign {preview['campaign_id']} '{name}': who hears how",
        ("channel", "patients"),
        [*((ROUTE_WORDS[r], routes.get(r, 0)) for r in ROUTE_WORDS),
         ("total", preview["patients"])],
        caption=f"{preview['appointments']} postponed appointments selected")
    reasons = preview["call_list_reasons"]
    if reasons:
        terminal.table("Call list: staff phone these patients instead",
                       ("reason", "patients"),
                       [(REASON_WORDS.get(r, r), n) for r, n in sorted(reasons.items())])
    terminal.out.print(f"SMS text ({len(sms['body'])} characters, {sms['segments']} segment(s)):",
                       highlight=False)
    terminal.out.print(f"  {sms['body']}", highlight=False, markup=False)
    terminal.out.print(f"Cost: {routes.get('sms', 0)} SMS x {sms['segments']} segment(s) = "
                       f"{cost} segments; WhatsApp template messages: {routes.get('whatsapp', 0)}"
                       f"; emails: {routes.get('email', 0)}.", highlight=False)
    if not preview["patients"]:
        terminal.err.print("[yellow]warning:[/yellow] this campaign selects no patients: "
                           "check the disruption and filters before sending")


def show_progress(counts: dict, waiting: str | None = None) -> None:
    rows = [("status", counts["status"]), ("patients", counts["recipients"]),
            ("waiting to send", counts["queued"]), ("sent", counts["sent"]),
            ("delivered", counts["delivered"]), ("failed", counts["failed"]),
            ("withdrawn", counts["cancelled"]), ("replied", counts["replied"]),
            ("rebooked", counts["rebooked"]), ("call list", counts["call_list"])]
    terminal.table(f"Campaign {counts['campaign_id']}", ("", "patients / messages"), rows)
    if waiting:
        terminal.out.print(waiting, highlight=False)


def send_sentence(campaign_id: int, queued_now: int, counts: dict, routes: dict) -> str:
    if queued_now:
        return (f"Campaign {campaign_id}: {queued_now} messages queued now "
                f"({per_channel(routes)}).")
    messages = counts["recipients"] - counts["call_list"]
    return (f"Campaign {campaign_id}: nothing new to queue; all {messages} messages were "
            f"queued by an earlier send (running send again is safe). "
            f"Call list: {counts['call_list']} patients.")
