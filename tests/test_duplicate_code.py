"""Logic is written once: pylint's duplicate-code check over api/ and actions/ (runs of six or
more similar lines) finds nothing but declarations, such as a domain dataclass and the API
schema that carries the same fields, or enum members."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A field (`name: type`, `name: type = default`) or an enum member (`NAME = "value"`).
DECLARATION = re.compile(r"^\s*(\w+\s*:\s*[^=()]+(=.*)?|[A-Z][A-Z0-9_]*\s*=\s*[\"'\w.-]+)\s*$")


def _duplicates() -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pylint", "--disable=all", "--enable=duplicate-code",
         "--min-similarity-lines=6", "--ignore-imports=yes", "--output-format=json",
         "api", "actions"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return [item["message"] for item in json.loads(result.stdout or "[]")
            if item["symbol"] == "duplicate-code"]


def _only_declarations(message: str) -> bool:
    shared = [line for line in message.splitlines()[1:]
              if line.strip() and not line.startswith("==")]
    return all(DECLARATION.match(line) for line in shared)


def test_declaration_lines_are_told_apart_from_logic():
    assert _only_declarations("Similar lines\n==a:[1:3]\n==b:[1:3]\n    id: int\n"
                              "    why: str = ''\n    CLERK = \"clerk\"\n")
    assert not _only_declarations("Similar lines\n==a:[1:3]\n==b:[1:3]\n    id: int\n"
                                  "    session.add(row)\n")


def test_no_logic_is_written_twice_in_api_or_actions():
    repeated = [message for message in _duplicates() if not _only_declarations(message)]
    assert not repeated, "\n\n".join(repeated)
