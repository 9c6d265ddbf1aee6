"""`rebook integration`: the hospital's PAS (status, each adapter's commands)."""

from __future__ import annotations

import typer

from api.integration.csvfile import commands as csv_commands
from api.integration.fhir import commands as fhir_commands
from api.integration.hl7 import commands as hl7_commands

app = typer.Typer(help="The hospital's PAS: FHIR, HL7 v2 and CSV integration.",
                  no_args_is_help=True)
fhir_app = typer.Typer(help="FHIR R4: pull from the PAS, export the demo trust.",
                       no_args_is_help=True)
hl7_app = typer.Typer(help="HL7 v2 over MLLP: the ADT/SIU listener, the demo feed.",
                      no_args_is_help=True)
csv_app = typer.Typer(help="CSV: waiting-list and capacity imports, bookings export.",
                      no_args_is_help=True)
app.add_typer(fhir_app, name="fhir")
app.add_typer(hl7_app, name="hl7")
app.add_typer(csv_app, name="csv")
fhir_commands.register(fhir_app)
hl7_commands.register(hl7_app)
csv_commands.register(csv_app)
