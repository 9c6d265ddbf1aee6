"""Why a scheduling request was refused. Each error carries the HTTP status the API answers with."""

from __future__ import annotations

from api import errors
from api.errors import RefusedRequest


class SchedulingError(RefusedRequest):
    """A scheduling request that cannot be honoured; nothing it asked for was applied."""

    status_code = 400


class NotFound(SchedulingError, errors.NotFound):
    status_code = 404


class InvalidRequest(SchedulingError, errors.Invalid):
    """The request contradicts itself (ends before it starts, a slot in the past...)."""

    status_code = 422


class Conflict(SchedulingError, errors.Conflict):
    """The request clashes with the current state (a room or clinician already in use...)."""

    status_code = 409


class SlotTaken(Conflict):
    """Somebody else booked or holds the slot."""


class AlreadyBooked(Conflict):
    """The appointment already has a date, or the patient is busy at that time."""


class OfferNotOpen(Conflict):
    """The offer was accepted, declined or withdrawn already."""


class OfferExpired(SchedulingError):
    status_code = 410


class NotYourOffer(SchedulingError, errors.Forbidden):
    """The offer is for another patient's appointment."""

    status_code = 403
