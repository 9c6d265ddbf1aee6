"""The PAS writers the write-back dispatcher sends through, built from the settings.

FHIR and HL7 answer Rebook's bookings themselves; CSV needs no writer (its bookings wait in
the bookings export, `rebook integration csv export-bookings`).
"""

from __future__ import annotations

from api.config import Settings
from api.integration.fhir.writer import FhirWriter
from api.integration.hl7.writer import Hl7Writer
from api.integration.models import Adapter
from api.integration.writeback import PasWriter

WRITERS = {Adapter.FHIR: FhirWriter, Adapter.HL7: Hl7Writer}


def writers_for(*, settings: Settings) -> dict[Adapter, PasWriter]:
    """A writer for each configured adapter that writes back to the PAS."""
    return {Adapter(name): WRITERS[Adapter(name)](settings=settings)
            for name in settings.pas_adapters if Adapter(name) in WRITERS}
