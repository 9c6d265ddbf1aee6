"""What the campaign pages share: who may run campaigns, the create form (its choices, its
values kept on a refusal, its errors in words), the send-window sentence and the cost."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.appointments import priorities
from api.appointments.models import AppointmentStatus
from api.campaigns import content
from api.campaigns.models import CAMPAIGN_ROLES
from api.campaigns.schemas import CampaignCreate
from api.config import Settings
from api.console.pages import render
from api.db import utcnow
from api.messaging import outbox
from api.reference.models import Site, Specialty
from api.scheduling.models import Disruption
from api.staff.models import StaffUser
from api.system import localtime

FILTERS = ("specialties", "sites", "priorities", "statuses")
STATUS_WORDS = {AppointmentStatus.POSTPONED.value: "Postponed, not yet offered a new date",
                AppointmentStatus.OFFERED.value: "Offered a new date, not yet booked"}
FIELD_WORDS = {"name": "Campaign name", "disruption_id": "Disruption",
               "sms_template": "Message", "whatsapp_content_sid": "WhatsApp template ID",
               "email_subject": "Email subject", "email_template": "Email message"}


def may_run_campaigns(user: StaffUser) -> bool:
    """The roles the campaigns API allows (api/campaigns/models.py CAMPAIGN_ROLES)."""
    return user.role in CAMPAIGN_ROLES


def refused(request: Request, console) -> HTMLResponse:
    """The page a role that may not run campaigns sees (403)."""
    return render(request, "error.html", {
        "user": console[0], "csrf_token": console[1].csrf,
        "message": "Only the bookings team (clerks) and admins can run campaigns."}, 403)


def form_choices(session: Session, settings: Settings) -> dict:
    """What the create form offers: disruptions, filters and the content rules."""
    return {
        "disruptions": list(session.scalars(select(Disruption).order_by(Disruption.id.desc()))),
        "options": {
            "specialties": [(s.code, s.name) for s in
                            session.scalars(select(Specialty).order_by(Specialty.name))],
            "sites": [(s.code, s.name) for s in session.scalars(select(Site).order_by(Site.name))],
            "priorities": priorities.choices(),
            "statuses": list(STATUS_WORDS.items()),
        },
        "rules": content.CONTENT_RULES, "max_length": content.SMS_TEMPLATE_MAX_LENGTH,
        "trust_name": settings.trust_name, "bookings_phone": settings.bookings_phone,
    }


def blank_form() -> dict:
    return {"name": "", "disruption_id": "", "sms_template": content.DEFAULT_SMS_TEMPLATE,
            "whatsapp_content_sid": "", "email_subject": "", "email_template": "",
            **{key: [] for key in FILTERS}}


def form_values(form: FormData) -> dict:
    """The form as entered (kept and shown again when the campaign is refused)."""
    values = {key: str(form.get(key) or "").strip() for key in FIELD_WORDS}
    values["sms_template"] = str(form.get("sms_template") or "")
    return values | {key: [str(v) for v in form.getlist(key)] for key in FILTERS}


def checked_payload(values: dict) -> tuple[dict | None, list[tuple[str, str]]]:
    """The campaign to create, or the problems as (field, sentence) pairs."""
    raw = {key: values[key] for key in ("name", "disruption_id", "sms_template",
                                        "email_subject", "email_template")}
    raw["whatsapp_content_sid"] = values["whatsapp_content_sid"] or None
    raw["filters"] = {key: values[key] for key in FILTERS if values[key]}
    if not values["disruption_id"].isdigit():
        return None, [("disruption_id", "Disruption: choose the disruption to write about.")]
    raw["disruption_id"] = int(values["disruption_id"])
    try:
        return CampaignCreate.model_validate(raw).model_dump(), []
    except ValidationError as exc:
        return None, [_problem(error) for error in exc.errors()]


def _problem(error: dict) -> tuple[str, str]:
    field = str(error["loc"][0]) if error.get("loc") else ""
    words = FIELD_WORDS.get(field, field.replace("_", " ").capitalize() or "Form")
    limit = (error.get("ctx") or {}).get("max_length")
    if error.get("type") == "string_too_long" and limit:
        return field, f"{words}: at most {limit} characters."
    if error.get("type") == "string_too_short":
        return field, f"{words}: enter something."
    return field, f"{words}: {error.get('msg', 'not valid')}."


def window_note(progress: dict, settings: Settings) -> str:
    """In words, when queued messages wait for the send window to open ("" otherwise)."""
    if not progress["queued"] or progress["status"] != "sending":
        return ""
    now = utcnow()
    opens = outbox.next_send_time(settings=settings, now=now)
    if opens <= now:
        return ""
    local_opens, local_now = localtime.to_local(opens, settings), localtime.to_local(now, settings)
    day = "" if local_opens.date() == local_now.date() else (
        " tomorrow" if local_opens.date() == local_now.date() + timedelta(days=1)
        else f" on {local_opens.strftime('%A %d %B')}")
    return (f"Waiting for the send window: messages go out from "
            f"{local_opens.strftime('%H:%M')}{day} (London time).")


def cost(preview: dict) -> dict:
    """What the text messages cost in segments (WhatsApp and email are not billed so)."""
    per_message = preview["messages"]["sms"]["segments"]
    texts = preview["by_route"].get("sms", 0)
    return {"per_message": per_message, "texts": texts, "total": per_message * texts}


# What a successful action says on the status page it returns to (codes: nothing reflected).
DONE = {
    "sent": "Campaign sent: its messages are queued and go out through the dispatcher.",
    "paused": "Campaign paused: its unsent messages are held.",
    "resumed": "Campaign resumed: its held messages are queued again.",
    "cancelled": "Campaign cancelled: its unsent messages are withdrawn.",
}
