"""Fixtures for the FHIR adapter: the fake FHIR server and settings that point at it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from api.config import Settings
from api.demo import service as demo_service
from api.integration.fhir import export as fhir_export
from tests.fakes.fhir_server import CLIENT_ID, CLIENT_SECRET, FakeFhirServer
from tests.integration.conftest import DEMO_TODAY


@pytest.fixture
def fhir_server() -> Iterator[FakeFhirServer]:
    with FakeFhirServer() as server:
        yield server


def fhir_settings(server: FakeFhirServer, *, oauth: bool = False, **overrides) -> Settings:
    """Settings for a Rebook connected to `server` (with client credentials when `oauth`)."""
    values = dict(pas_mode="fhir", fhir_base_url=server.url, fhir_page_size=50,
                  fhir_timeout_seconds=5.0)
    if oauth:
        values.update(fhir_token_url=f"{server.url}/token", fhir_client_id=CLIENT_ID,
                      fhir_client_secret=CLIENT_SECRET, fhir_scope="system/*.read")
    return Settings(**(values | overrides))


def demo_bundle(session, *, patients: int = 40) -> dict:
    """The seeded demo trust exported as the adapter's FHIR bundle."""
    demo_service.seed(session=session, patients=patients, today=DEMO_TODAY)
    out = io.StringIO()
    fhir_export.write_bundle(session=session, out=out)
    return json.loads(out.getvalue())
