"""Twilio request signatures, checked against the URL Twilio itself called."""

from __future__ import annotations

from twilio.request_validator import RequestValidator


def public_url(*, public_base_url: str, path: str, query: str = "") -> str:
    """The URL as Twilio saw it: behind a TLS proxy our own request URL is not it."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def is_valid(*, auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's HMAC-SHA1 of `url` and `params` under `auth_token`."""
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def sign(*, auth_token: str, url: str, params: dict[str, str]) -> str:
    """The signature Twilio would send; used by the sandbox phone and by tests."""
    return RequestValidator(auth_token).compute_signature(url, params)
