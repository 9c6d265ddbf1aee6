"""A fake FHIR R4B server on loopback, for the FHIR adapter's tests and benchmark.

It keeps resources with `meta.versionId` and `meta.lastUpdated` (a strictly increasing
clock), answers searches by `_lastUpdated=gt...`, `identifier=system|value`, `_count` and
`_sort=_lastUpdated` with stable paging (a snapshot per search, as HAPI pages), reads, PUTs
and transaction Bundles. It validates every resource it receives with fhir.resources' R4B
models (400 with an OperationOutcome when one is invalid), enforces `If-Match` (412 on a
stale version, the whole transaction refused), honours `ifNoneExist`, can require a bearer
token from its client-credentials token endpoint, and can be switched down (503) or off
(connection refused) for fault tests.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from tests.fakes.loopback import QuietJsonHandler

CLIENT_ID = "rebook-fhir-client"
CLIENT_SECRET = "fhir-test-secret-0123456789"


class Refused(Exception):
    def __init__(self, status: int, code: str, words: str):
        super().__init__(words)
        self.status, self.code, self.words = status, code, words


def outcome(code: str, words: str) -> dict:
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": words}]}


@dataclass
class FakeFhirState:
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    searches: dict[str, list[dict]] = field(default_factory=dict)
    require_token: bool = False
    token_lifetime: int = 3600
    tokens: set[str] = field(default_factory=set)
    tokens_issued: int = 0
    down: bool = False  # answer 503 to everything
    pages_before_down: int | None = None  # serve this many search pages, then go down
    pages_served: int = 0
    received: int = 0  # resources received (and validated)
    requests: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _last: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _stamp(self) -> str:
        self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
        return self._last.isoformat()

    def store(self, resource: dict) -> dict:
        """Keep a (validated) resource as a new version; returns it as stored."""
        with self.lock:
            kind = resource["resourceType"]
            if not resource.get("id"):
                resource["id"] = f"{kind[:2].lower()}{next(self._ids)}"
            current = self.resources.get((kind, resource["id"]))
            version = int(current["meta"]["versionId"]) + 1 if current else 1
            meta = dict(resource.get("meta") or {})
            meta.update(versionId=str(version), lastUpdated=self._stamp())
            stored = {**resource, "meta": meta}
            self.resources[(kind, resource["id"])] = stored
            return stored

    def get(self, kind: str, resource_id: str) -> dict | None:
        return self.resources.get((kind, resource_id))

    def change(self, kind: str, resource_id: str, **fields) -> dict:
        """Change a resource as the PAS would (a new version, a new lastUpdated)."""
        current = {k: v for k, v in self.get(kind, resource_id).items() if k != "meta"}
        return self.store(validated({**current, **fields}))

    def load(self, bundle: dict) -> int:
        """Store every resource of a (validated) bundle, in order; how many."""
        for entry in bundle.get("entry") or []:
            self.store(validated(entry["resource"]))
        return len(bundle.get("entry") or [])

    def search(self, kind: str, query: dict[str, str]) -> list[dict]:
        since = query.get("_lastUpdated", "")
        identifier = query.get("identifier", "")
        with self.lock:
            found = [r for (k, _), r in self.resources.items() if k == kind]
        if since:
            if not since.startswith("gt"):
                raise Refused(400, "not-supported", "only _lastUpdated=gt... is supported")
            after = datetime.fromisoformat(since[2:])
            found = [r for r in found if datetime.fromisoformat(r["meta"]["lastUpdated"]) > after]
        if identifier:
            system, _, value = identifier.partition("|")
            found = [r for r in found if any(i.get("system") == system and i.get("value") == value
                                             for i in r.get("identifier") or [])]
        return sorted(found, key=lambda r: (datetime.fromisoformat(r["meta"]["lastUpdated"]),
                                            r["id"]))


def validated(resource: dict) -> dict:
    """The resource, checked with its R4B model (Refused 400 when invalid)."""
    try:
        model = get_fhir_model_class(resource.get("resourceType", ""))
    except (KeyError, ValueError) as exc:
        raise Refused(400, "not-supported", f"unknown resource type: {exc}") from exc
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        raise Refused(400, "invalid", f"invalid {resource.get('resourceType')}: "
                      f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}") from exc
    return resource


def _version(etag: str) -> str:
    return etag.removeprefix("W/").strip('"')


class _Handler(QuietJsonHandler):
    @property
    def state(self) -> FakeFhirState:
        return self.server.fhir

    def _answer(self, work) -> None:
        self.state.requests.append(f"{self.command} {urlparse(self.path).path}")
        try:
            if urlparse(self.path).path != "/token":
                self._check_available()
            status, payload, headers = work()
        except Refused as refused:
            status, payload, headers = refused.status, outcome(refused.code, refused.words), {}
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _check_available(self) -> None:
        if self.state.down:
            raise Refused(503, "transient", "the PAS is down for maintenance")
        if self.state.require_token:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.state.tokens:
                raise Refused(401, "login", "a valid bearer token is required")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(self._get)

    def do_PUT(self) -> None:  # noqa: N802
        self._answer(self._put)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _get(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        if "_getpages" in query:
            return 200, self._page(query["_getpages"], int(query["_offset"]),
                                   int(query["_count"])), {}
        if len(parts) == 2:
            found = self.state.get(*parts)
            if found is None:
                raise Refused(404, "not-found", f"{parts[0]}/{parts[1]} is not known")
            return 200, found, {"ETag": f'W/"{found["meta"]["versionId"]}"'}
        matches = self.state.search(parts[0], query)
        search_id = f"s{len(self.state.searches) + 1}"
        self.state.searches[search_id] = matches
        return 200, self._page(search_id, 0, int(query.get("_count", 50))), {}

    def _page(self, search_id: str, offset: int, count: int) -> dict:
        with self.state.lock:
            if self.state.pages_before_down is not None and \
                    self.state.pages_served >= self.state.pages_before_down:
                self.state.down = True
                raise Refused(503, "transient", "the PAS went down mid-search")
            self.state.pages_served += 1
        matches = self.state.searches[search_id]
        page = matches[offset:offset + count]
        base = f"http://{self.headers['Host']}"
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                  "link": [{"relation": "self", "url": base + self.path}],
                  "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                             "search": {"mode": "match"}} for r in page]}
        if offset + count < len(matches):
            next_query = urlencode({"_getpages": search_id, "_offset": offset + count,
                                    "_count": count})
            bundle["link"].append({"relation": "next", "url": f"{base}/?{next_query}"})
        return bundle

    def _put(self):
        kind, resource_id = [p for p in urlparse(self.path).path.split("/") if p]
        resource = validated(json.loads(self._body()))
        self.state.received += 1
        if resource.get("id") != resource_id or resource.get("resourceType") != kind:
            raise Refused(400, "invalid", "the resource's type and id differ from the URL")
        with self.state.lock:
            self._check_match(kind, resource_id, self.headers.get("If-Match"))
            stored = self.state.store(resource)
        return 200, stored, {"ETag": f'W/"{stored["meta"]["versionId"]}"'}

    def _check_match(self, kind: str, resource_id: str, if_match: str | None) -> None:
        if not if_match:
            return
        current = self.state.get(kind, resource_id)
        if current is None or current["meta"]["versionId"] != _version(if_match):
            raise Refused(412, "conflict", f"{kind}/{resource_id} has changed (version "
                          f"{current['meta']['versionId'] if current else 'none'})")

    def _post(self):
        path = urlparse(self.path).path.strip("/")
        if path == "token":
            return self._token()
        if path:
            raise Refused(400, "not-supported", "POST a transaction Bundle to the base URL")
        bundle = json.loads(self._body())
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            raise Refused(400, "invalid", "a transaction Bundle is expected")
        return 200, self._transaction(bundle), {}

    def _transaction(self, bundle: dict) -> dict:
        entries = bundle.get("entry") or []
        for entry in entries:
            if "resource" in entry:
                validated(entry["resource"])
                self.state.received += 1
        try:
            Bundle.model_validate({**bundle, "entry": [
                {k: v for k, v in e.items() if k != "resource"} for e in entries]})
        except ValidationError as exc:
            raise Refused(400, "invalid", f"invalid Bundle: {exc.errors()[0]['msg']}") from exc
        with self.state.lock:
            plan = [self._precondition(entry) for entry in entries]  # all checked first
            return {"resourceType": "Bundle", "type": "transaction-response",
                    "entry": [self._perform(entry, existing)
                              for entry, existing in zip(entries, plan, strict=True)]}

    def _precondition(self, entry: dict) -> dict | None:
        request = entry["request"]
        if request["method"] == "PUT":
            self._check_match(*request["url"].split("/")[:2], request.get("ifMatch"))
            return None
        if request["method"] == "POST" and request.get("ifNoneExist"):
            query = {k: v[0] for k, v in parse_qs(request["ifNoneExist"]).items()}
            found = self.state.search(request["url"], query)
            return found[0] if found else None
        if request["method"] != "POST":
            raise Refused(400, "not-supported", f"{request['method']} in a transaction")
        return None

    def _perform(self, entry: dict, existing: dict | None) -> dict:
        if existing is not None:
            stored, status = existing, "200 OK"
        else:
            resource = dict(entry["resource"])
            if entry["request"]["method"] == "POST":
                resource.pop("id", None)
            stored = self.state.store(resource)
            status = "201 Created" if entry["request"]["method"] == "POST" else "200 OK"
        version = stored["meta"]["versionId"]
        return {"response": {"status": status, "etag": f'W/"{version}"',
                             "location": f"{stored['resourceType']}/{stored['id']}/_history/"
                                         f"{version}"}}

    def _token(self):
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        if form.get("grant_type") != "client_credentials" or \
                form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}, {}
        with self.state.lock:
            self.state.tokens_issued += 1
            token = f"token-{self.state.tokens_issued}"
            self.state.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer",
                     "expires_in": self.state.token_lifetime}, {}


class FakeFhirServer:
    """The fake on a free loopback port; `stop()` then `start()` keeps the port (connection
    refused in between)."""

    def __init__(self, state: FakeFhirState | None = None):
        self.state = state or FakeFhirState()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeFhirServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.fhir = self.state
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeFhirServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
