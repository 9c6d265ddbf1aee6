"""A fake OpenID Connect provider on loopback, shaped like Microsoft Entra ID (v2.0 issuer
with a tenant path, app roles in "roles", "oid"), for the real sign-in code to talk to.

It serves discovery, the JWKS, /authorize (which signs the user in at once and sends the
browser back with a code) and /token (which checks the client secret, redirect URI and PKCE
verifier, then returns an ID token signed with an RSA key made for the test run). Tests set
the next ID token's claims, or break them, through `FakeIdpState`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.loopback import LoopbackServer, QuietJsonHandler

TENANT_PATH = "/11111111-2222-3333-4444-555555555555/v2.0"
CLIENT_ID = "00000000-aaaa-bbbb-cccc-rebook000001"
CLIENT_SECRET = "test-client-secret-0123456789"
DELETE = object()  # a claim value meaning "leave this claim out"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class FakeIdpState:
    issuer: str = ""
    signing_key: RSAKey | None = None  # signs ID tokens
    published_keys: list[RSAKey] = field(default_factory=list)  # served at /jwks
    # The person signing in: the next ID token's claims (merged over the defaults).
    user: dict = field(default_factory=dict)
    token_overrides: dict = field(default_factory=dict)  # claims to break, e.g. aud, nonce
    metadata_overrides: dict = field(default_factory=dict)
    authorize_error: str = ""  # answer /authorize with ?error=... instead of a code
    unsigned: bool = False  # send an "alg": "none" ID token (an old JWT library attack)
    authorize_requests: list[dict] = field(default_factory=list)
    token_requests: int = 0
    jwks_requests: int = 0
    codes: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Back to one published signing key and a clerk called Test Clerk."""
        key = new_key("key-1") if self.signing_key is None else self.signing_key
        self.signing_key, self.published_keys = key, [key]
        self.user = {"oid": "aaaaaaaa-0000-0000-0000-000000000001",
                     "sub": "pairwise-subject-1", "name": "Test Clerk",
                     "preferred_username": "test.clerk@nhs.example", "roles": ["Rebook.Clerk"]}
        self.token_overrides, self.metadata_overrides = {}, {}
        self.authorize_error, self.unsigned = "", False
        self.authorize_requests.clear()
        self.codes.clear()
        self.token_requests = self.jwks_requests = 0

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "nbf": now,
                  "exp": now + 3600, "nonce": nonce, "tid": TENANT_PATH.split("/")[1],
                  "ver": "2.0", **self.user, **self.token_overrides}
        claims = {k: v for k, v in claims.items() if v is not DELETE}
        if self.unsigned:
            parts = ({"alg": "none", "typ": "JWT"}, claims)
            return ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=")
                            .decode() for p in parts) + "."
        return jwt.encode({"alg": "RS256", "kid": self.signing_key.kid, "typ": "JWT"}, claims,
                          self.signing_key)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _Handler(QuietJsonHandler):


    @property
    def state(self) -> FakeIdpState:
        return self.server.idp

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        base = self.state.issuer.removesuffix(TENANT_PATH)
        if url.path == f"{TENANT_PATH}/.well-known/openid-configuration":
            self._json(200, {
                "issuer": self.state.issuer,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                          "client_secret_basic"],
                **self.state.metadata_overrides})
        elif url.path == "/discovery/v2.0/keys":
            with self.state.lock:
                self.state.jwks_requests += 1
            self._json(200, {"keys": [k.as_dict(private=False)
                                      for k in self.state.published_keys]})
        elif url.path == "/oauth2/v2.0/authorize":
            self._authorize(query)
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict) -> None:
        with self.state.lock:
            self.state.authorize_requests.append(query)
        back = {"state": query.get("state", "")}
        if self.state.authorize_error:
            back |= {"error": self.state.authorize_error,
                     "error_description": "<script>alert('reflected')</script>"}
        else:
            code = secrets.token_urlsafe(16)
            with self.state.lock:
                self.state.codes[code] = query
            back["code"] = code
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{urlencode(back)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        if urlparse(self.path).path != "/oauth2/v2.0/token":
            self._json(404, {"error": "not_found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        with self.state.lock:
            self.state.token_requests += 1
            request = self.state.codes.pop(form.get("code", ""), None)  # codes are single-use
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            self._json(401, {"error": "invalid_client"})
        elif (request is None or form.get("grant_type") != "authorization_code"
              or form.get("redirect_uri") != request.get("redirect_uri")
              or request.get("code_challenge_method") != "S256"
              or _s256(form.get("code_verifier", "")) != request.get("code_challenge")):
            self._json(400, {"error": "invalid_grant"})
        else:
            self._json(200, {"token_type": "Bearer", "expires_in": 3600,
                             "access_token": secrets.token_urlsafe(32),
                             "id_token": self.state.id_token(request.get("nonce", ""))})


class FakeIdentityProvider(LoopbackServer):
    """`with FakeIdentityProvider() as idp:` serves on 127.0.0.1; `idp.state` steers it."""

    def __init__(self):
        self.state = FakeIdpState()
        super().__init__(_Handler, idp=self.state)
        self.state.issuer = self.url + TENANT_PATH
        self.state.reset()
