"""The client address behind (and without) trusted proxies: a forged header changes nothing."""

import ipaddress

import pytest
from pydantic import ValidationError

from api.config import Settings
from api.system import client_address

PROXIES = client_address.parse_trusted("10.0.0.5, 192.168.0.0/16, ::1")


def resolve(peer, forwarded_for, trusted=PROXIES):
    return client_address.resolve(peer=peer, forwarded_for=forwarded_for, trusted=trusted)


def test_with_no_trusted_proxy_the_peer_is_the_client_whatever_the_header_says():
    assert client_address.parse_trusted("") == ()
    for peer in ("127.0.0.1", "::1", "203.0.113.9"):
        assert resolve(peer, "198.51.100.1", trusted=()) == peer


def test_an_untrusted_peer_cannot_choose_its_address():
    assert resolve("203.0.113.9", "198.51.100.1, 10.0.0.5") == "203.0.113.9"


def test_behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client():
    # The client forged the first entry; our proxy appended what it really saw.
    assert resolve("10.0.0.5", "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert resolve("10.0.0.5", "1.2.3.4, 198.51.100.7, 192.168.4.4") == "198.51.100.7"
    assert resolve("::1", "[2001:db8::1]:443") == "2001:db8::1"
    assert resolve("10.0.0.5", "198.51.100.7:5123") == "198.51.100.7"
    # Only proxies in the chain: the first is where the request began.
    assert resolve("10.0.0.5", "192.168.1.1, 192.168.1.2") == "192.168.1.1"
    # A trusted proxy that sent no header is itself the client.
    assert resolve("10.0.0.5", None) == "10.0.0.5"
    assert resolve(None, "1.2.3.4") == "unknown"


def test_ipv6_clients_share_a_bucket_per_64_and_ipv4_per_address():
    assert client_address.bucket("2001:db8:1:2::1") == client_address.bucket("2001:db8:1:2:ff::9")
    assert client_address.bucket("2001:db8:1:2::1") != client_address.bucket("2001:db8:1:3::1")
    assert client_address.bucket("::ffff:198.51.100.7") == "198.51.100.7"
    assert client_address.bucket("198.51.100.7") != client_address.bucket("198.51.100.8")
    assert ipaddress.ip_network(client_address.bucket("2001:db8::1")).prefixlen == 64


@pytest.mark.parametrize("setting", ["*", "10.0.0.300", "proxy.internal", "10.0.0.0/8, nope"])
def test_a_bad_trusted_proxy_setting_refuses_to_start(setting):
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS"):
        Settings(forwarded_allow_ips=setting)


def test_serve_gives_uvicorn_the_same_trusted_proxies(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app
    from api.config import get_settings

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    for setting, proxy_headers in (("", False), ("10.0.0.5,10.1.0.0/16", True)):
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", setting)
        get_settings.cache_clear()
        assert CliRunner().invoke(app, ["serve"]).exit_code == 0
        assert seen["proxy_headers"] is proxy_headers
        assert seen["forwarded_allow_ips"] == setting
    get_settings.cache_clear()
