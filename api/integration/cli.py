"""`rebook integration`: the hospital's PAS (status, each adapter's commands)."""

from __future__ import annotations

import typer

from api.integration.csvfile import commands as csv_commands
from api.integration.fhir import commands as fhir_commands
from api.integration.hl7 import commands as hl7_commands
from api.system import terminal

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


@app.command("status")
def status(as_json: bool = terminal.JsonOption) -> None:
    """Each adapter's last sync and lag, messages in and write-backs out, open exceptions."""
    from api.config import get_settings
    from api.db import session_scope
    from api.integration.status import integration_status

    settings = get_settings()
    with session_scope() as session:
        found = integration_status(session=session, settings=settings)
    if as_json:
        terminal.print_json(found.as_dict())
        return
    if not found.adapters:
        terminal.out.print("No PAS is connected (PAS_MODE=none).")
    else:
        _print_table(found)
    reasons = ", ".join(f"{reason} {count}" for reason, count in
                        found.exceptions_by_reason.items())
    terminal.out.print(f"Open exceptions: {found.exceptions_open}"
                       + (f" ({reasons})" if reasons else "")
                       + (" - see /console/integration/exceptions" if found.exceptions_open
                          else ""), highlight=False)


def _print_table(found) -> None:
    from api.integration.status import counts_text, duration_text

    terminal.table(
        f"PAS sync ({terminal.zone_name()} time)",
        ["Adapter", "Last sync", "Lag", "PAS data lag", "Last error"],
        [[a.adapter, terminal.local(a.last_sync_at), duration_text(a.lag_seconds),
          duration_text(a.pas_lag_seconds) if a.adapter == "fhir" else "-",
          f"{terminal.local(a.last_error_at)}: {a.last_error}" if a.last_error else "-"]
         for a in found.adapters])
    terminal.table(
        "PAS messages",
        ["Adapter", "In, last hour", "In, last 24 h", "Answered, last 24 h", "Waiting to go",
         "Oldest waiting"],
        [[a.adapter, counts_text(a.inbound_last_hour), counts_text(a.inbound_last_day),
          counts_text(a.writeback_last_day),
          (f"{a.writeback_pending_upload} to upload" if a.adapter == "csv"
           else f"{a.writeback_open} ({a.writeback_retrying} retrying)"),
          duration_text(a.writeback_oldest_pending_seconds)
          if a.writeback_oldest_pending_seconds is not None else "-"]
         for a in found.adapters],
        caption=f"Bookings go back through: {found.writeback_adapter or 'none'}")
