"""`rebook data ...`: the retention purge and subject access exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(help="Data protection: retention purge, subject access exports.",
                  no_args_is_help=True)
console = Console(stderr=True)


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


@app.command("purge")
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; change nothing."),
) -> None:
    """Empty conversations idle longer than RETENTION_DAYS (no open handover); prints counts."""
    from api.audit import service as audit_service
    from api.config import get_settings
    from api.db import session_scope
    from api.privacy import service as privacy_service

    try:
        with session_scope() as session:
            result = privacy_service.purge(session=session, settings=get_settings(),
                                           dry_run=dry_run, actor=audit_service.cli_actor())
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(result))


@app.command("export-patient")
def export_patient(
    nhs_number: str = typer.Option(None, "--nhs-number", help="The patient's NHS number."),
    patient_id: int = typer.Option(None, "--patient-id", help="Or the patient's id."),
    output: Path = typer.Option(None, "--output", "-o",
                                help="Write the JSON here (default: standard output)."),
) -> None:
    """Everything held about one patient as JSON, for a subject access request (audited)."""
    from api.audit import service as audit_service
    from api.db import session_scope
    from api.privacy import service as privacy_service

    try:
        with session_scope() as session:
            patient = privacy_service.find_patient(session=session, patient_id=patient_id,
                                                   nhs_number=nhs_number)
            export = privacy_service.export_patient(
                session=session, patient=patient, actor=audit_service.cli_actor(), via="cli")
    except privacy_service.NoSuchPatient as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(f"{exc} (use --nhs-number or --patient-id)")
    text = json.dumps(export, indent=1)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n")
        output.chmod(0o600)  # personal data: readable by its owner only
        console.print(f"[green]written to {output}[/green]")
