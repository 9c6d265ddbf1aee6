"""Staff JSON API for the handover queue (/api/v1/handovers) and the audit log (/api/v1/audit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.audit import service as audit_service
from api.deps import SessionDep, SettingsDep, require_role
from api.errors import STAFF_ERRORS, error_responses
from api.fields import IdPath, IdQuery, TextQuery
from api.flows import booking as booking_flow
from api.flows import case_file as case_file_flow
from api.flows import hand_back as hand_back_flow
from api.flows import staff_case as staff_case_flow
from api.flows import staff_reply as staff_reply_flow
from api.handover import casework, schemas
from api.handover import queue as handover_queue
from api.handover.models import Handover, HandoverStatus
from api.staff.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["handover"], responses=STAFF_ERRORS)
ONE_HANDOVER = error_responses(400, 404, 409)
# Every staff role works the queue; the audit log is for admins only.
QueueWorker = Annotated[StaffUser, Depends(require_role(Role.CLERK, Role.CLINICIAN, Role.ADMIN))]
Admin = Annotated[StaffUser, Depends(require_role(Role.ADMIN))]


def handover_out(handover: Handover) -> schemas.HandoverOut:
    out = schemas.HandoverOut.model_validate(handover)
    out.overdue = casework.is_overdue(handover=handover)
    return out


def case_file_out(case: dict) -> schemas.CaseFileOut:
    patient = case["patient"]
    return schemas.CaseFileOut(
        handover=handover_out(case["handover"]),
        identity_verified=case["verified"],
        identity=case["identity"]["state"],
        identity_check=case["identity"].get("how"),
        patient=schemas.PatientOut(
            id=patient.id, nhs_number=patient.nhs_number, name=patient.full_name,
            date_of_birth=patient.date_of_birth, mobile=patient.mobile,
            communication_needs=patient.communication_needs or [],
            opted_out=patient.opted_out) if patient else None,
        appointments=[schemas.AppointmentOut(
            id=a["appointment"].id, specialty=a["specialty"], type=a["appointment"].type.value,
            priority=a["appointment"].priority, status=a["appointment"].status,
            breach_date=a["appointment"].breach_date,
            start_at=a["slot"].start_at if a["slot"] else None,
            explanation=a["explanation"]) for a in case["appointments"]],
        offers=[_offer_out(offer, slot) for offer, slot in case["offers"]],
        transcript=[schemas.MessageOut(
            id=m.id, direction=m.direction.value, channel=m.channel.value, body=m.body,
            category=m.category.value, status=m.status.value, created_at=m.created_at)
            for m in case["transcript"]],
        notes=[_note_out(n, n.author_name) for n in case["notes"]],
        reply_channel=case["reply"]["channel"],
        free_text_allowed=case["reply"]["free_text"],
        templates=case["reply"]["templates"],
    )


def _note_out(event, author_name: str) -> schemas.NoteOut:
    return schemas.NoteOut(id=event.id, actor=event.actor, author_name=author_name,
                           action=event.action,
                           text=(event.details or {}).get("text", ""),
                           occurred_at=event.occurred_at)


def _offer_out(offer, slot) -> schemas.OfferOut:
    return schemas.OfferOut(offer_id=offer.id, appointment_id=offer.appointment_id,
                            slot_id=slot.id, start_at=slot.start_at,
                            duration_minutes=slot.duration_minutes, site_id=slot.site_id,
                            expires_at=offer.expires_at)


def _load(session, handover_id: int) -> Handover:
    return casework.get(session=session, handover_id=handover_id)


@router.get("/handovers", response_model=list[schemas.HandoverOut])
def list_handovers(session: SessionDep, user: QueueWorker,
                   status_filter: Annotated[HandoverStatus | None, Query(alias="status")] = None,
                   include_resolved: bool = False,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[schemas.HandoverOut]:
    """The queue: urgent first, then by due time. Listing shows no patient detail beyond the
    summary (which quotes the patient), and is audited with the patients it lists."""
    items = handover_queue.queue(session=session, include_resolved=include_resolved,
                                 status=status_filter, limit=limit)
    audit_service.record(session=session, actor=user.audit_actor,
                         action="view_queue", object_type="handover_queue", object_id="*",
                         details={"count": len(items), **audit_service.patient_ids_detail(
                             h.patient_id for h in items)})
    session.commit()
    return [handover_out(h) for h in items]


@router.post("/handovers", response_model=schemas.HandoverOut,
             status_code=status.HTTP_201_CREATED, responses=error_responses(400, 404, 409))
def create_handover(body: schemas.HandoverIn, session: SessionDep, settings: SettingsDep,
                    user: QueueWorker) -> schemas.HandoverOut:
    """Open a handover for a patient or conversation; the summary is written automatically."""
    handover = staff_case_flow.open_case(
        session=session, settings=settings, user=user, reason=body.reason, urgency=body.urgency,
        patient_id=body.patient_id, conversation_id=body.conversation_id,
        appointment_id=body.appointment_id, note=body.note)
    session.commit()
    handover_queue.publish_queue_change(settings=settings)
    return handover_out(handover)


@router.get("/handovers/{handover_id}", response_model=schemas.CaseFileOut,
            responses=ONE_HANDOVER)
def get_handover(handover_id: IdPath, session: SessionDep,
                 user: QueueWorker) -> schemas.CaseFileOut:
    """The case file: transcript, patient, appointments and priority, open offers, notes."""
    case = case_file_flow.case_file(session=session, handover=_load(session, handover_id),
                                    user=user)
    out = case_file_out(case)
    session.commit()
    return out


@router.post("/handovers/{handover_id}/claim", response_model=schemas.HandoverOut,
             responses=ONE_HANDOVER)
def claim(handover_id: IdPath, session: SessionDep, settings: SettingsDep,
          user: QueueWorker) -> schemas.HandoverOut:
    """Take the handover: it is assigned to you."""
    handover = casework.claim(session=session, handover=_load(session, handover_id),
                              user=user)
    session.commit()
    handover_queue.publish_queue_change(settings=settings)
    return handover_out(handover)


@router.post("/handovers/{handover_id}/status", response_model=schemas.HandoverOut,
             responses=ONE_HANDOVER)
def set_status(handover_id: IdPath, body: schemas.StatusIn, session: SessionDep,
               settings: SettingsDep, user: QueueWorker) -> schemas.HandoverOut:
    """Mark open, claimed or waiting for the patient (resolve with /resolve)."""
    handover = casework.set_status(session=session, handover=_load(session, handover_id),
                                   user=user, status=HandoverStatus(body.status))
    session.commit()
    handover_queue.publish_queue_change(settings=settings)
    return handover_out(handover)


@router.post("/handovers/{handover_id}/notes", response_model=schemas.NoteOut,
             status_code=status.HTTP_201_CREATED, responses=ONE_HANDOVER)
def add_note(handover_id: IdPath, body: schemas.NoteIn, session: SessionDep,
             user: QueueWorker) -> schemas.NoteOut:
    """Add a note to the handover (append-only)."""
    event = casework.add_note(session=session, handover=_load(session, handover_id),
                              user=user, text=body.text)
    session.commit()
    return _note_out(event, user.display_name)


@router.post("/handovers/{handover_id}/reply", response_model=schemas.ReplyOut,
             status_code=status.HTTP_202_ACCEPTED, responses=ONE_HANDOVER)
def reply(handover_id: IdPath, body: schemas.ReplyIn, session: SessionDep, settings: SettingsDep,
          user: QueueWorker) -> schemas.ReplyOut:
    """Reply to the patient on their channel (a template outside WhatsApp's 24-hour window)."""
    message = staff_reply_flow.reply(session=session, settings=settings,
                                     handover=_load(session, handover_id), user=user,
                                     text=body.text, template=body.template)
    session.commit()
    return schemas.ReplyOut(message_id=message.id, channel=message.channel.value,
                            status=message.status.value)


@router.post("/handovers/{handover_id}/slots", response_model=list[schemas.OfferOut],
             responses=ONE_HANDOVER)
def find_slots(handover_id: IdPath, body: schemas.FindSlotsIn, session: SessionDep,
               user: QueueWorker) -> list[schemas.OfferOut]:
    """Hold the best matching slots for one of the patient's appointments."""
    offers = casework.find_slots(session=session, handover=_load(session, handover_id),
                                 user=user, appointment_id=body.appointment_id,
                                 limit=body.limit)
    session.commit()
    return [_offer_out(o, o.slot) for o in offers]


@router.post("/handovers/{handover_id}/book", response_model=schemas.AppointmentOut,
             responses=ONE_HANDOVER)
def book(handover_id: IdPath, body: schemas.BookIn, session: SessionDep, settings: SettingsDep,
         user: QueueWorker) -> schemas.AppointmentOut:
    """Book an offered slot for the handover's patient and queue their confirmation."""
    appointment = booking_flow.book_for_handover(
        session=session, settings=settings, handover=_load(session, handover_id), user=user,
        offer_id=body.offer_id).appointment
    session.commit()
    slot, specialty = appointment.slot, appointment.specialty
    return schemas.AppointmentOut(
        id=appointment.id, specialty=specialty.name, type=appointment.type.value,
        priority=appointment.priority, status=appointment.status,
        breach_date=appointment.breach_date, start_at=slot.start_at if slot else None)


@router.post("/handovers/{handover_id}/resolve", response_model=schemas.HandoverOut,
             responses=ONE_HANDOVER)
def resolve(handover_id: IdPath, body: schemas.ResolveIn, session: SessionDep,
            settings: SettingsDep, user: QueueWorker) -> schemas.HandoverOut:
    """Resolve: hand back to the assistant or close. Clinical reviews: clinician or admin."""
    handover = hand_back_flow.resolve(session=session, handover=_load(session, handover_id),
                                      user=user, hand_back=body.outcome == "hand_back",
                                      note=body.note)
    session.commit()
    handover_queue.publish_queue_change(settings=settings)
    return handover_out(handover)


@router.get("/audit", response_model=list[schemas.AuditOut], tags=["audit"])
def audit_log(session: SessionDep, user: Admin,
              patient_id: IdQuery = None, actor: TextQuery = None,
              object_type: TextQuery = None, object_id: TextQuery = None,
              action: TextQuery = None, before_id: IdQuery = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[schemas.AuditOut]:
    """The audit log, newest first (admins only). Reading it is itself audited."""
    events = audit_service.list_events(session=session, limit=limit, before_id=before_id,
                                       patient_id=patient_id, actor=actor,
                                       object_type=object_type, object_id=object_id,
                                       action=action)
    out = [schemas.AuditOut.model_validate(e) for e in events]
    audit_service.record_log_read(session=session, actor=user.audit_actor,
                                  patient_id=patient_id)
    session.commit()
    return out
