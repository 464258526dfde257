"""The Redis cache backend: Django's own, keeping one client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object around the
pool on every cache operation — 62 µs of CPU each, measured on the 2-core reference
machine, against 43 µs for the whole ``MGET`` a catalogue hit sends. A ``redis.Redis`` is
safe to share between threads (each command borrows a connection from the pool), and the
pool itself re-opens its connections after a fork, so one client per pool is kept here.
Everything else — serialization, key prefixes, timeouts, replicas — is Django's.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients.setdefault(
                index, self._client(connection_pool=self._pools[index])
            )
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with a client per pool."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
