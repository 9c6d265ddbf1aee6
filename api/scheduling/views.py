"""Staff JSON API for the rescheduling engine: disruptions, the queue, offers, capacity, plans."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select

from api.deps import SessionDep, SettingsDep, StaffUserDep, reads_only, require_role
from api.errors import STAFF_ERRORS, error_responses
from api.fields import NO_NUL, DayText, IdPath
from api.flows import booking as booking_flow
from api.flows import clinical_review as clinical_review_flow
from api.reference.models import AppointmentType, Specialty
from api.scheduling import capacity, listings, matching, planning, priority, schemas
from api.scheduling import service as scheduling_service
from api.scheduling.disruptions import get_disruption as load_disruption
from api.scheduling.errors import InvalidRequest
from api.scheduling.models import ClinicSession, Offer, SessionKind, Slot
from api.staff.models import Role, StaffUser
from api.system import localtime

router = APIRouter(prefix="/api/v1", tags=["scheduling"], responses=STAFF_ERRORS)
Planner = Annotated[StaffUser, Depends(require_role(Role.ADMIN, Role.CLINICIAN))]


def _actor(user: StaffUser) -> str:
    return f"staff:{user.id}"


def _offer_out(offer: Offer, slot: Slot | None) -> schemas.OfferOut:
    out = schemas.OfferOut.model_validate(offer)
    if slot is not None:
        out.start_at, out.site_id = slot.start_at, slot.site_id
    return out


def _disruption_out(disruption) -> schemas.DisruptionOut:
    return schemas.DisruptionOut(
        id=disruption.id, name=disruption.name, starts_at=disruption.starts_at,
        ends_at=disruption.ends_at, staff_group=disruption.staff_group, reason=disruption.reason,
        specialty_codes=sorted(s.code for s in disruption.specialties),
        site_codes=sorted(s.code for s in disruption.sites))


def _rules(body: schemas.RulesIn | None) -> scheduling_service.PostponementRules:
    body = body or schemas.RulesIn()
    return scheduling_service.PostponementRules(
        keep_priorities=frozenset(body.keep_priorities),
        keep_pathways=frozenset(body.keep_pathways),
        keep_appointment_ids=frozenset(body.keep_appointment_ids),
        postpone_appointment_ids=frozenset(body.postpone_appointment_ids),
        block_free_slots=body.block_free_slots)


# --- disruptions -------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip")]
CodeQuery = Annotated[str | None, Query(max_length=16, pattern=NO_NUL)]


@router.get("/disruptions", response_model=schemas.DisruptionPage)
@reads_only
def list_disruptions(session: SessionDep, user: StaffUserDep, limit: Limit = 50,
                     offset: Offset = 0) -> schemas.DisruptionPage:
    """Disruptions, newest first, with how many appointments each postponed and where they
    are now."""
    rows, total = listings.disruption_page(session=session, limit=limit, offset=offset)
    return schemas.DisruptionPage(total=total, limit=limit, offset=offset, items=[
        schemas.DisruptionListed(**_disruption_out(r.disruption).model_dump(),
                                 postponed=r.postponed, awaiting_date=r.awaiting_date,
                                 rebooked=r.rebooked) for r in rows])



@router.post("/disruptions", response_model=schemas.DisruptionOut,
             status_code=status.HTTP_201_CREATED, responses=error_responses(404))
def declare_disruption(body: schemas.DisruptionIn, session: SessionDep,
                       user: Planner) -> schemas.DisruptionOut:
    """Record a period of industrial action and the specialties and sites it touches."""
    disruption = scheduling_service.declare_disruption(session=session, **body.model_dump())
    session.commit()
    return _disruption_out(disruption)


@router.get("/disruptions/{disruption_id}", response_model=schemas.DisruptionOut,
            responses=error_responses(404))
@reads_only
def get_disruption(disruption_id: IdPath, session: SessionDep,
                   user: StaffUserDep) -> schemas.DisruptionOut:
    """One disruption."""
    return _disruption_out(load_disruption(session=session, disruption_id=disruption_id))


@router.post("/disruptions/{disruption_id}/preview", response_model=schemas.PreviewOut,
             responses=error_responses(404))
def preview_disruption(disruption_id: IdPath, session: SessionDep, user: StaffUserDep,
                       body: schemas.RulesIn | None = None) -> schemas.PreviewOut:
    """Every appointment the disruption affects and whether the rules would postpone it."""
    decisions = scheduling_service.preview_disruption(
        session=session, disruption_id=disruption_id, rules=_rules(body))
    postpone = sum(d.postpone for d in decisions)
    return schemas.PreviewOut(
        affected=len(decisions), postpone=postpone, keep=len(decisions) - postpone,
        decisions=[schemas.DecisionOut.model_validate(d) for d in decisions])


@router.post("/disruptions/{disruption_id}/postpone", response_model=schemas.PostponeOut,
             responses=error_responses(404, 409))
def postpone_disruption(disruption_id: IdPath, session: SessionDep, user: Planner,
                        body: schemas.RulesIn | None = None) -> schemas.PostponeOut:
    """Postpone the affected appointments the rules do not keep (all or nothing)."""
    result = scheduling_service.postpone_disruption(
        session=session, disruption_id=disruption_id, rules=_rules(body), actor=_actor(user))
    session.commit()
    return schemas.PostponeOut.model_validate(result)


@router.post("/disruptions/{disruption_id}/plan", response_model=schemas.PlanOut,
             responses=error_responses(404, 409))
def plan_backlog(disruption_id: IdPath, session: SessionDep, user: Planner,
                 method: Literal["greedy", "solver"] = "greedy",
                 apply: bool = False) -> schemas.PlanOut:
    """Assign the disruption's postponed backlog to free slots; `apply` sends them as offers."""
    problem = planning.load_problem(session=session, disruption_id=disruption_id)
    plan = planning.greedy(problem) if method == "greedy" else planning.solver(problem)
    sent = 0
    if apply:
        sent = planning.apply_plan(session=session, plan=plan, actor=_actor(user))
        session.commit()
    return schemas.PlanOut(
        method=plan.method, objective=plan.objective, breaches=plan.breaches,
        breach_days=plan.breach_days, unassigned=plan.unassigned, seconds=plan.seconds,
        finished=plan.finished, note=plan.note, assignments=len(plan.assignment),
        offers_sent=sent)


# --- the waiting list ------------------------------------------------------------------


@router.get("/scheduling/queue", response_model=list[schemas.QueueEntry])
@reads_only
def waiting_list(specialty_code: Annotated[str, Query(max_length=16, pattern=NO_NUL)],
                 session: SessionDep, user: StaffUserDep,
                 appointment_type: AppointmentType = AppointmentType.OUTPATIENT,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[schemas.QueueEntry]:
    """Who is waiting for a date in one specialty and type, most pressing first, and why."""
    specialty = session.scalar(select(Specialty).where(Specialty.code == specialty_code))
    if specialty is None:
        raise InvalidRequest(f"unknown specialty code {specialty_code!r}")
    ordered = scheduling_service.queue(session=session, specialty_id=specialty.id,
                                       appointment_type=appointment_type)
    today = localtime.local_today()
    return [schemas.QueueEntry(position=i, appointment_id=f.appointment_id, priority=f.priority,
                               breach_date=f.breach_date, reasons=priority.reasons(f, today))
            for i, f in enumerate(ordered[:limit], start=1)]


@router.get("/scheduling/appointments/{appointment_id}/position",
            response_model=schemas.PositionOut, responses=error_responses(404))
@reads_only
def position(appointment_id: IdPath, session: SessionDep,
             user: StaffUserDep) -> schemas.PositionOut:
    """Why the appointment is where it is in its queue, in one sentence."""
    return schemas.PositionOut(appointment_id=appointment_id,
                               explanation=scheduling_service.explain_position(
                                   session=session, appointment_id=appointment_id))


# --- offers ---------------------------------------------------------------------------------


@router.post("/scheduling/appointments/{appointment_id}/offers",
             response_model=list[schemas.OfferOut], responses=error_responses(404, 409))
def find_offers(appointment_id: IdPath, session: SessionDep, user: StaffUserDep,
                body: schemas.FindOffersIn | None = None) -> list[schemas.OfferOut]:
    """Hold the best matching slots for an appointment as sent offers (24 h by default)."""
    body = body or schemas.FindOffersIn()
    prefs = matching.Preferences(**body.preferences.model_dump()) if body.preferences else None
    offers = scheduling_service.find_offers(
        session=session, appointment_id=appointment_id, preferences=prefs, limit=body.limit,
        hold_minutes=body.hold_minutes, source="staff")
    session.commit()
    return [_offer_out(o, session.get(Slot, o.slot_id)) for o in offers]


@router.post("/scheduling/appointments/{appointment_id}/decline-offers",
             response_model=schemas.ReleasedOut, responses=error_responses(404, 409))
def decline_offers(appointment_id: IdPath, session: SessionDep,
                   user: StaffUserDep) -> schemas.ReleasedOut:
    """Release the appointment's open offers (the patient declined them)."""
    released = scheduling_service.decline_offers(session=session, appointment_id=appointment_id,
                                                 actor=_actor(user))
    session.commit()
    return schemas.ReleasedOut(released=released)


@router.post("/scheduling/appointments/{appointment_id}/clinical-review",
             response_model=schemas.AppointmentOut, responses=error_responses(404, 409))
def clinical_review(appointment_id: IdPath, body: schemas.ReviewIn, session: SessionDep,
                    settings: SettingsDep, user: StaffUserDep) -> schemas.AppointmentOut:
    """Send an appointment for a clinical decision (patient cannot come, or no longer needs it)."""
    appointment = clinical_review_flow.release_for_review(
        session=session, settings=settings, appointment_id=appointment_id, reason=body.reason,
        actor=_actor(user))
    session.commit()
    return schemas.AppointmentOut.model_validate(appointment)


@router.post("/offers/{offer_id}/book", response_model=schemas.AppointmentOut,
             responses=error_responses(404, 409, 410))
def book_offer(offer_id: IdPath, body: schemas.BookIn, session: SessionDep,
               settings: SettingsDep, user: StaffUserDep) -> schemas.AppointmentOut:
    """Book the slot an offer holds, for the patient it was made to, and confirm it to them."""
    appointment = booking_flow.book_and_confirm(
        session=session, settings=settings, offer_id=offer_id, patient_id=body.patient_id,
        actor=_actor(user)).appointment
    session.commit()
    return schemas.AppointmentOut.model_validate(appointment)


@router.post("/offers/release-expired", response_model=schemas.ReleasedOut)
def release_expired(session: SessionDep, user: StaffUserDep) -> schemas.ReleasedOut:
    """Expire open offers past their time and free (or cascade) their slots."""
    released = scheduling_service.release_expired_holds(session=session)
    session.commit()
    return schemas.ReleasedOut(released=released)


# --- new capacity -----------------------------------------------------------------------------


def _slot_minutes(body: schemas.ClinicIn) -> list[int]:
    if body.case_minutes:
        return list(body.case_minutes)
    if body.slots is None or body.slot_minutes is None:
        raise InvalidRequest("give slots and slot_minutes, or case_minutes")
    return [body.slot_minutes] * body.slots


def _clinic_out(session, clinic: ClinicSession) -> schemas.ClinicOut:
    count = len(list(session.scalars(select(Slot.id).where(Slot.session_id == clinic.id))))
    return schemas.ClinicOut(
        id=clinic.id, kind=clinic.kind, site_id=clinic.site_id, specialty_id=clinic.specialty_id,
        clinician_id=clinic.clinician_id, location=clinic.location, starts_at=clinic.starts_at,
        ends_at=clinic.ends_at, short_notice=clinic.short_notice, slots=count)


@router.get("/clinics", response_model=schemas.ClinicPage)
@reads_only
def list_clinics(session: SessionDep, user: StaffUserDep,
                 from_date: Annotated[DayText | None, Query(
                     description="First day (the trust's time zone); default today")] = None,
                 to_date: Annotated[DayText | None, Query(description="Last day, included")] = None,
                 site_code: CodeQuery = None, specialty_code: CodeQuery = None,
                 short_notice: bool | None = None, kind: SessionKind | None = None,
                 with_free_slots: bool = False, limit: Limit = 50,
                 offset: Offset = 0) -> schemas.ClinicPage:
    """Clinic sessions and theatre lists, soonest first, with their free slots."""
    filters = listings.ClinicFilters(
        from_date=from_date or localtime.local_today(), to_date=to_date, site_code=site_code,
        specialty_code=specialty_code, short_notice=short_notice, kind=kind,
        with_free_slots=with_free_slots)
    rows, total = listings.clinic_page(session=session, filters=filters, limit=limit, offset=offset)
    return schemas.ClinicPage(total=total, limit=limit, offset=offset, items=[
        schemas.ClinicListed(
            id=r.clinic.id, kind=r.clinic.kind, date=r.local_date, starts_at=r.clinic.starts_at,
            ends_at=r.clinic.ends_at, site_code=r.clinic.site.code, site_name=r.clinic.site.name,
            specialty_code=r.clinic.specialty.code, specialty_name=r.clinic.specialty.name,
            location=r.clinic.location, short_notice=r.clinic.short_notice, slots=r.slots,
            free_slots=r.free_slots) for r in rows])


@router.post("/clinics", response_model=schemas.ClinicOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(404, 409))
def add_clinic(body: schemas.ClinicIn, session: SessionDep,
               user: StaffUserDep) -> schemas.ClinicOut:
    """Add a short-notice clinic or theatre list; its slots start free."""
    clinic = scheduling_service.add_clinic(
        session=session, site_code=body.site_code, specialty_code=body.specialty_code,
        clinician_code=body.clinician_code, location=body.location, kind=body.kind,
        appointment_type=body.appointment_type, starts_at=body.starts_at,
        slot_minutes=_slot_minutes(body))
    session.commit()
    return _clinic_out(session, clinic)


@router.get("/clinics/{clinic_id}/proposal", response_model=list[schemas.ProposalOut],
            responses=error_responses(404))
def propose(clinic_id: IdPath, session: SessionDep, user: StaffUserDep,
            min_notice_hours: Annotated[int, Query(ge=0, le=schemas.MAX_NOTICE_HOURS)] = 48
            ) -> list[schemas.ProposalOut]:
    """Who the engine would offer each free slot of the session to, in priority order."""
    proposals = scheduling_service.propose(session=session, clinic_session_id=clinic_id,
                                           min_notice=timedelta(hours=min_notice_hours))
    return [schemas.ProposalOut.model_validate(p) for p in proposals]


@router.post("/clinics/{clinic_id}/approve", response_model=list[schemas.OfferOut],
             responses=error_responses(404, 409))
def approve(clinic_id: IdPath, session: SessionDep, user: StaffUserDep,
            body: schemas.ApproveIn | None = None) -> list[schemas.OfferOut]:
    """Approve the proposal: offer each slot to its patient; declines cascade down the list."""
    body = body or schemas.ApproveIn()
    offers = capacity.approve(session=session, clinic_session_id=clinic_id, actor=_actor(user),
                              hold_hours=body.hold_hours,
                              min_notice=timedelta(hours=body.min_notice_hours))
    session.commit()
    return [_offer_out(o, session.get(Slot, o.slot_id)) for o in offers]
