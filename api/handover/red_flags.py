"""Lowering a red flag, and the clinicians' daily review of what was lowered.

Only clinicians and admins resolve a red flag (casework.can_resolve). A clerk who judges that a
flagged message is not a red flag ("chest of drawers", a relative's past illness) marks it so
with a reason: the case leaves the red-flag state (reason `red_flag_lowered`, normal urgency)
so the day's work can go on, and a review row puts it on the clinicians' list
(/console/red-flag-reviews). A clinician confirms it, or reopens it as an urgent red flag.
Every step is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import service as audit_service
from api.db import utcnow
from api.handover import casework
from api.handover.models import (
    Handover,
    HandoverReason,
    HandoverStatus,
    RedFlagReview,
    ReviewStatus,
    Urgency,
)
from api.staff.models import StaffUser

MAX_REASON_CHARS = 1000


def _audit(session: Session, user: StaffUser, action: str, handover: Handover, **details):
    return audit_service.record(session=session, actor=user.audit_actor, action=action,
                                object_type="handover", object_id=handover.id,
                                patient_id=handover.patient_id, details=details)


def lower(*, session: Session, handover: Handover, user: StaffUser,
          reason: str) -> RedFlagReview:
    """Mark a red-flag case "not a red flag", with why: out of the red-flag state, onto the
    clinicians' review list."""
    casework.ensure_open(handover)
    if handover.reason is not HandoverReason.RED_FLAG:
        raise casework.Conflict("this handover is not a red flag")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise casework.HandoverError(
            f"say why it is not a red flag (1 to {MAX_REASON_CHARS} characters)")
    review = RedFlagReview(handover_id=handover.id, lowered_by=user.id, reason=reason,
                           previous_urgency=handover.urgency, status=ReviewStatus.PENDING,
                           lowered_at=utcnow())
    session.add(review)
    handover.reason = HandoverReason.RED_FLAG_LOWERED
    handover.urgency = Urgency.NORMAL
    _audit(session, user, "lower_red_flag", handover, text=reason)
    session.flush()
    return review


def pending(*, session: Session) -> list[tuple[RedFlagReview, Handover]]:
    """Lowered red flags no clinician has reviewed yet, oldest first (the daily list)."""
    return [(review, handover) for review, handover in session.execute(
        select(RedFlagReview, Handover).join(Handover, Handover.id == RedFlagReview.handover_id)
        .where(RedFlagReview.status == ReviewStatus.PENDING)
        .order_by(RedFlagReview.lowered_at, RedFlagReview.id)).all()]


def review_of(*, session: Session, handover_id: int) -> RedFlagReview | None:
    """The latest lowering of this case, if it was ever lowered."""
    return session.scalars(select(RedFlagReview).where(RedFlagReview.handover_id == handover_id)
                           .order_by(RedFlagReview.id.desc()).limit(1)).first()


def _pending_review(session: Session, review_id: int) -> tuple[RedFlagReview, Handover]:
    review = session.get(RedFlagReview, review_id)
    if review is None:
        raise casework.NotFound("no such red-flag review")
    if review.status is not ReviewStatus.PENDING:
        raise casework.Conflict("this red flag was reviewed already")
    return review, session.get(Handover, review.handover_id)


def _check_reviewer(user: StaffUser) -> None:
    if user.role not in casework.CLINICAL_ROLES:
        raise casework.Forbidden("only a clinician or an admin can review a lowered red flag")


def confirm(*, session: Session, review_id: int, user: StaffUser,
            note: str = "") -> RedFlagReview:
    """A clinician agrees: not a red flag. The case stays as it is."""
    _check_reviewer(user)
    review, handover = _pending_review(session, review_id)
    _finish(review, user, ReviewStatus.CONFIRMED, note)
    _audit(session, user, "confirm_not_red_flag", handover, review_id=review.id,
           text=review.review_note or "")
    session.flush()
    return review


def reopen(*, session: Session, review_id: int, user: StaffUser, note: str = "") -> Handover:
    """A clinician disagrees: the case is a red flag again, with its urgency, and open again
    if it was resolved meanwhile (an unresolved case pauses the assistant once more)."""
    _check_reviewer(user)
    review, handover = _pending_review(session, review_id)
    _finish(review, user, ReviewStatus.REOPENED, note)
    handover.reason = HandoverReason.RED_FLAG
    handover.urgency = review.previous_urgency
    if handover.status is HandoverStatus.RESOLVED:
        handover.status, handover.resolution, handover.resolved_at = (
            HandoverStatus.OPEN, None, None)
    handover.due_at = min(handover.due_at, utcnow())
    _audit(session, user, "reopen_red_flag", handover, review_id=review.id,
           text=review.review_note or "")
    session.flush()
    return handover


def _finish(review: RedFlagReview, user: StaffUser, status: ReviewStatus, note: str) -> None:
    review.status = status
    review.reviewed_by = user.id
    review.reviewed_at = utcnow()
    review.review_note = note.strip()[:MAX_REASON_CHARS] or None
