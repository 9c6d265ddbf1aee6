"""The import direction written in docs/architecture.md ("Import rules"), checked over the AST.

Every `import` and `from ... import` in api/ and actions/ (migrations aside) is read, at module
level and inside functions alike unless a rule says otherwise. A rule broken today on purpose is
listed in KNOWN_VIOLATIONS with the issue that removes it; the test also fails when a listed
violation is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "actions")

# Rule 2: the foundation, and what each of its modules may import from api at module level.
FOUNDATION: dict[str, set[str]] = {
    "api.config": {"api.config_voice", "api.config_scale"},
    "api.config_voice": set(),
    "api.config_scale": set(),
    "api.errors": set(),
    "api.fields": set(),
    "api.logs": set(),
    "api.system.redis_client": set(),
    "api.system.client_address": set(),
    "api.system.runtime": set(),
    "api.patients.identifiers": set(),
    "api.db": {"api.config"},
    "api.system.localtime": {"api.config", "api.db"},
    "api.texts": {"api.config", "api.system.localtime"},
}

# Rules 3 and 7: domains from the bottom up; a domain imports only itself and lower domains,
# and a `models` module only the models of lower domains.
DOMAIN_ORDER = ("reference", "patients", "audit", "staff", "appointments", "scheduling",
                "messaging", "handover", "conversations", "campaigns", "integration")

# Rule 4: the top layer: entry points and the consumers that read across every domain.
TOP = ("api.main", "api.cli", "api.__main__", "api.supervisor", "api.jobs", "api.worker",
       "api.console", "api.reporting", "api.privacy", "api.demo")

ROUTER = re.compile(r"(^|_)views$")
# Rule 5: request dependencies (api.deps) are for routers and the console's page helpers.
DEPS_USERS = ("api.console.pages",)

# (importing module, imported module): broken today, to be removed by the named work.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or module.name for `from m import name`)
    in_function: bool
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(name: str) -> str:
    return name.rpartition(".")[0]


def _is_type_checking_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING")


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue  # annotations only: no import at run time, so no dependency
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                       ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, inside, child.lineno)
                             for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: resolve against this module's package
                    package = module if path.name == "__init__.py" else _package(module)
                    for _ in range(child.level - 1):
                        package = _package(package)
                    base = f"{package}.{base}".rstrip(".")
                found.extend(Import(module, f"{base}.{alias.name}", inside, child.lineno)
                             for alias in child.names)
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


def all_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                modules[module_name(path)] = path
    return modules


MODULES = all_modules()


def resolve(target: str) -> str | None:
    """The module of ours an import names (`from api.x import y` may name module api.x.y)."""
    name = target
    while name:
        if name in MODULES:
            return name
        name = _package(name)
    return None


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "api" and parts[1] in DOMAIN_ORDER \
        else None


def is_models(module: str) -> bool:
    return module.endswith(".models") and domain_of(module) is not None


def is_router(module: str) -> bool:
    return within(module, "api") and bool(ROUTER.search(module.rpartition(".")[2]))


@cache
def edges() -> list[tuple[Import, str | None]]:
    return [(imp, resolve(imp.target)) for path in MODULES.values() for imp in imports_of(path)]


def broken(rule) -> list[str]:
    """Every import the rule refuses, as "module:line imports target" (known ones left out)."""
    out = []
    for imp, target in edges():
        reason = rule(imp, target)
        if reason and (imp.module, target) not in KNOWN_VIOLATIONS:
            out.append(f"{imp.module}:{imp.line} imports {imp.target} ({reason})")
    return out


# -- the rules ---------------------------------------------------------------------------------

def api_never_imports_actions(imp: Import, target: str | None) -> str | None:
    if within(imp.module, "api") and target and within(target, "actions"):
        return "api/ never imports actions/: actions call api, not the reverse"
    return None


def foundation_imports_only_foundation(imp: Import, target: str | None) -> str | None:
    allowed = FOUNDATION.get(imp.module)
    if allowed is None or imp.in_function or target is None or target == imp.module:
        return None
    if target not in allowed:
        return f"{imp.module} may import only {sorted(allowed) or 'nothing of ours'}"
    return None


def models_import_only_lower_models(imp: Import, target: str | None) -> str | None:
    if not is_models(imp.module) or target is None:
        return None
    if target == "api.db" or target in FOUNDATION and not FOUNDATION[target]:
        return None  # the database base and foundation modules that import nothing of ours
    if not is_models(target):
        return "models import api.db, leaf helpers and lower domains' models only"
    if DOMAIN_ORDER.index(domain_of(target)) > DOMAIN_ORDER.index(domain_of(imp.module)):
        return "models import the models of lower domains only"
    return None


def top_layer_is_imported_only_from_the_top(imp: Import, target: str | None) -> str | None:
    if target and any(within(target, top) for top in TOP) \
            and not any(within(imp.module, top) for top in TOP):
        return "entry points, console, reporting, privacy and demo are imported by no domain"
    return None


def routers_and_request_dependencies(imp: Import, target: str | None) -> str | None:
    if target and is_router(target) and imp.module != "api.main":
        return "routers (views, *_views) are mounted by api.main only"
    if target == "api.deps" and not (is_router(imp.module) or imp.module in DEPS_USERS):
        return "api.deps (request dependencies) is for routers only"
    return None


def one_redis_client_factory(imp: Import, target: str | None) -> str | None:
    if (imp.target == "redis" or imp.target.startswith("redis.")) \
            and imp.module != "api.system.redis_client":
        return "Redis clients come from api.system.redis_client"
    return None


def domains_import_only_lower_domains(imp: Import, target: str | None) -> str | None:
    own, other = domain_of(imp.module), target and domain_of(target)
    if own and other and DOMAIN_ORDER.index(other) > DOMAIN_ORDER.index(own):
        return f"{own} sits below {other} ({' < '.join(DOMAIN_ORDER)})"
    return None


def flows_are_called_from_above(imp: Import, target: str | None) -> str | None:
    if target and within(target, "api.flows") and domain_of(imp.module) \
            and not is_router(imp.module):
        return ("flows use the domains; domains never call flows (their routers, the worker, "
                "jobs and actions do)")
    return None


RULES = [api_never_imports_actions, flows_are_called_from_above, foundation_imports_only_foundation,
         models_import_only_lower_models, top_layer_is_imported_only_from_the_top,
         routers_and_request_dependencies, one_redis_client_factory,
         domains_import_only_lower_domains]


def test_the_rules_are_kept():
    problems = [problem for rule in RULES for problem in broken(rule)]
    assert not problems, "imports against docs/architecture.md:\n" + "\n".join(problems)


def test_every_known_violation_still_exists():
    """A fixed violation leaves KNOWN_VIOLATIONS, so the allowance cannot outlive it."""
    seen = {(imp.module, target) for imp, target in edges()}
    assert not KNOWN_VIOLATIONS - seen, f"fixed, remove from the list: {KNOWN_VIOLATIONS - seen}"


def test_the_patient_time_zone_is_computed_in_one_place():
    """ZoneInfo(...) and settings.patient_timezone only in api.system.localtime."""
    found = []
    for module, path in MODULES.items():
        if module in ("api.system.localtime", "api.config"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ZoneInfo":
                found.append(f"{module}:{node.lineno} ZoneInfo(...)")
            if isinstance(node, ast.Attribute) and node.attr == "patient_timezone":
                found.append(f"{module}:{node.lineno} .patient_timezone")
    assert not found, "use api.system.localtime:\n" + "\n".join(found)


# -- the checker checks itself -----------------------------------------------------------------

def _one(rule, module: str, target: str, in_function: bool = False) -> str | None:
    return rule(Import(module, target, in_function, 1), resolve(target))


def test_the_rules_catch_imports_against_the_direction():
    assert _one(api_never_imports_actions, "api.texts", "actions.wording.local")
    assert _one(foundation_imports_only_foundation, "api.config", "api.staff.models.Role")
    assert not _one(foundation_imports_only_foundation, "api.config", "api.staff.models.Role",
                    in_function=True)
    assert _one(models_import_only_lower_models, "api.patients.models",
                "api.handover.models.Handover")
    assert _one(models_import_only_lower_models, "api.messaging.models",
                "api.messaging.outbox")
    assert not _one(models_import_only_lower_models, "api.conversations.models",
                    "api.messaging.models.Message")
    assert _one(top_layer_is_imported_only_from_the_top, "api.handover.service",
                "api.console.service.local_time")
    assert _one(routers_and_request_dependencies, "api.handover.service",
                "api.handover.views.router")
    assert _one(routers_and_request_dependencies, "api.handover.service", "api.deps.SessionDep")
    assert not _one(routers_and_request_dependencies, "api.handover.views", "api.deps.SessionDep")
    assert _one(models_import_only_lower_models, "api.appointments.models",
                "api.scheduling.models.Slot")
    assert _one(one_redis_client_factory, "api.messaging.notify", "redis.Redis")
    assert _one(domains_import_only_lower_domains, "api.messaging.outbox",
                "api.conversations.service")
    assert not _one(domains_import_only_lower_domains, "api.conversations.service",
                    "api.handover.service")
    assert _one(flows_are_called_from_above, "api.handover.service", "api.flows.booking")
    assert not _one(flows_are_called_from_above, "api.handover.views", "api.flows.booking")
    assert not _one(flows_are_called_from_above, "api.worker", "api.flows.inbound_turn")
