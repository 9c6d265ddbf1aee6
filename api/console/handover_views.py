"""One handover's page and the actions taken on it: thin routes over casework and the flows.

Every form POST carries the session's CSRF token; every page that shows patient data and every
action is written to the audit log by the services it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console import service as console_service
from api.console.pages import DONE_MESSAGES, ConsoleDep, FormUserDep, render
from api.deps import SessionDep, SettingsDep
from api.flows import booking as booking_flow
from api.flows import case_file as case_file_flow
from api.flows import hand_back as hand_back_flow
from api.flows import identify as identify_flow
from api.flows import staff_reply as staff_reply_flow
from api.handover import casework, red_flags
from api.handover.models import HandoverStatus
from api.patients import search
from api.scheduling.errors import SchedulingError

router = APIRouter(prefix="/console", include_in_schema=False)
# What this page's own actions say when they are done (with the shared ones).
DONE = DONE_MESSAGES | {
    "identified": "Patient linked to this handover, with how their identity was checked.",
    "options": "Options queued: the patient is sent the held dates as numbered choices.",
    "lowered": "Marked not a red flag. A clinician will review it on today's list.",
}

NOTE_LABELS = {"identify_patient": "patient identified", "lower_red_flag": "marked not a red flag",
               "confirm_not_red_flag": "clinician confirmed: not a red flag",
               "reopen_red_flag": "clinician reopened the red flag"}


def _handover_page(request: Request, session, settings, console, handover_id: int,
                   done: str = "", error: str = "", status_code: int = 200,
                   extra: dict | None = None) -> HTMLResponse:
    session.rollback()  # a refused action leaves nothing half-done behind
    try:
        handover = casework.get(session=session, handover_id=handover_id)
    except casework.NotFound:
        return render(request, "error.html", {"user": console[0], "csrf_token": console[1].csrf,
                                             "message": "There is no such handover."}, 404)
    case = case_file_flow.case_file(session=session, handover=handover, user=console[0])
    session.commit()
    return render(request, "handover.html", case | {
        "user": console[0], "csrf_token": console[1].csrf, "settings": settings,
        "done": DONE.get(done, ""), "error": error, "search": None,
        "statuses": [s for s in HandoverStatus if s is not HandoverStatus.RESOLVED],
        "local_time": lambda m: console_service.local_time(m, settings),
        "note_labels": NOTE_LABELS, "criteria": None,
    } | (extra or {}), status_code)


@router.get("/handovers/{handover_id}", response_class=HTMLResponse)
def handover_page(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
                  console: ConsoleDep, done: str = "") -> HTMLResponse:
    return _handover_page(request, session, settings, console, handover_id, done=done)


def _act(request, session, settings, console, handover_id: int,
         done: str | Callable[[Any], str], action):
    """Run one action on a handover; back to its page, with what happened or why not.

    `done` is the code of what happened, or a function of the action's result giving it."""
    try:
        handover = casework.get(session=session, handover_id=handover_id)
    except casework.NotFound:
        return _handover_page(request, session, settings, console, handover_id)
    try:
        outcome = action(handover)
        session.commit()
    except (casework.HandoverError, SchedulingError, search.SearchRefused) as exc:
        return _handover_page(request, session, settings, console, handover_id,
                              error=str(exc), status_code=getattr(exc, "status_code", 400))
    console_service.notify_queue_changed(settings=settings)
    code = done(outcome) if callable(done) else done
    return RedirectResponse(f"/console/handovers/{handover_id}?done={code}",
                            status.HTTP_303_SEE_OTHER)


@router.post("/handovers/{handover_id}/claim")
def claim(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
          console: FormUserDep):
    return _act(request, session, settings, console, handover_id, "claimed",
                lambda h: casework.claim(session=session, handover=h, user=console[0]))


@router.post("/handovers/{handover_id}/status")
def set_status(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
               console: FormUserDep, new_status: Annotated[str, Form(alias="status")] = ""):
    def action(h):
        try:
            chosen = HandoverStatus(new_status)
        except ValueError as exc:
            raise casework.HandoverError("choose a status") from exc
        casework.set_status(session=session, handover=h, user=console[0], status=chosen)

    return _act(request, session, settings, console, handover_id, "status", action)


@router.post("/handovers/{handover_id}/notes")
def add_note(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
             console: FormUserDep, text: Annotated[str, Form(max_length=4000)] = ""):
    return _act(request, session, settings, console, handover_id, "note",
                lambda h: casework.add_note(session=session, handover=h,
                                            user=console[0], text=text))


@router.post("/handovers/{handover_id}/reply")
def reply(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
          console: FormUserDep, text: Annotated[str, Form(max_length=4000)] = "",
          template: Annotated[str, Form(max_length=64)] = ""):
    return _act(request, session, settings, console, handover_id, "reply",
                lambda h: staff_reply_flow.reply(session=session, settings=settings,
                                                 handover=h, user=console[0],
                                                 text=text or None, template=template or None))


@router.post("/handovers/{handover_id}/slots")
def find_slots(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
               console: FormUserDep, appointment_id: Annotated[int, Form()] = 0):
    return _act(request, session, settings, console, handover_id, "slots",
                lambda h: casework.find_slots(session=session, handover=h,
                                              user=console[0],
                                              appointment_id=appointment_id))


@router.post("/handovers/{handover_id}/book")
def book(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
         console: FormUserDep, offer_id: Annotated[int, Form()] = 0):
    return _act(request, session, settings, console, handover_id,
                lambda booking: ("booked_awaiting_pas" if booking.awaiting_pas
                                 else "booked" if booking.message else "booked_untold"),
                lambda h: booking_flow.book_for_handover(session=session, settings=settings,
                                                         handover=h, user=console[0],
                                                         offer_id=offer_id))


@router.post("/handovers/{handover_id}/resolve")
def resolve(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
            console: FormUserDep, outcome: Annotated[str, Form()] = "",
            note: Annotated[str, Form(max_length=4000)] = ""):
    def action(h):
        if outcome not in ("hand_back", "close"):
            raise casework.HandoverError("choose: hand back to the assistant, or close")
        hand_back_flow.resolve(session=session, handover=h, user=console[0],
                               hand_back=outcome == "hand_back", note=note)

    return _act(request, session, settings, console, handover_id, "resolved", action)


@router.get("/handovers/{handover_id}/find-patient", response_class=HTMLResponse)
def find_patient(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
                 console: ConsoleDep, nhs_number: Annotated[str, Query(max_length=20)] = "",
                 family_name: Annotated[str, Query(max_length=100)] = "",
                 date_of_birth: Annotated[str, Query(max_length=20)] = "",
                 phone: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    """The case page with the register searched for its patient (the search is audited)."""
    criteria = search.Criteria(nhs_number=nhs_number, family_name=family_name,
                               date_of_birth=date_of_birth, phone=phone)
    try:
        handover = casework.get(session=session, handover_id=handover_id)
        found = identify_flow.find(session=session, handover=handover, user=console[0],
                                   criteria=criteria)
        session.commit()
    except casework.NotFound:
        return _handover_page(request, session, settings, console, handover_id)
    except search.SearchRefused as exc:
        return _handover_page(request, session, settings, console, handover_id,
                              error=str(exc), status_code=422, extra={"criteria": criteria})
    return _handover_page(request, session, settings, console, handover_id,
                          extra={"criteria": criteria, "search": found})


@router.post("/handovers/{handover_id}/identify")
def identify(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
             console: FormUserDep, patient_id: Annotated[int, Form()] = 0,
             check: Annotated[str, Form(max_length=32)] = "",
             on_number: Annotated[str, Form(max_length=8)] = ""):
    return _act(request, session, settings, console, handover_id, "identified",
                lambda h: identify_flow.identify(
                    session=session, settings=settings, handover=h, user=console[0],
                    patient_id=patient_id, check=check, on_conversation_number=bool(on_number)))


@router.post("/handovers/{handover_id}/send-options")
def send_options(request: Request, handover_id: int, session: SessionDep,
                 settings: SettingsDep, console: FormUserDep):
    return _act(request, session, settings, console, handover_id, "options",
                lambda h: staff_reply_flow.send_options(
                    session=session, settings=settings, handover=h, user=console[0],
                    offers=case_file_flow.held_offers_for_patient(
                        session=session, patient_id=h.patient_id) if h.patient_id else []))


@router.post("/handovers/{handover_id}/not-red-flag")
def not_red_flag(request: Request, handover_id: int, session: SessionDep, settings: SettingsDep,
                 console: FormUserDep, reason: Annotated[str, Form(max_length=4000)] = ""):
    return _act(request, session, settings, console, handover_id, "lowered",
                lambda h: red_flags.lower(session=session, handover=h, user=console[0],
                                          reason=reason))
