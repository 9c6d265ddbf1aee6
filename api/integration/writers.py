"""The PAS writers the write-back dispatcher sends through, built from the settings.

FHIR and HL7 answer Rebook's bookings themselves; CSV needs no writer (its bookings wait in
the bookings export, `rebook integration csv export-bookings`).
"""

from __future__ import annotations

import logging

from api.config import Settings
from api.integration.fhir.client import FhirError
from api.integration.fhir.writer import FhirWriter
from api.integration.hl7.writer import Hl7Writer
from api.integration.models import Adapter
from api.integration.writeback import PasWriter

log = logging.getLogger(__name__)

WRITERS = {Adapter.FHIR: FhirWriter, Adapter.HL7: Hl7Writer}


def writers_for(*, settings: Settings) -> dict[Adapter, PasWriter]:
    """A writer for each configured adapter that writes back to the PAS. One that cannot be
    built (FHIR_BASE_URL unset) is left out and logged: its bookings wait, unconfirmed, and
    after a few attempts staff see "the PAS is not answering" on the exceptions list."""
    writers: dict[Adapter, PasWriter] = {}
    for name in settings.pas_adapters:
        adapter = Adapter(name)
        if adapter not in WRITERS:
            continue
        try:
            writers[adapter] = WRITERS[adapter](settings=settings)
        except FhirError as exc:
            log.error("PAS writer not configured; its bookings wait",
                      extra={"adapter": adapter.value, "reason": str(exc)})
    return writers
