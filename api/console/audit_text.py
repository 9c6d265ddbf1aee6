"""The audit log in words: each action as a short sentence, its details as "key: value" pairs,
its object as staff name it. The log itself keeps codes; only the page reads them out."""

from __future__ import annotations

from api.appointments import priorities

ACTIONS = {
    "add_note": "Added a note", "apply_plan": "Applied a capacity plan",
    "approve": "Approved extra capacity", "audit_denied": "Was refused the audit log",
    "book_slot": "Booked an appointment",
    "call_back_requested": "Noted a call-back the phone line promised",
    "call_put_through": "Put a call through to staff", "cancel_campaign": "Cancelled a campaign",
    "change_password": "Changed their password",
    "change_password_refused": "Was refused a password change",
    "claim_handover": "Claimed a handover", "create_api_key": "Created an API key",
    "create_campaign": "Created a campaign", "create_staff_user": "Created a staff account",
    "deactivate_staff_user": "Deactivated a staff account",
    "export_breach_list": "Downloaded the breach list",
    "export_patient_data": "Exported a patient's data", "find_slots": "Held slots to offer",
    "interpreter_requested": "Recorded an interpreter request",
    "link_oidc": "Linked single sign-on",
    "lock_staff_user": "Locked a staff account", "login": "Signed in",
    "login_failed": "Failed to sign in", "login_locked": "Was locked out after failed sign-ins",
    "login_oidc": "Signed in with single sign-on",
    "login_oidc_refused": "Was refused single sign-on", "logout": "Signed out",
    "open_handover": "Opened a handover", "pause_campaign": "Paused a campaign",
    "purge_retention": "Deleted records past their retention period",
    "reactivate_staff_user": "Reactivated a staff account",
    "reset_password": "Reset a password", "resolve_handover": "Resolved a handover",
    "resume_campaign": "Resumed a campaign", "revoke_api_key": "Revoked an API key",
    "safety_net_not_repeated": "Recorded the safety advice as not repeated",
    "send_campaign": "Sent a campaign", "send_message": "Sent a message",
    "send_reply": "Replied to a patient", "set_handover_status": "Changed a handover's status",
    "staff_accounts_denied": "Was refused the staff accounts page",
    "unlock_staff_user": "Unlocked a staff account", "view_api_keys": "Viewed API keys",
    "view_audit": "Read the audit log", "view_breach_list": "Viewed the breach list",
    "view_call_list": "Viewed a campaign's call list", "view_dashboard": "Viewed the dashboard",
    "view_handover": "Opened a handover's case file",
    "view_parked_messages": "Viewed parked messages", "view_queue": "Viewed the handover queue",
    "view_staff_users": "Viewed the staff accounts",
    # Issue 15: identifying patients, red-flag reviews, on-call alerts, campaign calls.
    "acknowledge_on_call": "Acknowledged an on-call alert",
    "confirm_not_red_flag": "Confirmed a lowered red flag is not one",
    "identify_patient": "Identified a handover's patient",
    "lower_red_flag": "Marked a red flag as not a red flag",
    "on_call_alerted": "Alerted the on-call contact",
    "preview_campaign": "Previewed a campaign",
    "record_call_outcome": "Recorded a call's outcome",
    "red_flag_reviews_denied": "Was refused the red-flag reviews",
    "reopen_red_flag": "Reopened a red flag",
    "search_patients": "Searched for a patient", "search_queue": "Searched the handover queue",
    "send_options": "Sent appointment options to a patient",
    "view_red_flag_reviews": "Viewed the red flags to review",
    # Issue 16: the PAS integration exceptions (they hold raw patient records).
    "integration_exception_resolved": "Resolved an integration exception",
    "integration_exception_viewed": "Opened an integration exception",
    "integration_exceptions_denied": "Was refused the integration exceptions",
    "integration_exceptions_listed": "Viewed the integration exceptions",
}

# Detail keys in words; keys listed as None are shown another way (or not at all).
KEYS = {
    "patient_ids": None, "patient_ids_truncated": None, "patient_count": "Patients shown",
    "text": "Note", "resolution": "Outcome", "message_ids": "Messages", "offer_ids": "Offers",
    "count": "Rows shown", "revoked_api_keys": "API keys revoked",
    "generated": "Password generated", "was_locked": "Was locked", "until": "Locked until",
    "staff_user_id": "Staff account number", "disruption_id": "Disruption number",
    "slot_id": "Slot number", "offer_id": "Offer number", "patient_id": "Patient number",
}
MAX_TEXT = 200
MAX_LISTED = 5


def action_text(action: str) -> str:
    """"Viewed the dashboard" for "view_dashboard"; an unknown code in words."""
    return ACTIONS.get(action) or action.replace("_", " ").capitalize()


def object_text(object_type: str, object_id: str) -> str:
    """"Handover 12", or "All" for a listing ("*")."""
    kind = object_type.replace("_", " ").capitalize()
    return f"{kind}s (all)" if object_id == "*" else f"{kind} {object_id}"


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "priority":
        return priorities.label(value)
    if isinstance(value, list):
        if len(value) > MAX_LISTED:
            return f"{len(value)}"
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_value(k, v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def detail_items(details: dict | None) -> list[tuple[str, str]]:
    """The details as (label, value) pairs, in the order they were recorded; empty values
    and the patient id lists (the patient filter finds those) are left out."""
    items = []
    for key, value in (details or {}).items():
        if value is None or value == "" or (key in KEYS and KEYS[key] is None):
            continue
        items.append((KEYS.get(key) or key.replace("_", " ").capitalize(), _value(key, value)))
    return items
