"""Small enough to read: no module in api/ or actions/ over 400 lines, no function over 60.

Checked over the AST of every module. A module or function over the limit on purpose is listed
in ALLOWED with the reason; the test also fails when a listed entry is within the limits
again, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "actions")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # from `def` to the last line, docstring included

# A module ("api/x.py"), a folder ("api/x/", everything under it) or a function
# ("api/x.py::Class.method") -> why it may be longer.
ALLOWED: dict[str, str] = {
    "api/migrations/versions/": "alembic migrations: schema declarations",
    "api/conversations/safety/lexicon.py": "data: the safety screen's concept rules",
}


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def oversized(path: str, source: str) -> dict[str, int]:
    """What in one module is over the limits: "path" or "path::function" -> its lines."""
    found = {}
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found[path] = lines
    for name, node in _functions(ast.parse(source)):
        length = node.end_lineno - node.lineno + 1
        if length > MAX_FUNCTION_LINES:
            found[f"{path}::{name}"] = length
    return found


def allowed_by(item: str) -> str | None:
    """The ALLOWED entry that covers `item`, if any."""
    path = item.partition("::")[0]
    for entry in ALLOWED:
        if item == entry or path == entry or (entry.endswith("/") and path.startswith(entry)):
            return entry
    return None


def _everything_oversized() -> dict[str, int]:
    found = {}
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            found.update(oversized(path, file.read_text(encoding="utf-8")))
    return found


def test_modules_and_functions_are_within_the_limits():
    found = _everything_oversized()
    over = [f"{item}: {lines} lines" for item, lines in found.items() if not allowed_by(item)]
    assert not over, (f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a "
                      "function; split it (or list it in ALLOWED with why):\n" + "\n".join(over))
    used = {allowed_by(item) for item in found}
    stale = [entry for entry in ALLOWED if entry not in used]
    assert not stale, "within the limits now; remove from ALLOWED:\n" + "\n".join(stale)


# -- the checker checks itself -----------------------------------------------------------------

def _function(name: str, body_lines: int, indent: str = "") -> str:
    return f"{indent}def {name}():\n" + f"{indent}    x = 1\n" * (body_lines - 1) \
        + f"{indent}    return x\n"


def test_the_checker_catches_long_modules_and_functions():
    short = _function("short", MAX_FUNCTION_LINES - 1)
    assert oversized("api/ok.py", short) == {}
    long = _function("long", MAX_FUNCTION_LINES)  # the `def` line makes it one too many
    assert oversized("api/x.py", long) == {"api/x.py::long": MAX_FUNCTION_LINES + 1}
    method = "class Worker:\n" + _function("turn", MAX_FUNCTION_LINES, indent="    ")
    assert list(oversized("api/x.py", method)) == ["api/x.py::Worker.turn"]
    nested = _function("outer", 2) + _function("inner", MAX_FUNCTION_LINES, "    ")
    assert "api/x.py::outer.inner" in oversized("api/x.py", nested)
    big = "x = 1\n" * (MAX_MODULE_LINES + 1)
    assert oversized("api/big.py", big) == {"api/big.py": MAX_MODULE_LINES + 1}
    assert oversized("api/ok.py", "x = 1\n" * MAX_MODULE_LINES) == {}


def test_the_allowlist_covers_files_folders_and_functions():
    assert allowed_by("api/migrations/versions/2024_01_01_init.py::upgrade")
    assert allowed_by("api/conversations/safety/lexicon.py::RULES")
    assert allowed_by("api/conversations/safety/lexicon.py")
    assert not allowed_by("api/messaging/outbox.py")
    assert not allowed_by("api/migrations/env.py")
