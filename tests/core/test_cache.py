"""The Redis cache backend keeps one client per pool; everything else is Django's."""

import os
import threading

import pytest
from django.core.cache.backends.redis import RedisCacheClient

from core.cache import RedisCache


def test_one_client_per_pool_not_one_per_operation():
    cache = RedisCache("redis://127.0.0.1:1/0", {})  # nothing connects until a command
    client = cache._cache.get_client("a")
    assert client is cache._cache.get_client("b")
    assert client is cache._cache.get_client("c", write=True)
    assert client.connection_pool is cache._cache._get_connection_pool(write=True)
    # Django's own client builds a new one each time: the cost this backend removes.
    plain = RedisCacheClient(["redis://127.0.0.1:1/0"])
    assert plain.get_client("a") is not plain.get_client("a")


def test_reads_spread_over_replicas_each_with_its_own_client():
    cache = RedisCache("redis://127.0.0.1:1/0,redis://127.0.0.1:2/0", {})
    writer = cache._cache.get_client(write=True)
    reader = cache._cache.get_client(write=False)
    assert writer is not reader
    assert writer.connection_pool.connection_kwargs["port"] == 1
    assert reader.connection_pool.connection_kwargs["port"] == 2


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's Redis)")
def test_shared_client_from_many_threads():
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": f"test-cache-{os.getpid()}"})
    failures = []

    def work(n: int) -> None:
        for i in range(50):
            cache.set(f"k{n}-{i}", (n, i), timeout=30)
            if cache.get_many([f"k{n}-{i}", "missing"]) != {f"k{n}-{i}": (n, i)}:
                failures.append((n, i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    cache.delete_many([f"k{n}-{i}" for n in range(8) for i in range(50)])
