"""This adapter's `rebook integration` commands: listen, export, send."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import typer

OUT = typer.Option(..., "--out", help="The feed file to write.")
FEED_FILE = typer.Argument(..., help="An HL7 feed file (one message per line).")


def register(app: typer.Typer) -> None:
    """Add this adapter's commands to `rebook integration`."""
    app.command("listen")(listen)
    app.command("export")(export_feed)
    app.command("send")(send)


def listen(
    host: str = typer.Option(None, "--host", help="Address to listen on (HL7_LISTEN_HOST)."),
    port: int = typer.Option(None, "--port", help="Port (HL7_LISTEN_PORT; 0: any free one)."),
) -> None:
    """Run the MLLP listener for the PAS's ADT and SIU messages until stopped (SIGTERM)."""
    from api.config import get_settings
    from api.db import get_sessionmaker
    from api.integration.hl7.listener import Listener
    from api.system.terminal import err, fail

    settings = get_settings()
    if "hl7" not in settings.pas_adapters:
        fail("PAS_MODE does not include hl7: the listener's messages would all be ignored")
    listener = Listener(settings=settings, sessions=get_sessionmaker())

    def started(bound: int) -> None:
        err.print(f"listening for HL7 on {host or settings.hl7_listen_host}:{bound}",
                  highlight=False)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await listener.serve(host=host or settings.hl7_listen_host,
                             port=settings.hl7_listen_port if port is None else port,
                             stop=stop, started=started)

    try:
        asyncio.run(run())
    except OSError as exc:
        fail(f"cannot listen: {exc.strerror or exc}")


def export_feed(
    out: Path = OUT,
) -> None:
    """Write the database's patients and appointments as an HL7 feed (ADT^A28, then SIU)."""
    from api.config import get_settings
    from api.db import read_only_session
    from api.integration.hl7 import export
    from api.system.terminal import err

    count = 0
    with read_only_session() as session, out.open("w", encoding="utf-8", newline="") as file:
        for message in export.feed(session=session, settings=get_settings()):
            file.write(message + "\n")
            count += 1
    out.chmod(0o600)  # personal data: readable by its owner only
    err.print(f"{count} messages written to {out}", highlight=False)


def send(
    file: Path = FEED_FILE,
    host: str = typer.Option("127.0.0.1", "--host", help="The listener's address."),
    port: int = typer.Option(None, "--port", help="The listener's port (HL7_LISTEN_PORT)."),
) -> None:
    """Send a feed file's messages over MLLP, in order, each after its acknowledgement."""
    from api.config import get_settings
    from api.integration.hl7 import ack, mllp
    from api.integration.hl7.export import split
    from api.system.terminal import fail, table

    settings = get_settings()
    if not file.is_file():
        fail(f"{file} is not a file")
    messages = split(file.read_text(encoding="utf-8"))
    try:
        answers = asyncio.run(mllp.send_all(
            host=host, port=settings.hl7_listen_port if port is None else port,
            messages=messages, timeout=settings.hl7_timeout_seconds))
    except ConnectionError as exc:
        fail(str(exc), code=1)
    codes = Counter(ack.read(answer)[0] for answer in answers)
    table(None, ("answer", "messages"), sorted(codes.items()))
    if set(codes) - {"AA"}:
        raise typer.Exit(code=1)
