"""OpenID Connect sign-in for staff: the protocol only (authorization code flow with PKCE).

Authlib builds the authorization request, the PKCE challenge and the token request, and
validates the ID token's claims; joserfc (Authlib's JOSE library) checks its signature against
the provider's published keys. What happens to the person who signed in is `api.staff.sso`.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from api.config import Settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/console/login/oidc/callback"
FLOW_COOKIE = "rebook_oidc_flow"
FLOW_MAX_AGE = 10 * 60  # time to finish signing in at the provider (MFA prompts included)
METADATA_TTL = 60 * 60  # providers rotate signing keys; an unknown key id refetches at once
HTTP_TIMEOUT = 10
CLOCK_LEEWAY = 120  # seconds of clock difference tolerated on exp, iat and nbf
# The provider's own error codes (RFC 6749 4.1.2.1, OIDC 3.1.2.6) are shown; its free-text
# description is not, as anyone can put text into a link to the callback.
PROVIDER_ERRORS = {
    "access_denied": "The sign-in was cancelled or refused at your organisation's sign-in page.",
    "login_required": "Your organisation's sign-in page needs you to sign in again.",
    "interaction_required": "Your organisation's sign-in page needs more from you.",
    "consent_required": "Rebook has not been approved for your organisation's accounts yet.",
}


class SignInRefused(Exception):
    """Single sign-on failed; the message is safe to show to the person signing in."""

    def __init__(self, message: str, status_code: int = 400, reason: str = "refused"):
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason  # a short code for the audit log


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a verified ID token."""

    issuer: str
    subject: str  # Entra's "oid" (the same in every app of the tenant), else "sub"
    display_name: str
    username_hint: str  # preferred_username or email: a label, never a key
    role_values: tuple[str, ...]
    amr: tuple[str, ...]


@dataclass
class _Provider:
    metadata: dict
    keys: dict
    fetched_at: float


_providers: dict[str, _Provider] = {}
_providers_lock = threading.Lock()


def forget_providers() -> None:
    """Drop cached provider metadata and keys (tests; a changed provider)."""
    with _providers_lock:
        _providers.clear()


def redirect_uri(*, settings: Settings) -> str:
    """The callback address registered at the provider."""
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


def _client(settings: Settings) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        scope=settings.oidc_scopes,
        redirect_uri=redirect_uri(settings=settings),
        code_challenge_method="S256",
        default_timeout=HTTP_TIMEOUT,
    )


def _get_json(client: OAuth2Session, url: str) -> dict:
    try:
        response = client.get(url, withhold_token=True)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("identity provider unreachable", extra={"error": type(exc).__name__})
        raise SignInRefused("Your organisation's sign-in service cannot be reached. "
                            "Try again in a few minutes, or sign in with a password.",
                            502, "provider_unreachable") from exc
    if not isinstance(body, dict):
        raise SignInRefused("Your organisation's sign-in service gave an answer Rebook cannot "
                            "read.", 502, "provider_unreadable")
    return body


def _provider(settings: Settings, client: OAuth2Session, *, refresh_keys: bool = False
              ) -> _Provider:
    issuer = settings.oidc_issuer.rstrip("/")
    with _providers_lock:
        cached = _providers.get(issuer)
    if cached and not refresh_keys and time.monotonic() - cached.fetched_at < METADATA_TTL:
        return cached
    metadata = _get_json(client, f"{issuer}/.well-known/openid-configuration")
    # OpenID Connect Discovery 4.3: the document must name exactly the issuer asked for, or
    # tokens from another tenant could be accepted.
    if metadata.get("issuer") != settings.oidc_issuer or not all(
            isinstance(metadata.get(k), str) for k in
            ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        log.warning("identity provider metadata does not match OIDC_ISSUER")
        raise SignInRefused("Single sign-on is not set up correctly (the provider's issuer "
                            "does not match OIDC_ISSUER). Tell the Rebook administrators.",
                            502, "provider_misconfigured")
    provider = _Provider(metadata=metadata, keys=_get_json(client, metadata["jwks_uri"]),
                         fetched_at=time.monotonic())
    with _providers_lock:
        _providers[issuer] = provider
    return provider


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="oidc-flow")


def start(*, settings: Settings, next_url: str) -> tuple[str, str]:
    """(the provider's authorization URL, a signed cookie holding this sign-in's secrets)."""
    client = _client(settings)
    provider = _provider(settings, client)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # 64 characters: inside RFC 7636's 43..128
    url, _ = client.create_authorization_url(
        provider.metadata["authorization_endpoint"], state=state, nonce=nonce,
        code_verifier=verifier)
    cookie = _serializer(settings).dumps({"s": state, "n": nonce, "v": verifier, "x": next_url})
    return url, cookie


def finish(*, settings: Settings, cookie: str | None, query: Mapping[str, str]
           ) -> tuple[Identity, str]:
    """Check the provider's answer against this browser's sign-in, exchange the code and
    verify the ID token; (the identity, the page to go to next), or SignInRefused."""
    try:
        flow = _serializer(settings).loads(cookie or "", max_age=FLOW_MAX_AGE)
    except BadSignature:
        flow = None
    # The state ties the answer to a sign-in this browser started (no login CSRF).
    if not isinstance(flow, dict) or not secrets.compare_digest(
            str(flow.get("s", "")), str(query.get("state", ""))):
        raise SignInRefused("This sign-in link is not the one your browser started, or it "
                            "took longer than 10 minutes. Start again.", 400, "state_mismatch")
    error = query.get("error")
    if error:
        raise SignInRefused(PROVIDER_ERRORS.get(error, "Your organisation's sign-in page "
                                                       "refused the sign-in."),
                            400, "provider_error")
    code = query.get("code")
    if not code:
        raise SignInRefused("The sign-in page sent no authorization code. Start again.", 400,
                            "no_code")
    client = _client(settings)
    provider = _provider(settings, client)
    try:
        token = client.fetch_token(provider.metadata["token_endpoint"], code=code,
                                   code_verifier=flow["v"], grant_type="authorization_code")
    except OAuthError as exc:
        if exc.error == "invalid_client":  # our secret is wrong or has expired, not the user
            log.warning("identity provider refused the client credentials")
            raise SignInRefused("Single sign-on is not set up correctly (the provider refused "
                                "Rebook's client secret). Tell the Rebook administrators.",
                                502, "client_refused") from exc
        raise SignInRefused("Your organisation's sign-in service did not accept this sign-in. "
                            "Start again.", 400, f"token_{exc.error}"[:40]) from exc
    except (requests.RequestException, ValueError) as exc:
        raise SignInRefused("Your organisation's sign-in service cannot be reached. "
                            "Try again in a few minutes.", 502, "provider_unreachable") from exc
    if not isinstance(token.get("id_token"), str):
        raise SignInRefused("Your organisation's sign-in service sent no ID token.", 502,
                            "no_id_token")
    claims = _verified_claims(settings, client, provider, token, nonce=flow["n"])
    return _identity(settings, claims), str(flow.get("x", ""))


def _decode(id_token: str, provider: _Provider):
    algorithms = provider.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    # Never "none" or a shared-secret algorithm: an ID token from the back channel must
    # still be signed with the provider's published public keys.
    algorithms = [a for a in algorithms if a != "none" and not a.startswith("HS")]
    return jwt.decode(id_token, KeySet.import_key_set(provider.keys),
                      registry=JWSRegistry(algorithms=algorithms))


def _verified_claims(settings: Settings, client: OAuth2Session, provider: _Provider,
                     token: Mapping, *, nonce: str) -> CodeIDToken:
    try:
        try:
            decoded = _decode(token["id_token"], provider)
        except InvalidKeyIdError:  # the provider has rotated its keys since we fetched them
            decoded = _decode(token["id_token"], _provider(settings, client, refresh_keys=True))
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {"iss": {"essential": True, "value": settings.oidc_issuer},
             "aud": {"essential": True, "value": settings.oidc_client_id}},
            {"nonce": nonce, "client_id": settings.oidc_client_id,
             "access_token": token.get("access_token")})
        claims.validate(leeway=CLOCK_LEEWAY)
    except (JoseError, ValueError) as exc:
        log.warning("ID token refused", extra={"error": type(exc).__name__,
                                               "claim": getattr(exc, "claim", None)})
        raise SignInRefused("Rebook could not verify the sign-in from your organisation. "
                            "Start again; if it keeps happening, tell the Rebook "
                            "administrators.", 401, "id_token_invalid") from exc
    return claims


def _strings(value) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _identity(settings: Settings, claims: Mapping) -> Identity:
    subject = claims.get("oid") or claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInRefused("Your organisation's sign-in did not say who you are.", 401,
                            "no_subject")
    hint = claims.get("preferred_username") or claims.get("email") or ""
    name = claims.get("name") or hint or "Staff member"
    return Identity(issuer=settings.oidc_issuer, subject=subject,
                    display_name=str(name)[:120], username_hint=str(hint),
                    role_values=_strings(claims.get(settings.oidc_roles_claim)),
                    amr=_strings(claims.get("amr")))
