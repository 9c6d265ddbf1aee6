"""The PAS writers the write-back dispatcher sends through, built from the settings.

FHIR and HL7 answer Rebook's bookings themselves; CSV needs no writer (its bookings wait in
the bookings export). An adapter whose writer cannot be built is left out: the dispatcher
then keeps its requests pending ("no writer is configured") and retries them, so nothing is
lost or confirmed to a patient while it is missing.
"""

from __future__ import annotations

import importlib
import logging

from api.config import Settings
from api.integration.models import Adapter
from api.integration.writeback import PasWriter

log = logging.getLogger(__name__)

# Imported when needed: each adapter's package brings its own client libraries.
WRITERS = {Adapter.FHIR: ("api.integration.fhir.writer", "FhirWriter"),
           Adapter.HL7: ("api.integration.hl7.writer", "Hl7Writer")}


def writers_for(*, settings: Settings) -> dict[Adapter, PasWriter]:
    """A writer for each configured adapter that writes back to the PAS."""
    writers: dict[Adapter, PasWriter] = {}
    for name in settings.pas_adapters:
        adapter = Adapter(name)
        if adapter not in WRITERS:
            continue
        module_name, class_name = WRITERS[adapter]
        try:
            writer_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            log.error("no PAS writer for this adapter: its write-backs wait",
                      extra={"adapter": adapter.value})
            continue
        writers[adapter] = writer_class(settings=settings)
    return writers
