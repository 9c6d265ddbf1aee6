"""Process-wide runtime settings for the long-running processes (api, worker, dispatcher)."""

from __future__ import annotations

import gc
import shutil


def freeze_startup_heap() -> None:
    """Keep everything that exists after start-up out of the cyclic garbage collector.

    A process that has imported FastAPI, SQLAlchemy, pydantic and the app holds a few hundred
    thousand long-lived objects, and CPython's full (generation 2) collection walks all of
    them: measured at 90-120 ms, about once a second under webhook load, stalling every
    request in flight. Nothing created at start-up is garbage, so it is moved to the
    permanent generation (gc.freeze) and later collections only look at new objects.
    """
    gc.collect()
    gc.freeze()


def with_lower_priority(argv: list[str], *, niceness: int) -> list[str]:
    """`argv` run under `nice`: background work yields the CPU to the webhook's acknowledgements.

    Twilio waits on every webhook while the worker, dispatcher and Rasa only ever work
    through a queue; on a small shared machine the queue should absorb a burst, not the
    acknowledgements. With `niceness` 0 (or no `nice` on the machine) `argv` is unchanged.
    """
    if niceness <= 0 or shutil.which("nice") is None:
        return argv
    return ["nice", "-n", str(niceness), *argv]
