"""What marking a sitting depends on: a fingerprint of its paper's answer key, and a memo
of papers made ready to mark by that fingerprint.

Marking (``testengine.scoring.score``) reads, of a frozen paper, only its sections (id,
title, order of questions) and, per question, its id, type, topic, marks, answer key and
tolerances — never the content, the choice order or the seed. Two papers with the same
fingerprint therefore mark every set of answers alike, so the expiry sweep decodes one
paper per fingerprint (10,000 sittings of one fixed mock: one decode), not one per
sitting. The fingerprint is stored on the sitting when it starts
(``ExamSession.marking_key``); sittings without one get it computed from their paper.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from testengine.paper import Paper
from testengine.scoring import Marker, marking_key

__all__ = ["MarkerMemo", "markers", "marking_key"]

MEMO_SIZE = 256


class MarkerMemo:
    """Decoded papers, ready to mark (``testengine.scoring.Marker``), by marking key; the
    least recently used dropped beyond ``size``."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._papers: OrderedDict[str, Marker] = OrderedDict()

    def get(self, key: str) -> Marker | None:
        marker = self._papers.get(key)
        if marker is not None:
            self._papers.move_to_end(key)
        return marker

    def put(self, key: str, paper_json: dict[str, Any]) -> Marker:
        marker = Marker(Paper.from_json(paper_json))
        self._papers[key] = marker
        self._papers.move_to_end(key)
        while len(self._papers) > self.size:
            self._papers.popitem(last=False)
        return marker

    def clear(self) -> None:
        self._papers.clear()


markers = MarkerMemo()
