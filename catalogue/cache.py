"""Versioned cache for anonymous catalogue reads.

Every cached response is stored with the *catalogue version* it was built under, a random
token in the shared cache, and is served only while that token is current. Any write to
a category, product, plan, product test or test replaces the token (at once, and again
when the transaction commits), so every process stops reading older entries immediately;
those simply expire. A random token rather than a counter: if the cache evicts the token,
the next one can never collide with old entries.
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


def _response_key(path: str) -> str:
    """The cache key for an anonymous GET of ``path`` (full path with query). The path is
    hashed: a long search would otherwise make a key longer than the database cache's
    255-character column (and memcached's 250)."""
    digest = hashlib.sha256(path.encode()).hexdigest()
    # "entry": entries hold (version, ETag, rendered bytes); a new prefix whenever an
    # entry's shape changes, so processes of a release never read the entries of another.
    return f"catalogue:entry:{digest}"


def get_cached(path: str) -> tuple[str, Any]:
    """``(version, value)`` for ``path``: the current catalogue version, and what was put
    for ``path`` under that version (``None`` when missing or built under an older one).
    One cache round trip reads both (the version and the entry), as a hit on the
    anonymous catalogue is the hottest read there is."""
    key = _response_key(path)
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or catalogue_version()
    entry = found.get(key)
    if entry is None or entry[0] != version:
        return version, None
    return version, entry[1]


def put_cached(path: str, version: str, value: Any) -> None:
    """Store ``value`` for ``path``, built under ``version`` (read by :func:`get_cached`
    before the build: a write during the build makes the entry stale at once)."""
    cache.set(_response_key(path), (version, value), timeout=RESPONSE_TIMEOUT)
