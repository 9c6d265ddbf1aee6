"""Every console 4xx and 5xx answers the console's error page with the right status; the API
keeps its JSON error body; a 500 page says nothing of the exception."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.console import service as console_service
from api.main import create_app
from tests.handover.helpers import PASSWORD, Desk

pytestmark = pytest.mark.parametrize("live_database_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(live_settings, live_session_factory):
    """The app over committed data (so an error page can read the session cookie itself);
    server errors are answered, as in production, not raised into the test."""
    with live_session_factory() as session:
        Desk(session, prefix="e")
        session.commit()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def sign_in(client, username: str = "e.clerk") -> None:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303


def assert_page(response, status_code: int, heading: str, *, signed_in: bool = True) -> None:
    assert response.status_code == status_code
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert f"<h1>{heading}</h1>" in response.text
    assert ("Clerk E (clerk)" in response.text) is signed_in  # the navigation, when known
    link = "/console/queue" if signed_in or status_code != 401 else "/console/login"
    assert f'href="{link}"' in response.text


def test_unknown_console_address(client):
    sign_in(client)
    assert_page(client.get("/console/no-such-page"), 404, "Page not found")
    assert_page(client.get("/console/static/no-such.css"), 404, "Page not found")
    client.cookies.clear()
    assert_page(client.get("/console/no-such-page"), 404, "Page not found", signed_in=False)


def test_wrong_method_keeps_allow(client):
    sign_in(client)
    response = client.put("/console/queue")
    assert_page(response, 405, "That action is not available here")
    assert "GET" in response.headers["allow"]


def test_invalid_input(client):
    sign_in(client)
    assert_page(client.get("/console/handovers/not-a-number"), 422,
                "Some of the information sent was not valid")


def test_refusals_raised_in_console_routes_say_why(client):
    sign_in(client)
    response = client.post("/console/logout", data={"csrf_token": "forged"})
    assert_page(response, 403, "You cannot do this")
    assert "the form expired: reload the page" in response.text
    client.cookies.clear()
    response = client.post("/console/handovers/1/claim", data={"csrf_token": "x"})
    assert_page(response, 401, "Please sign in", signed_in=False)
    # Signed out, a page is still a redirect to sign in, not an error.
    response = client.get("/console/queue", follow_redirects=False)
    assert response.status_code == 303 and "/console/login" in response.headers["location"]


def test_unexpected_error_is_a_page_without_the_exception(client, monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("patient Ada Example 9434765919 at 1 Secret Lane")

    monkeypatch.setattr(console_service, "queue_rows", broken)
    sign_in(client)
    response = client.get("/console/queue")
    assert_page(response, 500, "Sorry, something went wrong")
    assert "Ada" not in response.text and "RuntimeError" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_keeps_json(client):
    sign_in(client)
    for path, status_code in (("/api/v1/no-such-thing", 404), ("/api/v1/disruptions/abc", 422),
                              ("/no-such-page", 404)):
        response = client.get(path)
        assert response.status_code == status_code
        assert response.headers["content-type"] == "application/json"
        assert "detail" in response.json()
    assert client.put("/api/v1/me").json() == {"detail": "Method Not Allowed"}


def test_an_unexpected_api_error_is_the_json_error_body(client, monkeypatch):
    from api.scheduling import listings

    def broken(**_kwargs):
        raise RuntimeError("patient Ada Example")

    monkeypatch.setattr(listings, "disruption_page", broken)
    sign_in(client)
    response = client.get("/api/v1/disruptions")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}


def test_a_busy_database_is_a_page_that_says_retry(client, monkeypatch):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    def busy(**_kwargs):
        raise PoolTimeout("no connection")

    monkeypatch.setattr(console_service, "queue_rows", busy)
    sign_in(client)
    response = client.get("/console/queue")
    assert_page(response, 503, "The system is busy")
    assert response.headers["retry-after"] == "1"
