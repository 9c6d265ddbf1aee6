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
