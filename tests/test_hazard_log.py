"""Every control in the hazard log points at a test that exists (make test runs them all)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_every_referenced_test_exists():
    text = (ROOT / "docs" / "clinical-safety.md").read_text()
    references = REFERENCE.findall(text)
    assert len(references) >= 30
    missing = []
    for path, name in references:
        source = ROOT / path
        if not source.exists():
            missing.append(f"{path} (no such file)")
            continue
        names = {node.name for node in ast.walk(ast.parse(source.read_text()))
                 if isinstance(node, ast.FunctionDef)}
        if name not in names:
            missing.append(f"{path}::{name}")
    assert not missing, missing


def test_every_hazard_has_controls_and_tests():
    text = (ROOT / "docs" / "clinical-safety.md").read_text()
    hazards = re.findall(r"^\| (H\d+) \|", text, re.MULTILINE)
    for hazard in hazards:
        section = re.search(rf"^### {hazard} .*?(?=^### |\Z)", text, re.MULTILINE | re.DOTALL)
        assert section, f"{hazard} has no controls section"
        assert REFERENCE.search(section.group(0)), f"{hazard} names no test"
