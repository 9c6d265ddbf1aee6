"""How long an SIU^S15 takes from being sent to its held offers being withdrawn.

    PYTHONPATH=. .venv/bin/python benchmarks/hl7_cancel_latency.py [--patients 200] [--cancels 50]

Seeds the demo trust in a fresh SQLite database, links it as the PAS's (P<id>, A<id>), holds
offers for postponed appointments, then sends one S15 per appointment over MLLP to a listener
on loopback, one at a time, and times each from sending to its AA (the listener commits the
withdrawal before answering). Prints p50/p95 in ms. Target (issue 16): p95 under 2 s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from api.config import Settings
from api.db import make_engine
from api.schema import upgrade
from tests.integration.conftest import DEMO_TODAY
from tests.integration.hl7 import latency
from tests.integration.hl7.conftest import listening


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--cancels", type=int, default=50)
    args = parser.parse_args()
    settings = Settings(pas_mode="hl7")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'target.db'}"
        upgrade(database_url=url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as target:
            latency.prepare(target, patients=args.patients, today=DEMO_TODAY)
            held = latency.hold_offers(target, limit=args.cancels)
            messages = latency.cancels(target, settings, set(held))
            with listening(url, settings) as port:
                seconds, codes = latency.send_timed(port, messages)
        engine.dispose()
    p50, p95 = latency.percentiles(seconds)
    print(json.dumps({"cancels": len(seconds), "offers_withdrawn": sum(held.values()),
                      "all_aa": set(codes) == {"AA"}, "p50_ms": round(p50, 1),
                      "p95_ms": round(p95, 1), "max_ms": round(max(seconds) * 1000, 1)}))


if __name__ == "__main__":
    main()
