"""Versioned cache for anonymous catalogue reads.

Every cached response's key carries the current *catalogue version*, a random token in
the shared cache. Any write to a category, product, plan, product test or test replaces
the token (at once, and again when the transaction commits), so every process stops
reading older entries immediately; those simply expire. A random token rather than a
counter: if the cache evicts the token, the next one can never collide with old keys.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalogue:version"
RESPONSE_TIMEOUT = 300


def catalogue_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def catalogue_changed() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None))


def cached_response_key(path: str) -> str:
    """The cache key for an anonymous GET of ``path`` (full path with query). The path is
    hashed: a long search would otherwise make a key longer than the database cache's
    255-character column (and memcached's 250)."""
    digest = hashlib.sha256(path.encode()).hexdigest()
    # "body": entries hold rendered bytes; a new prefix whenever an entry's shape changes, so
    # processes of a release never read the entries of another.
    return f"catalogue:body:{catalogue_version()}:{digest}"


def get_cached(key: str) -> Any:
    return cache.get(key)


def put_cached(key: str, value: Any) -> None:
    cache.set(key, value, timeout=RESPONSE_TIMEOUT)
