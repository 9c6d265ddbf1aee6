"""A FHIR REST client over httpx: incremental searches with paging, reads, transactions, and
OAuth2 client credentials when the trust configures them.

Every failure becomes a `FhirError` that says whether trying again later can help (the server
down, a timeout, a 5xx) or not (a 4xx: the server understood and refused).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from api.config import Settings

FHIR_JSON = "application/fhir+json"
# A token is renewed this long before the server says it expires, so a request never
# carries one that lapses in flight.
TOKEN_MARGIN_SECONDS = 30.0


class FhirError(Exception):
    """The FHIR server could not be reached, or answered with an error."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class FhirClient:
    """One connection pool to the trust's FHIR server (thread-confined, like httpx.Client)."""

    def __init__(self, *, settings: Settings, transport: httpx.BaseTransport | None = None):
        if not settings.fhir_base_url:
            raise FhirError("FHIR_BASE_URL is not set: Rebook does not know the FHIR server")
        self.base_url = settings.fhir_base_url.rstrip("/")
        self.settings = settings
        self._http = httpx.Client(timeout=settings.fhir_timeout_seconds, transport=transport,
                                  headers={"Accept": FHIR_JSON})
        self._token: str | None = None
        self._token_until = 0.0
        self.tokens_fetched = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the verbs -----------------------------------------------------------------------

    def search_pages(self, resource_type: str, *, since: str = "",
                     count: int | None = None) -> Iterator[tuple[list[dict], bool]]:
        """Resources changed after `since` (the server's lastUpdated), oldest first, a page at
        a time: (resources, whether another page follows)."""
        params = {"_count": str(count or self.settings.fhir_page_size),
                  "_sort": "_lastUpdated"}
        if since:
            params["_lastUpdated"] = f"gt{since}"
        url: str | None = f"{self.base_url}/{resource_type}"
        while url is not None:
            bundle = self.request("GET", url, params=params).json()
            params = None  # the next link carries the whole query
            url = next((link.get("url") for link in bundle.get("link") or []
                        if link.get("relation") == "next"), None)
            resources = [e["resource"] for e in bundle.get("entry") or [] if "resource" in e]
            yield resources, url is not None

    def read(self, resource_type: str, resource_id: str) -> dict:
        return self.request("GET", f"{self.base_url}/{resource_type}/{resource_id}").json()

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        """The first page of a search's matches (for look-ups that expect few)."""
        bundle = self.request("GET", f"{self.base_url}/{resource_type}", params=params).json()
        return [e["resource"] for e in bundle.get("entry") or [] if "resource" in e]

    def transaction(self, bundle: dict) -> dict:
        return self.request("POST", self.base_url, json=bundle,
                            headers={"Content-Type": FHIR_JSON}).json()

    # --- the wire ------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        """Send one request (with a bearer token when configured; a 401 renews it once)."""
        response = self._send(method, url, **kwargs)
        if response.status_code == 401 and self.settings.fhir_token_url:
            self._token = None  # revoked or expired early: one fresh token, one more try
            response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise FhirError(f"{method} {_path(url)}: HTTP {response.status_code}"
                            f"{_outcome(response)}", status=response.status_code,
                            retryable=response.status_code >= 500 or
                            response.status_code in (401, 408, 429))
        return response

    def _send(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        token = self._bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            return self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise FhirError(f"{method} {_path(url)}: no answer within "
                            f"{self.settings.fhir_timeout_seconds:g} s", retryable=True) from exc
        except httpx.TransportError as exc:
            raise FhirError(f"{method} {_path(url)}: cannot reach the FHIR server "
                            f"({type(exc).__name__})", retryable=True) from exc

    def _bearer(self) -> str | None:
        """The cached access token, fetched again shortly before it expires."""
        if not self.settings.fhir_token_url:
            return None
        if self._token is None or time.monotonic() >= self._token_until:
            self._token, lifetime = self._fetch_token()
            self._token_until = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0.0)
        return self._token

    def _fetch_token(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials", "client_id": self.settings.fhir_client_id,
                "client_secret": self.settings.fhir_client_secret.get_secret_value()}
        if self.settings.fhir_scope:
            form["scope"] = self.settings.fhir_scope
        try:
            response = self._http.post(self.settings.fhir_token_url, data=form,
                                       headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise FhirError(f"cannot reach the token endpoint ({type(exc).__name__})",
                            retryable=True) from exc
        if response.status_code != 200:
            raise FhirError(f"the token endpoint refused Rebook's client credentials: HTTP "
                            f"{response.status_code}", status=response.status_code,
                            retryable=response.status_code >= 500)
        body = response.json()
        self.tokens_fetched += 1
        return body["access_token"], float(body.get("expires_in") or 300)


def _path(url: str) -> str:
    """The URL without the query (search parameters are not for error messages)."""
    return url.split("?", 1)[0]


def _outcome(response: httpx.Response) -> str:
    """The OperationOutcome's first issue in words, when the server sent one."""
    try:
        issues = response.json().get("issue") or []
    except ValueError:
        return ""
    if not issues:
        return ""
    issue = issues[0]
    words = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or ""
    return f" ({issue.get('code', 'error')}: {words[:300]})" if words else \
        f" ({issue.get('code', 'error')})"
