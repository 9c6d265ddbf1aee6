"""Which address a request really came from, for per-address limits that a header cannot fool.

The socket peer is the client, unless the peer is one of the proxies listed in
FORWARDED_ALLOW_IPS (addresses or networks; empty, the default, trusts nobody). Then the
client is the right-most address in X-Forwarded-For that is not such a proxy: every proxy
appends the address it saw, so entries left of the last untrusted one were written by the
client and can say anything. Uvicorn's proxy-headers middleware (which `rebook serve` gives the
same setting) resolves `request.client` by the same rule, so applying it again changes
nothing; under any other server it is what keeps a forged header from rotating the address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(setting: str) -> tuple[Network, ...]:
    """The networks of a FORWARDED_ALLOW_IPS value ("10.0.0.5, 10.1.0.0/16"); ValueError if bad."""
    networks = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        if entry == "*":
            # Trusting every peer lets any client choose its address: list the proxies.
            raise ValueError("FORWARDED_ALLOW_IPS must list proxy addresses or networks, not '*'")
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"FORWARDED_ALLOW_IPS: {entry!r} is not an address or network") \
                from exc
    return tuple(networks)


_trusted = lru_cache(maxsize=8)(parse_trusted)


def _is_trusted(host: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)


def _host_of(entry: str) -> str:
    """The address of one X-Forwarded-For entry ("1.2.3.4", "1.2.3.4:5678", "[::1]:80")."""
    entry = entry.strip()
    if entry.startswith("["):
        return entry[1:entry.find("]")] if "]" in entry else entry
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def resolve(*, peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The client address: the peer, or behind trusted proxies the right-most untrusted hop."""
    if not peer:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [_host_of(entry) for entry in forwarded_for.split(",") if entry.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer  # every hop a trusted proxy: the first one is the client


def bucket(address: str) -> str:
    """The rate-limit key of an address: an IPv6 client usually holds a whole /64, so the /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # "::ffff:198.51.100.7" is that IPv4 client
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def of_request(request: Request, *, forwarded_allow_ips: str) -> str:
    """The client address of `request` under the configured trusted proxies."""
    headers = request.headers.getlist("x-forwarded-for")
    return resolve(peer=request.client.host if request.client else None,
                   forwarded_for=", ".join(headers) if headers else None,
                   trusted=_trusted(forwarded_allow_ips))
