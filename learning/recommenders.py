"""The recommender plug-in: which weak topics to work on next, and with which tests.

A recommender is a plain function of data — the learner's mastery rows and the tests
they may use, in; ordered recommendations, out — behind the :class:`Recommender`
protocol, chosen by the dotted path in ``settings.LEARNING_RECOMMENDER``. It sees no
database, request or user, so the AI team's model (a remote one over HTTP, for instance)
replaces ours without a change here. The contract: docs/learning.md, "Recommendations".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class MasteryRow:
    """One topic the learner has evidence on (``learning.models.TopicMastery``)."""

    topic_id: int
    topic: str
    mastery: float  # P(correct) on an average item at θ̂, 0–1
    confidence: float  # 1 − SE, clipped to 0–1
    theta: float
    se: float
    responses: int
    correct: int


@dataclass(frozen=True)
class CandidateTest:
    """A published test of one of the learner's live enrollments."""

    slug: str
    title: str
    mode: str
    duration_seconds: int
    topic_ids: frozenset[int]  # every topic it asks about, with their ancestors


@dataclass(frozen=True)
class Recommendation:
    topic_id: int  # one of the mastery rows' topics
    reason: str  # a short sentence for the learner
    tests: tuple[str, ...] = ()  # slugs of candidate tests covering it, best first


@runtime_checkable
class Recommender(Protocol):
    def recommend(
        self, mastery: Sequence[MasteryRow], tests: Sequence[CandidateTest], *, limit: int
    ) -> list[Recommendation]:
        """At most ``limit`` topics to work on, most urgent first, each with the tests
        (slugs from ``tests``) that cover it. Unknown topics or slugs in the answer are
        dropped by the caller."""
        ...


class WeakestFirstRecommender:
    """The built-in rule.

    1. **Weak, and we are sure of it**: mastery below ``target`` with at least
       ``min_responses`` answers — lowest mastery first.
    2. **Not known yet**: confidence below ``low_confidence`` (few answers), whatever the
       mastery — lowest mastery first, then lowest confidence.

    Topics above the target with enough confidence are mastered and left out. Each topic
    lists up to ``tests_per_topic`` covering tests, the most focused first (fewest
    topics covered, then title)."""

    target = 0.7
    min_responses = 5
    low_confidence = 0.4
    tests_per_topic = 5

    def recommend(
        self, mastery: Sequence[MasteryRow], tests: Sequence[CandidateTest], *, limit: int
    ) -> list[Recommendation]:
        weak = sorted(
            (r for r in mastery if r.mastery < self.target and r.responses >= self.min_responses),
            key=lambda r: (r.mastery, -r.responses, r.topic_id),
        )
        chosen = {r.topic_id for r in weak}
        unknown = sorted(
            (r for r in mastery if r.topic_id not in chosen and r.confidence < self.low_confidence),
            key=lambda r: (r.mastery, r.confidence, r.topic_id),
        )
        focused = sorted(tests, key=lambda t: (len(t.topic_ids), t.title, t.slug))
        found = []
        for row in [*weak, *unknown][:limit]:
            covering = tuple(t.slug for t in focused if row.topic_id in t.topic_ids)
            found.append(
                Recommendation(
                    topic_id=row.topic_id,
                    reason=self.reason(row, sure=row.topic_id in chosen),
                    tests=covering[: self.tests_per_topic],
                )
            )
        return found

    @staticmethod
    def reason(row: MasteryRow, *, sure: bool) -> str:
        if sure:
            return (
                f"{row.correct} of {row.responses} answers correct (mastery "
                f"{row.mastery:.0%}): one of your weakest topics — practise it."
            )
        return (
            f"Only {row.responses} answer{'s' if row.responses != 1 else ''} so far "
            f"(confidence {row.confidence:.0%}): too few to judge — practise to find out."
        )


class RemoteRecommender:
    """``POST {MODELS_REMOTE_URL}/recommendations`` with the mastery rows, the candidate
    tests and the limit (docs/models.md); falls back to :class:`WeakestFirstRecommender`
    on a timeout, an error or a malformed answer (``core.remote``)."""

    fallback = WeakestFirstRecommender

    def recommend(
        self, mastery: Sequence[MasteryRow], tests: Sequence[CandidateTest], *, limit: int
    ) -> list[Recommendation]:
        from core.remote import RemoteModelError, call_model

        payload = {
            "limit": limit,
            "mastery": [
                {
                    "topic_id": r.topic_id,
                    "topic": r.topic,
                    "mastery": r.mastery,
                    "confidence": r.confidence,
                    "theta": r.theta,
                    "se": r.se,
                    "responses": r.responses,
                    "correct": r.correct,
                }
                for r in mastery
            ],
            "tests": [
                {
                    "slug": t.slug,
                    "title": t.title,
                    "mode": t.mode,
                    "duration_seconds": t.duration_seconds,
                    "topic_ids": sorted(t.topic_ids),
                }
                for t in tests
            ],
        }
        try:
            rows = call_model("recommendations", payload)["recommendations"]
            found = [
                Recommendation(
                    topic_id=int(row["topic_id"]),
                    reason=str(row.get("reason", ""))[:300],
                    tests=tuple(str(slug) for slug in row.get("tests", ())),
                )
                for row in rows
            ]
        except (RemoteModelError, KeyError, TypeError, ValueError):
            return self.fallback().recommend(mastery, tests, limit=limit)
        return found[:limit]


def get_recommender() -> Recommender:
    """A new instance of the class named by ``settings.LEARNING_RECOMMENDER``."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.LEARNING_RECOMMENDER)()
