"""The catalogue of patient-facing texts (api/texts.yml), walked as a whole.

Every key is used, every caller supplies what its text needs, nothing is longer than a
concatenated SMS may be, no text names personal data beyond the documented placeholders, and
no sentence a patient can receive is written inline in the modules that speak from it.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.campaigns import content, followups
from api.texts import catalogue, template

ROOT = Path(__file__).resolve().parents[1]
CODE = sorted([*ROOT.joinpath("api").rglob("*.py"), *ROOT.joinpath("actions").rglob("*.py")])
# Twilio concatenates at most 10 segments: 1,600 characters is its limit for one message.
MAX_CHARS = 1600

# Every placeholder a text may have, and what it is. Only these carry anything about the
# patient, and none of them is a name, a date of birth, a number or an address of theirs.
PLACEHOLDERS = {
    # about the trust or the service
    "trust_name": "the trust's name", "trust": "the trust's name",
    "phone": "the bookings team's number", "bookings_phone": "the bookings team's number",
    "minutes": "how long dates are held", "attempts_left": "identity attempts left",
    "when": "by when staff answer, or an appointment's date and time",
    "time": "a clock time", "day": "today / tomorrow / a weekday",
    "numbers": "choice numbers (1, 2 or 3)",
    # sites (trust reference data, never the patient's own address)
    "site": "a hospital's name", "names": "the hospitals' names",
    "address": "a hospital's address", "place": "a hospital and room",
    "parking": "a site's parking note", "transport": "a site's transport note",
    "help": "a trust-wide practical note",
    # the appointment, said only after identity is verified (or, for a reminder, with no
    # specialty: date, time and place only)
    "label": "the appointment's kind (specialty)", "what": "the appointment's kind",
    "which": "the appointment's kind", "slot": "a slot's date, time and place",
    "was": "the old date", "count": "how many appointments", "choices": "slot choices",
    "wanted": "the patient's own stated preference", "bring": "what to bring",
    "language": "the interpreter language asked for", "about": "a practical note",
    "first": "a suggested meaning", "second": "a suggested meaning",
    # the phone line: what the caller has just said, read back before it is acted on
    "heard": "the caller's own answer, read back",
}
# Anything that looks like the patient's own details is refused outright.
PERSONAL = re.compile(r"(^|_)(first_name|surname|full_name|patient|nhs|dob|birth|mobile|email|"
                      r"postcode|home)(_|$)")

# Keys a caller builds from a prefix: text(f"safety_net_{group}") uses every safety_net_*.
FILLER = "Sample value"


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for path in CODE:
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _catalogue_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(functions imported from api.texts, names api.texts itself is bound to) in a module."""
    functions, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "api.texts":
            functions |= {a.asname or a.name for a in node.names}
        if isinstance(node, ast.ImportFrom) and node.module == "api":
            modules |= {a.asname or a.name for a in node.names if a.name == "texts"}
    return functions & {"text", "template"}, modules


def _catalogue_call(node: ast.AST, functions: set[str], modules: set[str]) -> str | None:
    """"text" or "template" when `node` calls the catalogue (not SQLAlchemy's text())."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id in functions:
        return func.id
    if (isinstance(func, ast.Attribute) and func.attr in {"text", "template"}
            and isinstance(func.value, ast.Name) and func.value.id in modules):
        return func.attr
    return None


def _key_pattern(arg: ast.AST) -> re.Pattern | None:
    """The keys a call's first argument can name: a literal, or an f-string's prefix pattern."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return re.compile(re.escape(arg.value))
    if isinstance(arg, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+"
                 for v in arg.values]
        return re.compile("".join(parts))
    return None


def _calls() -> list[tuple[str, re.Pattern, set[str] | None, bool]]:
    """(where, key pattern, keywords supplied (None: **splat), filled now) per catalogue call."""
    found = []
    for path, tree in _trees():
        if path.name == "texts.py" and path.parent.name == "api":
            functions, modules = {"text", "template"}, set()
        else:
            functions, modules = _catalogue_names(tree)
        for node in ast.walk(tree):
            kind = _catalogue_call(node, functions, modules)
            if kind is None:
                continue
            pattern = _key_pattern(node.args[0])
            if pattern is None:
                continue
            supplied = {k.arg for k in node.keywords}
            filled = kind == "text"
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found.append((where, pattern, None if None in supplied else supplied, filled))
    return found


def _constants() -> set[str]:
    return {node.value for _, tree in _trees() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_key_is_used_in_the_code():
    constants = _constants()
    patterns = [pattern for _, pattern, _, _ in _calls()]
    unused = [key for key in catalogue()
              if key not in constants and not any(p.fullmatch(key) for p in patterns)]
    assert not unused, f"texts nobody sends: {unused}"


def test_every_call_names_a_text_that_exists():
    missing = [where for where, pattern, _, _ in _calls()
               if not any(pattern.fullmatch(key) for key in catalogue())]
    assert not missing, missing


def _literal_length(pattern: re.Pattern) -> int:
    return len(pattern.pattern.replace(r"\w+", ""))


def test_callers_supply_every_placeholder():
    calls = _calls()
    # A key an f-string call could build belongs to the most specific call that builds it:
    # text(f"confirm_{reason}_several", count=...) owns confirm_*_several, not f"confirm_{reason}".
    owner = {key: max(_literal_length(p) for _, p, _, _ in calls if p.fullmatch(key))
             for key in catalogue() if any(p.fullmatch(key) for _, p, _, _ in calls)}
    short = []
    for where, pattern, supplied, filled in calls:
        if not filled or supplied is None:
            continue  # template(): filled later; **values: not statically checkable
        for key in (k for k in catalogue() if pattern.fullmatch(k)
                    and _literal_length(pattern) == owner[k]):
            if fields(catalogue()[key]) - supplied:
                short.append(f"{where} {key}: {sorted(fields(catalogue()[key]) - supplied)}")
    assert not short, short


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_text_formats_with_sample_values_and_fits_one_message(key):
    text = catalogue()[key]
    filled = text.format(**{name: FILLER for name in fields(text)})

    assert "{" not in filled and "}" not in filled, key
    assert len(filled) <= MAX_CHARS, key


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_only_documented_placeholders(key):
    names = fields(catalogue()[key])

    assert names <= set(PLACEHOLDERS), f"{key}: undocumented {sorted(names - set(PLACEHOLDERS))}"
    assert not [n for n in names if PERSONAL.search(n)], key


def test_campaign_texts_carry_only_the_trust_details():
    for key in ("campaign_first_message", "campaign_chaser"):
        content.check_template(template(key))  # raises on a name or a carrier keyword
    assert content.DEFAULT_SMS_TEMPLATE == template("campaign_first_message")
    assert followups.CHASER_TEXT == template("campaign_chaser")
    assert fields(template("campaign_reminder")) == {"trust_name", "when", "site", "phone"}


# --- nothing a patient reads is written inline in the modules that speak from the catalogue --

MIGRATED = [
    "api/worker.py", "api/conversations/trust_info.py",
    *[f"api/conversations/safety/{p.name}" for p in
      sorted(ROOT.joinpath("api/conversations/safety").glob("*.py"))],
    *[f"api/messaging/{p.name}" for p in sorted(ROOT.joinpath("api/messaging").glob("*.py"))],
    *[f"api/handover/{p.name}" for p in sorted(ROOT.joinpath("api/handover").glob("*.py"))],
    # The command line speaks only to staff (its modules are named *cli*), so it is left out.
    *[f"api/campaigns/{p.name}" for p in sorted(ROOT.joinpath("api/campaigns").glob("*.py"))
      if "cli" not in p.name],
    # already speaking from the catalogue: kept that way
    "api/conversations/service.py", "api/conversations/identity.py",
    *[f"api/flows/{p.name}" for p in sorted(ROOT.joinpath("api/flows").glob("*.py"))],
    *[f"actions/{p.name}" for p in sorted(ROOT.joinpath("actions").glob("*.py"))],
]
LONGEST_INLINE = 60
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
METRICS = {"Counter", "Histogram", "Gauge", "Summary"}
# Long literals that are not for patients: what staff read (handover summaries, call-back
# lists, parked reasons) and the CLI's help. Matched by their opening words.
STAFF_FACING = {
    "api/worker.py": (
        "failed {} times in the worker",  # parked message reason (staff)
        "This message could not be processed automatically",  # handover summary (staff)
    ),
    "api/flows/safety_net.py": (
        "Another red flag (",  # handover summary (staff)
        "Red flag ({}). The patient wrote",  # handover summary (staff)
    ),
    "api/flows/delivery_failure.py": (
        "The safety-net message could not be delivered",  # urgent call-back (staff)
        "A text could not be delivered (status",  # call-back list (staff)
    ),
    "api/flows/replies.py": (
        "This number has had {} messages in 24 hours",  # handover summary (staff)
    ),
    "api/flows/pas_writeback.py": (
        "The PAS refused Rebook's",  # integration exception (staff)
        "The PAS has not answered Rebook's",  # integration exception (staff)
        "The hospital's PAS refused the booking of",  # handover summary (staff)
        "{} new date(s) are held and were texted",  # handover summary (staff)
        "No other date was free",  # handover summary (staff)
    ),
    "api/flows/inbound_turn.py": (
        "The assistant was unavailable. The patient wrote",  # handover summary (staff)
    ),
    "api/messaging/sandbox_views.py": (
        "default-src 'self'",  # the sandbox page's content security policy header
    ),
    "api/messaging/dispatcher.py": (
        "not sent after {} attempts",  # parked reason (staff)
        "the dispatcher failed on it",  # parked reason (staff)
    ),
    "api/handover/summary.py": (
        "({} earlier update{} not shown",  # handover summary (staff)
        "Appointment {}: {} {}, priority {}",  # handover summary (staff)
    ),
    "api/handover/schemas.py": (
        "A template key; needed outside",  # API schema description (staff)
        "hand_back: the assistant answers again",  # API schema description (staff)
    ),
    "api/conversations/safety/normalise.py": (
        "paracetamol ibuprofen codeine",  # the spelling corrector's word list (not sent)
    ),
    "api/messaging/render.py": (
        "@\u00a3$",  # the GSM-7 alphabet (not sent)
    ),
    "api/conversations/identity.py": (
        "Identity lockout: {} {}.",  # handover summary (staff)
    ),
    "actions/identity.py": (
        "failed identity checks or replies",  # lockout reason in the handover (staff)
    ),
    "api/campaigns/cli.py": (
        "stopped watching; sending carries on",  # console output (staff)
    ),
    "api/campaigns/content.py": (  # the content rules, in words for staff (console, CLI)
        "No names, specialties or clinical detail",
        "Placeholders allowed:",
        'Never ask patients to "reply STOP"',
        "Curly quotes, dashes, accents and emoji",
    ),
}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _not_for_patients(tree: ast.AST) -> set[int]:
    """Literals inside log calls, metric declarations, raised errors and `description=`."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        skip: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if isinstance(func, ast.Attribute) and name in LOG_METHODS or name in METRICS:
                skip.append(node)
            skip += [k.value for k in node.keywords if k.arg in {"description", "help"}]
        if isinstance(node, ast.Raise) and node.exc is not None:
            skip.append(node.exc)  # refusals go to staff and API clients
        for root in skip:
            ids.update(id(n) for n in ast.walk(root))
    return ids


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _is_pattern(value: str) -> bool:
    """A regular expression or a word list for the safety screen, not a sentence."""
    return "|" in value or "\\" in value or " " not in value


def inline_prose(relative: str) -> list[str]:
    tree = ast.parse(ROOT.joinpath(relative).read_text(encoding="utf-8"))
    skipped = _docstrings(tree) | _not_for_patients(tree)
    inner = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
             for v in node.values}
    allowed = STAFF_FACING.get(relative, ())
    found = []
    for node in ast.walk(tree):
        value = _literal(node)
        if value is None or id(node) in skipped or id(node) in inner:
            continue
        if len(value) <= LONGEST_INLINE or _is_pattern(value) or value.startswith(allowed):
            continue
        found.append(f"{relative}:{node.lineno}: {value[:70]!r}")
    return found


@pytest.mark.parametrize("relative", MIGRATED)
def test_no_patient_sentence_is_written_inline(relative):
    assert not inline_prose(relative), "move it to api/texts.yml (or, if only staff read " \
                                       "it, to STAFF_FACING with why)"


def test_the_staff_facing_allow_list_names_only_literals_that_exist():
    stale = []
    for relative, openings in STAFF_FACING.items():
        tree = ast.parse(ROOT.joinpath(relative).read_text(encoding="utf-8"))
        values = [v for node in ast.walk(tree) if (v := _literal(node)) is not None]
        stale += [f"{relative}: {o}" for o in openings if not any(v.startswith(o) for v in values)]
    assert not stale, stale
