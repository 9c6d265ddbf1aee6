"""This adapter's `rebook integration` commands.

Imports print a summary table and the rows' errors in words; they exit 1 when rows were
rejected (so a scheduled job notices) and 2 when the file is unusable (nothing changed).
"""

from __future__ import annotations

from pathlib import Path

import typer

from api.system.terminal import err, fail, out, table

DryRun = typer.Option(False, "--dry-run",
                      help="Check the file and say what would change; write nothing.")
Report = typer.Option(None, "--report", metavar="FILE",
                      help="Write every rejected row (line, column, reason) to this CSV.")
WaitingListFile = typer.Argument(..., help="The waiting-list extract (CSV)")
CapacityFile = typer.Argument(..., help="The capacity file (CSV)")
OutFile = typer.Option(..., "--out", metavar="FILE", help="The CSV to write for the PAS upload")
Everything = typer.Option(False, "--all", help="Every booking again, uploaded or not")
OutDir = typer.Option(..., "--out-dir", metavar="DIR", help="Where to write the two CSV files")


def register(app: typer.Typer) -> None:
    """Add this adapter's commands to `rebook integration`."""
    app.command("import-waiting-list")(import_waiting_list)
    app.command("import-capacity")(import_capacity)
    app.command("export-bookings")(export_bookings)
    app.command("export-demo")(export_demo)


def import_waiting_list(file: Path = WaitingListFile, dry_run: bool = DryRun,
                        report: Path = Report) -> None:
    """Load the PAS's waiting-list extract: patients and their appointments."""
    from api.integration.csvfile import waiting_list

    _import(waiting_list.import_file, file, dry_run, report)


def import_capacity(file: Path = CapacityFile, dry_run: bool = DryRun,
                    report: Path = Report) -> None:
    """Load the PAS's capacity file: clinic sessions and their slots."""
    from api.integration.csvfile import capacity

    _import(capacity.import_file, file, dry_run, report)


def _import(import_file, file: Path, dry_run: bool, report: Path | None) -> None:
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.integration.csvfile.cells import UnusableFile

    with get_sessionmaker()() as session:
        try:
            summary = import_file(session=session, settings=get_settings(), path=file,
                                  dry_run=dry_run, report=report)
        except UnusableFile as exc:
            session.rollback()
            fail(f"{file.name} cannot be imported: {exc}. Nothing was changed.")
        if dry_run:
            session.rollback()
    _print_summary(file, summary, report)
    if summary.rejected:
        raise typer.Exit(code=1)


def _print_summary(file: Path, summary, report: Path | None) -> None:
    if summary.dry_run:
        rows = [("rows read", summary.read), ("would be created", summary.would_create),
                ("would be updated", summary.would_update),
                ("unchanged (imported before)", summary.unchanged),
                ("rejected", summary.rejected)]
    else:
        rows = [("rows read", summary.read), ("applied", summary.applied),
                ("unchanged (imported before)", summary.unchanged),
                ("ignored (older, or not this adapter's data)", summary.ignored),
                ("parked for staff (integration exceptions)", summary.parked),
                ("rejected", summary.rejected)]
    title = f"{file.name}: {'dry run, nothing written' if summary.dry_run else 'imported'}"
    table(title, ["", "rows"], rows)
    if summary.reasons:
        table("Why rows were rejected", ["reason", "rows"], summary.reasons.most_common())
        for error in summary.errors:
            column = f" {error.column}" if error.column else ""
            err.print(f"line {error.line}{column}: {error.reason}", highlight=False,
                      markup=False)
        if summary.rejected > len(summary.errors):
            where = f"all of them are in {report}" if report else "use --report FILE for all"
            err.print(f"(the first {len(summary.errors)} errors shown; {where})")
    if summary.parked_reasons:
        table("Parked for staff", ["reason", "rows"], summary.parked_reasons.most_common())


def export_bookings(out_file: Path = OutFile, everything: bool = Everything) -> None:
    """Write the bookings made in Rebook for upload to the PAS, once each."""
    from api.config import get_settings
    from api.db import session_scope
    from api.integration.csvfile import bookings_export

    try:
        with session_scope() as session:
            done = bookings_export.export_bookings(session=session, settings=get_settings(),
                                                   path=out_file, everything=everything)
    except OSError as exc:
        fail(f"{out_file} cannot be written: {exc.strerror or exc}. Nothing was marked "
             "uploaded.")
    out.print(f"{done.rows} booking(s) written to {done.path}; {done.marked_uploaded} marked "
              "uploaded.", highlight=False)


def export_demo(out_dir: Path = OutDir) -> None:
    """Write this database's trust as a waiting-list extract and a capacity file."""
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.integration.csvfile import export

    try:
        with get_sessionmaker()() as session:
            done = export.write_trust(session=session, settings=get_settings(),
                                      out_dir=out_dir)
    except OSError as exc:
        fail(f"{out_dir} cannot be written: {exc.strerror or exc}")
    out.print(f"{done.appointments} appointment(s) in {done.waiting_list}; {done.slots} "
              f"slot(s) in {done.capacity}", highlight=False)
