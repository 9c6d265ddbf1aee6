"""The one Redis client factory: one shared client per URL and timeout, any URL form."""

import asyncio

import pytest
import redis

from api.system import redis_client
from tests.conftest import live_redis_url


@pytest.fixture(autouse=True)
def _fresh_clients():
    redis_client.close_all()
    yield
    redis_client.close_all()



def test_one_client_per_url_and_timeout():
    first = redis_client.client("redis://127.0.0.1:6379/15")
    assert redis_client.client("redis://127.0.0.1:6379/15") is first
    assert redis_client.client("redis://127.0.0.1:6379/15", timeout=1) is not first
    assert redis_client.client("redis://127.0.0.1:6379/14") is not first


def test_timeouts_and_decoding_are_set():
    kwargs = redis_client.client("redis://127.0.0.1:6379/15",
                                 timeout=2).connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 2
    assert kwargs["socket_connect_timeout"] == redis_client.CONNECT_TIMEOUT_SECONDS
    assert kwargs["decode_responses"] is False
    decoded = redis_client.client("redis://127.0.0.1:6379/15", decode_responses=True)
    assert decoded.connection_pool.connection_kwargs["decode_responses"] is True


def test_tls_url_with_a_password_gives_a_tls_client():
    pool = redis_client.client("rediss://:s3cret@redis.example.org:6380/2").connection_pool
    assert pool.connection_class is redis.SSLConnection
    assert pool.connection_kwargs["password"] == "s3cret"
    assert pool.connection_kwargs["host"] == "redis.example.org"
    assert pool.connection_kwargs["port"] == 6380
    assert pool.connection_kwargs["db"] == 2


def test_user_and_password_from_the_url():
    kwargs = redis_client.client(
        "redis://rebook:pa%40ss@127.0.0.1:6379/0").connection_pool.connection_kwargs
    assert kwargs["username"] == "rebook"
    assert kwargs["password"] == "pa@ss"


def test_the_shared_client_talks_to_redis():
    url = live_redis_url()
    client = redis_client.client(url, decode_responses=True)
    client.set("rebook:test:redis-client", "ok", ex=10)
    assert client.get("rebook:test:redis-client") == "ok"
    client.delete("rebook:test:redis-client")


def test_the_async_client_is_new_each_time_and_talks_to_redis():
    url = live_redis_url()

    async def run() -> bool:
        first, second = redis_client.async_client(url), redis_client.async_client(url)
        try:
            assert first is not second
            return await first.ping()
        finally:
            await first.aclose()
            await second.aclose()

    assert asyncio.run(run())
