"""`rebook serve` on loopback, as the issue's attacker met it: a rotated X-Forwarded-For must not
give each sign-in attempt a fresh address, unless the peer is a configured proxy."""

import os
import re

import httpx
import pytest

from api.schema import upgrade
from tests.processes import free_port, running, wait_http


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """One SQLite database: this is about the address, not storage, so one backend will do."""
    url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'served.db'}"
    upgrade(database_url=url)
    return url


def sign_in_attempts(base_url: str, forwarded_for: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for n, header in enumerate(forwarded_for):
            page = client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            statuses.append(client.post("/console/login", data={
                "username": f"guess{n}", "password": "guess password", "csrf_token": token},
                headers={"X-Forwarded-For": header}).status_code)
    return statuses


# None: the setting left at its default, which must trust no proxy (uvicorn's own default
# would trust loopback).
@pytest.mark.parametrize(("trusted", "limited"), [(None, True), ("127.0.0.1,::1", False)])
def test_served_api_trusts_forwarded_headers_only_from_configured_proxies(
        database_url, tmp_path, trusted, limited):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test",
           "SECRET_KEY": "test-secret-key-for-the-suite"}
    env.pop("REDIS_URL", None)  # in-memory limits: nothing left over from another test
    env.pop("FORWARDED_ALLOW_IPS", None)
    if trusted is not None:
        env["FORWARDED_ALLOW_IPS"] = trusted
    with running(["serve", "--port", str(port)], env, tmp_path / "api.log"):
        base_url = f"http://127.0.0.1:{port}"
        wait_http(f"{base_url}/healthz")
        statuses = sign_in_attempts(base_url, [f"198.51.100.{n}" for n in range(22)])
        assert statuses[0] == 400
        assert (statuses[-1] == 429) is limited
        # The scheme follows the same trust: a proxy's X-Forwarded-Proto makes cookies Secure.
        cookie = httpx.get(f"{base_url}/console/login",
                           headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
        assert ("secure" in cookie.lower().split("; ")) is not limited
