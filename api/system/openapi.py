"""The OpenAPI document, with each operation's shared refusals narrowed to those it can answer.

Routers declare `STAFF_ERRORS` once for all their routes (api/errors.py), which says 400, 403,
413 and 422 for every staff operation. Not every operation can answer those, and the schema
should not promise them: 403 comes from a role check or from the CSRF check a console session
gets on unsafe methods only, so a staff GET without a role check never answers it; 413 comes
from the body-size limit, which reads bodies of POST, PUT, PATCH and DELETE only; 400 from a
body that cannot be parsed, so only where a body is read; 422 from invalid input, so a GET
with no parameters never answers it. (No staff GET
refuses by a rule of its own today; one that did would check it in a dependency marked
`checks_role`, as `api.deps.require_role` is.)
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.system.edge import BODY_METHODS

# Set on a dependency that refuses some roles with 403 (api.deps.require_role).
ROLE_CHECK = "checks_role"


def _runs_role_check(dependant) -> bool:
    return any(getattr(d.call, ROLE_CHECK, False) or _runs_role_check(d)
               for d in dependant.dependencies)


def _narrow(schema: dict, app: FastAPI) -> dict:
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is None or not operation.get("security"):
                continue  # not a staff operation: its statuses are all its own
            responses = operation["responses"]
            if "requestBody" not in operation:
                responses.pop("400", None)
            if method not in BODY_METHODS:
                responses.pop("413", None)
                if not operation.get("parameters"):
                    responses.pop("422", None)
                if not _runs_role_check(route.dependant):
                    responses.pop("403", None)
    return schema


def install(app: FastAPI) -> None:
    """Serve the narrowed document at /openapi.json (built once, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _narrow(build(), app)
        return app.openapi_schema

    app.openapi = openapi
