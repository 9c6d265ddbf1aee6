"""The R4B models every resource Rebook reads or writes is checked against."""

from __future__ import annotations

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot
from pydantic import ValidationError

MODELS = {"Patient": Patient, "Appointment": Appointment, "Schedule": Schedule,
          "Slot": Slot, "Bundle": Bundle, "OperationOutcome": OperationOutcome}


class MappingError(ValueError):
    """A resource that is not valid R4B, or lacks what Rebook needs (in words, no content)."""


def validate(resource: dict) -> dict:
    """`resource` checked against its R4B model; raises MappingError when it is not valid."""
    model = MODELS.get(resource.get("resourceType"))
    if model is None:
        raise MappingError(f"unexpected resource type {resource.get('resourceType')!r}")
    try:
        model.model_validate(resource)
    except ValidationError as exc:  # the locations and messages only: never the values
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise MappingError(f"not a valid R4B {resource['resourceType']}: {problems}") from None
    return resource
