"""The catalogue's vocabulary: every word of the published products' titles and summaries,
and which of them a mistyped word was probably meant to be.

Closeness is trigram similarity as PostgreSQL's ``pg_trgm`` defines it (a word padded with
two spaces in front and one behind, cut into three-letter pieces; shared pieces ÷ all
pieces), computed here rather than in the database: a vocabulary of a few thousand words
answers in well under a millisecond, needs no database extension (managed and embedded
PostgreSQL builds often lack ``pg_trgm``), and is independent of how many products carry
a word. The vocabulary is built from one query and kept per catalogue version: in this
process's memory and in the shared cache, so a catalogue edit retires it everywhere.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.core.cache import cache

from catalogue.cache import catalogue_version
from catalogue.models import Product

WORD = re.compile(r"[^\W_]+", re.UNICODE)
THRESHOLD = 0.5  # pg_trgm's default similarity threshold
SHORTEST = 4  # shorter words have too few trigrams to tell a typo from another word
CLOSEST = 3  # at most this many stand-ins per mistyped word
CACHE_TIMEOUT = 24 * 3600

_local: dict[str, Vocabulary] = {}
_lock = threading.Lock()


def trigrams(word: str) -> frozenset[str]:
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


class Vocabulary:
    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)
        self._sizes: dict[str, int] = {}
        self._by_trigram: dict[str, list[str]] = defaultdict(list)
        for word in self.words:
            pieces = trigrams(word)
            self._sizes[word] = len(pieces)
            for piece in pieces:
                self._by_trigram[piece].append(word)

    def close_to(self, word: str) -> list[str]:
        """The vocabulary's words most similar to ``word`` (at least ``THRESHOLD``), best
        first; none for a word the vocabulary holds or a very short one."""
        if word in self.words or len(word) < SHORTEST:
            return []
        pieces = trigrams(word)
        shared: Counter[str] = Counter()
        for piece in pieces:
            shared.update(self._by_trigram.get(piece, ()))
        scored = []
        for other, common in shared.items():
            similarity = common / (len(pieces) + self._sizes[other] - common)
            if similarity >= THRESHOLD:
                scored.append((-similarity, other))
        return [other for _, other in sorted(scored)[:CLOSEST]]


def words_of(texts: Iterable[str]) -> set[str]:
    return {word for text in texts for word in WORD.findall(text.lower())}


def _build() -> Vocabulary:
    rows = Product.objects.filter(is_published=True).values_list("title", "summary")
    return Vocabulary(words_of(part for row in rows for part in row))


def vocabulary() -> Vocabulary:
    """The current catalogue's vocabulary: from this process's memory, else the shared
    cache, else one query (then stored in both)."""
    version = catalogue_version()
    if version is None:  # no shared cache at all (a dummy backend): nothing to key on
        return _build()
    with _lock:
        found = _local.get(version)
    if found is not None:
        return found
    key = f"catalogue:vocabulary:{version}"
    words = cache.get(key)
    if words is None:
        found = _build()
        cache.set(key, sorted(found.words), timeout=CACHE_TIMEOUT)
    else:
        found = Vocabulary(words)
    with _lock:
        _local.clear()  # only the current version is ever asked for again
        _local[version] = found
    return found
