"""Console single sign-on (OpenID Connect) against a fake Entra-like provider on loopback:
the whole browser round trip, role mapping, provisioning, and every refusal."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from api.audit.models import AuditEvent
from api.staff import auth as staff_auth
from api.staff import oidc, sso
from api.staff import service as staff_service
from api.staff.models import Role, StaffUser
from tests.fakes.fake_idp import CLIENT_ID, CLIENT_SECRET, DELETE, FakeIdentityProvider, new_key

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def idp():
    with FakeIdentityProvider() as provider:
        yield provider


@pytest.fixture
def idp_state(idp):
    idp.state.reset()
    oidc.forget_providers()
    yield idp.state
    oidc.forget_providers()


def _client(db_session, monkeypatch, env: dict[str, str]):
    from fastapi.testclient import TestClient

    from api.config import get_settings
    from api.deps import get_session
    from api.main import create_app

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app = create_app()
    app.dependency_overrides[get_session] = lambda: db_session
    return TestClient(app)


@pytest.fixture
def sso_env(idp_state) -> dict[str, str]:
    return {"OIDC_ISSUER": idp_state.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def make_client(db_session, monkeypatch, sso_env):
    """A TestClient over the test's session, with OIDC settings (plus any given)."""
    from api.config import get_settings

    clients = []

    def make(**extra: str):
        client = _client(db_session, monkeypatch, {**sso_env, **extra})
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    get_settings.cache_clear()


@pytest.fixture
def client(make_client):
    return make_client()


def start(client, next_url: str = ""):
    """The console's redirect to the provider."""
    response = client.get("/console/login/oidc", params={"next": next_url} if next_url else None,
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def at_provider(start_response) -> str:
    """What the browser does at the provider: the callback path and query it is sent back to."""
    answer = httpx.get(start_response.headers["location"], follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert back.path == oidc.CALLBACK_PATH
    return f"{back.path}?{back.query}"


def sign_in(client, next_url: str = ""):
    """The whole round trip; the callback's response."""
    return client.get(at_provider(start(client, next_url)), follow_redirects=False)


def user_of(db_session, idp_state) -> StaffUser | None:
    return db_session.scalar(select(StaffUser).where(
        StaffUser.oidc_subject == idp_state.user["oid"]))


def audit_actions(db_session) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_full_sign_in_provisions_a_clerk_and_opens_the_console(client, idp_state, db_session):
    page = client.get("/console/login")
    assert "Sign in with your NHS account" in page.text
    redirect = start(client)
    # The authorization request: code flow with state, nonce and PKCE (S256), our redirect URI.
    authorize = urlsplit(redirect.headers["location"])
    params = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert authorize.path == "/oauth2/v2.0/authorize"
    assert params["response_type"] == "code" and params["client_id"] == CLIENT_ID
    assert params["scope"] == "openid profile email"
    assert params["redirect_uri"].endswith("/console/login/oidc/callback")
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert "code_verifier" not in params
    flow_cookie = redirect.headers["set-cookie"]
    assert "HttpOnly" in flow_cookie and "samesite=lax" in flow_cookie.lower()

    done = client.get(at_provider(redirect), follow_redirects=False)
    assert done.status_code == 200
    assert '<meta http-equiv="refresh" content="0;url=/console/queue">' in done.text
    assert staff_auth.SESSION_COOKIE in done.cookies
    assert idp_state.token_requests == 1
    queue = client.get("/console/queue")
    assert queue.status_code == 200 and "Test Clerk (clerk)" in queue.text

    user = user_of(db_session, idp_state)
    assert user.role is Role.CLERK and user.active
    assert user.username == "test.clerk@nhs.example" and user.oidc_issuer == idp_state.issuer
    # The provider's identity is the only way in: no password matches a provisioned user.
    assert not staff_service.verify_password(user=user, password="")
    events = [e for e in audit_actions(db_session) if e.action == "login_oidc"]
    assert len(events) == 1 and events[0].object_id == str(user.id)
    assert events[0].details == {"role": "clerk", "provisioned": True}


def test_the_next_page_survives_the_round_trip_and_stays_on_site(client, idp_state):
    assert 'url=/console/audit"' in sign_in(client, "/console/audit").text
    assert 'url=/console/queue"' in sign_in(client, "https://evil.example/").text
    assert 'url=/console/queue"' in sign_in(client, "/console/" + "x" * 400).text


def test_roles_follow_the_claims_at_every_sign_in(client, idp_state, db_session):
    assert sign_in(client).status_code == 200
    idp_state.user["roles"] = ["Rebook.Clerk", "Rebook.Admin", "Unrelated.Role"]
    assert sign_in(client).status_code == 200
    user = user_of(db_session, idp_state)
    assert user.role is Role.ADMIN  # the widest mapped role wins
    assert client.get("/console/audit").status_code == 200
    idp_state.user["roles"] = ["Rebook.Clinician"]
    idp_state.user["name"] = "Dr Test Renamed"
    assert sign_in(client).status_code == 200
    db_session.refresh(user)
    assert user.role is Role.CLINICIAN and user.display_name == "Dr Test Renamed"
    assert client.get("/console/audit").status_code == 403
    assert db_session.scalar(select(StaffUser).where(StaffUser.oidc_subject.is_not(None))
                             .where(StaffUser.id != user.id)) is None  # still one account
    changes = [e.details for e in audit_actions(db_session) if e.action == "login_oidc"]
    assert changes[1] == {"role": "admin", "provisioned": False, "previous_role": "clerk"}
    assert changes[2]["previous_role"] == "admin"


def test_a_custom_role_claim_and_map(make_client, idp_state, db_session):
    client = make_client(OIDC_ROLES_CLAIM="groups",
                         OIDC_ROLE_MAP="grp-bookings=clerk, grp-consultants=clinician")
    idp_state.user["groups"] = ["grp-consultants"]
    assert sign_in(client).status_code == 200
    assert user_of(db_session, idp_state).role is Role.CLINICIAN


@pytest.mark.parametrize("roles", [["Some.Other.App.Role"], DELETE, []],
                         ids=["unmapped", "no-claim", "empty"])
def test_no_mapped_role_is_refused_with_a_clear_page(client, idp_state, db_session, roles):
    idp_state.user["roles"] = roles
    refused = sign_in(client)
    assert refused.status_code == 403
    assert "Your account has no Rebook role" in refused.text
    assert staff_auth.SESSION_COOKIE not in refused.cookies
    assert user_of(db_session, idp_state) is None
    event = audit_actions(db_session)[-1]
    assert event.action == "login_oidc_refused" and event.details == {"reason": "no_role"}
    assert event.object_id == idp_state.user["oid"]


def test_a_deactivated_user_is_refused(client, idp_state, db_session):
    assert sign_in(client).status_code == 200
    user = user_of(db_session, idp_state)
    user.active = False
    db_session.flush()
    client.cookies.clear()
    refused = sign_in(client)
    assert refused.status_code == 403 and "deactivated" in refused.text
    assert staff_auth.SESSION_COOKIE not in refused.cookies
    assert client.get("/console/queue", follow_redirects=False).status_code == 303
    assert audit_actions(db_session)[-1].details == {"reason": "deactivated"}


def _expired(state):
    state.token_overrides |= {"iat": int(time.time()) - 7200, "exp": int(time.time()) - 600}


def _other_key(state):
    state.signing_key = new_key("not-published")


def _same_kid_other_key(state):
    state.signing_key = new_key(state.published_keys[0].kid)


BROKEN_TOKENS = {
    # azp names us, so only the audience check can catch these.
    "wrong-audience": lambda s: s.token_overrides.update(aud="someone-elses-client-id",
                                                         azp=CLIENT_ID),
    "audience-list-without-us": lambda s: s.token_overrides.update(
        aud=["someone-elses-client-id", "another-one"], azp=CLIENT_ID),
    "wrong-issuer": lambda s: s.token_overrides.update(
        iss="https://login.microsoftonline.com/another-tenant/v2.0"),
    "wrong-nonce": lambda s: s.token_overrides.update(nonce="a-nonce-from-another-sign-in"),
    "no-nonce": lambda s: s.token_overrides.update(nonce=DELETE),
    "expired": _expired,
    "not-yet-valid": lambda s: s.token_overrides.update(nbf=int(time.time()) + 3600),
    "no-expiry": lambda s: s.token_overrides.update(exp=DELETE),
    "unknown-key": _other_key,
    "forged-signature": _same_kid_other_key,
    "unsigned": lambda s: setattr(s, "unsigned", True),
    "foreign-azp": lambda s: s.token_overrides.update(azp="someone-elses-client-id"),
}


@pytest.mark.parametrize("breakage", BROKEN_TOKENS, ids=list(BROKEN_TOKENS))
def test_id_tokens_that_fail_verification_are_refused(client, idp_state, db_session, breakage):
    BROKEN_TOKENS[breakage](idp_state)
    refused = sign_in(client)
    assert refused.status_code == 401
    assert "could not verify the sign-in" in refused.text
    assert staff_auth.SESSION_COOKIE not in refused.cookies
    assert user_of(db_session, idp_state) is None


def test_an_unknown_key_id_refetches_the_keys_once(client, idp_state):
    assert sign_in(client).status_code == 200
    assert idp_state.jwks_requests == 1
    # The provider rotates its signing key: the new key id is fetched, not refused.
    rotated = new_key("key-2")
    idp_state.published_keys.append(rotated)
    idp_state.signing_key = rotated
    assert sign_in(client).status_code == 200
    assert idp_state.jwks_requests == 2
    assert sign_in(client).status_code == 200
    assert idp_state.jwks_requests == 2  # cached again


def test_a_callback_the_browser_did_not_start_is_refused(client, idp_state, db_session):
    callback = at_provider(start(client))
    # Someone else's code, or a forged state: refused before the code is spent.
    forged = re.sub(r"state=[^&]+", "state=forged-state-value", callback)
    refused = client.get(forged, follow_redirects=False)
    assert refused.status_code == 400 and "not the one your browser started" in refused.text
    client.cookies.clear()
    assert client.get(callback, follow_redirects=False).status_code == 400
    assert client.get(oidc.CALLBACK_PATH, follow_redirects=False).status_code == 400
    assert idp_state.token_requests == 0
    assert user_of(db_session, idp_state) is None


def test_a_code_works_once(client, idp_state):
    callback = at_provider(start(client))
    flow_cookie = client.cookies.get(oidc.FLOW_COOKIE)
    assert client.get(callback, follow_redirects=False).status_code == 200
    client.cookies.clear()
    client.cookies.set(oidc.FLOW_COOKIE, flow_cookie)  # a replayed callback and cookie
    replay = client.get(callback, follow_redirects=False)
    assert replay.status_code == 400 and staff_auth.SESSION_COOKIE not in replay.cookies


def test_the_providers_refusal_is_shown_without_its_text(client, idp_state):
    idp_state.authorize_error = "access_denied"
    refused = sign_in(client)
    assert refused.status_code == 400
    assert "cancelled or refused" in refused.text
    assert "alert(" not in refused.text and idp_state.token_requests == 0


def test_a_provider_for_another_issuer_is_refused(client, idp_state):
    idp_state.metadata_overrides["issuer"] = "https://login.microsoftonline.com/common/v2.0"
    refused = client.get("/console/login/oidc", follow_redirects=False)
    assert refused.status_code == 502 and "does not match OIDC_ISSUER" in refused.text


def test_an_unreachable_provider_gets_a_clear_page(make_client, db_session, idp_state):
    client = make_client(OIDC_ISSUER="http://127.0.0.1:9/tenant/v2.0")
    refused = client.get("/console/login/oidc", follow_redirects=False)
    assert refused.status_code == 502 and "cannot be reached" in refused.text


def test_an_expired_client_secret_is_an_administrators_problem(make_client, idp_state):
    client = make_client(OIDC_CLIENT_SECRET="an-expired-client-secret")
    refused = sign_in(client)
    assert refused.status_code == 502 and "client secret" in refused.text


def test_multi_factor_is_required_when_configured(make_client, idp_state, db_session):
    client = make_client(OIDC_REQUIRE_MFA="true")
    idp_state.user["amr"] = ["pwd"]
    refused = sign_in(client)
    assert refused.status_code == 403 and "multi-factor" in refused.text
    idp_state.user["amr"] = ["pwd", "mfa"]
    assert sign_in(client).status_code == 200


def test_without_auto_provisioning_only_linked_users_get_in(make_client, idp_state, db_session):
    client = make_client(OIDC_AUTO_PROVISION="false")
    refused = sign_in(client)
    assert refused.status_code == 403 and "no Rebook account yet" in refused.text
    assert user_of(db_session, idp_state) is None
    existing = staff_service.create_user(session=db_session, username="t.linked",
                                         display_name="Linked", password=PASSWORD,
                                         role=Role.CLERK)
    sso.link_user(session=db_session, user=existing, issuer=idp_state.issuer,
                  subject=idp_state.user["oid"])
    idp_state.user["roles"] = ["Rebook.Admin"]
    assert sign_in(client).status_code == 200
    assert user_of(db_session, idp_state).id == existing.id
    assert existing.role is Role.ADMIN
    # Their password still works too.
    client.cookies.clear()
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/console/login", data={
        "username": "t.linked", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False)
    assert response.status_code == 303


def test_a_username_already_taken_never_links_accounts(client, idp_state, db_session):
    existing = staff_service.create_user(session=db_session, username="t.admin",
                                         display_name="Real Admin", password=PASSWORD,
                                         role=Role.ADMIN)
    idp_state.user["preferred_username"] = "T.Admin"  # anyone may be called that at the IdP
    assert sign_in(client).status_code == 200
    user = user_of(db_session, idp_state)
    assert user.id != existing.id and user.role is Role.CLERK
    assert user.username.startswith("sso-")
    db_session.refresh(existing)
    assert existing.oidc_subject is None and existing.role is Role.ADMIN


def test_password_sign_in_still_works_beside_sso(client, idp_state, db_session):
    staff_service.create_user(session=db_session, username="t.password", display_name="P",
                              password=PASSWORD, role=Role.CLERK)
    page = client.get("/console/login")
    assert 'href="/console/login/oidc?next=' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/console/login", data={
        "username": "t.password", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/console/queue").status_code == 200


def test_sso_is_off_unless_configured(api_client, idp_state):
    page = api_client.get("/console/login")
    assert page.status_code == 200 and "NHS account" not in page.text
    assert api_client.get("/console/login/oidc", follow_redirects=False).status_code == 404
    assert api_client.get(oidc.CALLBACK_PATH + "?code=x&state=y",
                          follow_redirects=False).status_code == 404
    assert idp_state.authorize_requests == []
