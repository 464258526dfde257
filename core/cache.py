"""The Redis cache backend: Django's own, keeping one client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object around the
pool on every cache operation — 62 µs of CPU each, measured on the 2-core reference
machine, against 43 µs for the whole ``MGET`` a catalogue hit sends. A ``redis.Redis`` is
safe to share between threads (each command borrows a connection from the pool), and the
pool itself re-opens its connections after a fork, so one client per pool is kept here.
Everything else — serialization, key prefixes, timeouts, replicas — is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import Redis

# Django's client keeps its pools, servers and client class in private attributes that
# django-stubs does not declare: the lines that read them carry attr-defined ignores.


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        index: int = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pools = self._pools  # type: ignore[attr-defined]
            if index not in pools:
                pools[index] = self._pool_class.from_url(  # type: ignore[attr-defined]
                    self._servers[index],  # type: ignore[attr-defined]
                    **self._pool_options,  # type: ignore[attr-defined]
                )
            client = self._clients.setdefault(
                index,
                self._client(connection_pool=pools[index]),  # type: ignore[attr-defined]
            )
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with a client per pool."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
