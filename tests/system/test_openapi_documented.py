"""Every JSON route documents what it answers: a named model, never a bare object."""

from __future__ import annotations

from api.main import create_app
from tests.conftest import clear_app_caches

# Twilio's status callback answers TwiML, not JSON.
NOT_JSON = {("/twilio/status", "post")}


def _bare(schema: dict) -> bool:
    """A schema that says nothing: {}, or an object or array of objects with no properties."""
    if schema.get("type") == "array":
        return _bare(schema.get("items") or {})
    if "$ref" in schema or "anyOf" in schema or "allOf" in schema:
        return False
    return "properties" not in schema and schema.get("type") in (None, "object")


def test_every_json_route_has_a_response_model():
    openapi = create_app().openapi()
    clear_app_caches()
    bare = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if (path, method) in NOT_JSON:
                continue
            for code, response in operation.get("responses", {}).items():
                json = response.get("content", {}).get("application/json")
                if code.startswith("2") and json is not None and _bare(json.get("schema", {})):
                    bare.append(f"{method.upper()} {path} {code}")
    assert not bare, bare


# --- error responses: each operation documents the refusals it can really answer ---------

# Readiness answers its report (what is down) with its 503, not a refusal.
OWN_ERROR_BODY = {("/readyz", "get", "503"), ("/readyz/database", "get", "503")}
# Operations that count attempts and answer 429 past the limit.
RATE_LIMITED = {("/api/v1/me/password", "post")}
# The one error shape (api/errors.py), or FastAPI's validation answer (the same `detail`).
ERROR_BODIES = ("ErrorOut", "HTTPValidationError")
UNSAFE = {"post", "put", "patch", "delete"}
# The lists staff choose from (issue 15): present, staff-only and documented.
LISTS = ("/api/v1/disruptions", "/api/v1/clinics", "/api/v1/campaigns")


def _calls(dependant) -> set:
    """Every dependency an operation runs, however deeply nested."""
    found = set()
    for dependency in dependant.dependencies:
        found.add(dependency.call)
        found |= _calls(dependency)
    return found


def _operations() -> list[tuple[str, str, dict, set]]:
    """(path, method, OpenAPI operation, its dependencies) for every documented operation."""
    from fastapi.routing import APIRoute, iter_route_contexts

    app = create_app()
    openapi = app.openapi()
    clear_app_caches()
    found = []
    for route in iter_route_contexts(app.routes):  # included routers' routes, with prefixes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = openapi["paths"][route.path_format].get(method.lower())
            if operation is not None:
                found.append((route.path_format, method.lower(), operation,
                              _calls(route.dependant)))
    assert len(found) > 50  # every documented operation, not none by a change of FastAPI's
    return found


def _role_checked(calls: set) -> bool:
    return any(getattr(call, "__qualname__", "").startswith("require_role.") for call in calls)


def test_every_operation_documents_the_errors_it_can_answer():
    from api.deps import get_staff_user

    missing = []
    for path, method, operation, calls in _operations():
        documented = set(operation["responses"])
        needed = set()
        if get_staff_user in calls:
            needed.add("401")  # no key and no console session
            if method in UNSAFE or _role_checked(calls):
                needed.add("403")  # the wrong role, or a console request without its CSRF token
        if "{" in path:
            needed.add("404")  # no such object
        if operation.get("parameters") or "requestBody" in operation:
            needed.add("422")  # invalid input
        if (path, method) in RATE_LIMITED:
            needed.add("429")
        if needed - documented:
            missing.append(f"{method.upper()} {path}: {sorted(needed - documented)}")
    assert not missing, missing


def test_every_error_answer_has_the_one_error_body():
    odd = []
    for path, method, operation, _ in _operations():
        for code, response in operation["responses"].items():
            if code[0] not in "45" or (path, method, code) in OWN_ERROR_BODY:
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").rsplit("/", 1)[-1] not in ERROR_BODIES:
                odd.append(f"{method.upper()} {path} {code}")
            if not response.get("description") or response["description"] == "Error":
                odd.append(f"{method.upper()} {path} {code}: no description")
    assert not odd, odd


def test_the_lists_staff_choose_from_are_documented():
    from api.deps import get_staff_user

    listed = {path: (operation, calls) for path, method, operation, calls in _operations()
              if method == "get" and path in LISTS}
    assert set(listed) == set(LISTS)
    for operation, calls in listed.values():
        assert get_staff_user in calls
        assert "$ref" in str(operation["responses"]["200"]["content"]["application/json"])


def test_no_operation_promises_a_refusal_it_cannot_answer():
    from api.deps import get_staff_user

    promised = []
    for path, method, operation, calls in _operations():
        if get_staff_user not in calls:
            continue
        documented = set(operation["responses"])
        cannot = set()
        if method not in UNSAFE:
            cannot.add("413")  # the body-size limit reads bodies of unsafe methods only
            if not _role_checked(calls):
                cannot.add("403")  # no role check, and no CSRF check on a safe method
            if not operation.get("parameters"):
                cannot.add("422")
        if "requestBody" not in operation:
            cannot.add("400")
        if documented & cannot:
            promised.append(f"{method.upper()} {path}: {sorted(documented & cannot)}")
    assert not promised, promised
