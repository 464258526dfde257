"""Every write of the learning app: mastery recomputed from scored answers, personal
practice sittings. The model and its formulas: docs/learning.md."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from learning.errors import NotEnoughQuestions, NoWeakTopics, PracticeInvalid
from learning.models import TopicMastery
from learning.selectors import practice_question_ids
from sessions_app import services as sessions
from sessions_app.models import ExamSession
from testengine import services as testengine_services
from testengine.adaptive import get_estimator
from testengine.errors import PaperUnavailable
from testengine.models import Question, Test, Topic
from testengine.selectors import topic_subtree_ids

if TYPE_CHECKING:
    from accounts.models import User

# Responses that carry evidence: anything scored except "unattempted" (a saved but
# cleared answer). "correct" is 1; "wrong" and "partial" are 0 (see docs/learning.md).
_OBSERVATIONS = """
SELECT q.topic_id, q.irt_a, q.irt_b, q.irt_c, (r.outcome = 'correct')::int
FROM sessions_app_sessionresponse r
JOIN sessions_app_examsession s ON s.id = r.session_id
JOIN testengine_question q ON q.id = r.question_id
WHERE s.user_id = %s AND s.status = 'submitted'
  AND r.outcome NOT IN ('', 'unattempted')
  AND q.topic_id = ANY(%s)
"""

_SESSION_TOPICS = """
SELECT DISTINCT q.topic_id
FROM sessions_app_sessionresponse r
JOIN testengine_question q ON q.id = r.question_id
WHERE r.session_id = %s AND r.outcome NOT IN ('', 'unattempted')
"""

_LEARNER_TOPICS = """
SELECT DISTINCT q.topic_id
FROM sessions_app_sessionresponse r
JOIN sessions_app_examsession s ON s.id = r.session_id
JOIN testengine_question q ON q.id = r.question_id
WHERE s.user_id = %s AND s.status = 'submitted' AND r.outcome NOT IN ('', 'unattempted')
"""


def _lock_learner(cursor: CursorWrapper, user_id: int) -> None:
    """Serialise mastery writes per learner: two tasks for two sittings finishing together
    each read everything committed before they write (transaction-scoped advisory lock)."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"mastery:{user_id}"])


def _recompute(cursor: CursorWrapper, user_id: int, topic_ids: list[int]) -> int:
    """Re-estimate ``topic_ids`` for the learner from all their evidence: one read, one
    upsert, one delete (topics left without evidence lose their row)."""
    if not topic_ids:
        return 0
    cursor.execute(_OBSERVATIONS, [user_id, topic_ids])
    by_topic: dict[int, list[tuple[float, float, float, int]]] = {}
    for topic_id, a, b, c, u in cursor.fetchall():
        by_topic.setdefault(topic_id, []).append((a, b, c, u))
    estimator = get_estimator()
    now = timezone.now()
    rows = []
    for topic_id, observations in by_topic.items():
        a, b, c, u = (np.asarray(column, dtype=float) for column in zip(*observations, strict=True))
        theta, se = estimator.estimate(a, b, c, u)
        rows.append(
            TopicMastery(
                user_id=user_id,
                topic_id=topic_id,
                theta=float(theta),
                se=max(float(se), 1e-6),
                responses=len(observations),
                correct=int(u.sum()),
                updated_at=now,
            )
        )
    TopicMastery.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["user", "topic"],
        update_fields=["theta", "se", "responses", "correct", "updated_at"],
    )
    empty = set(topic_ids) - set(by_topic)
    if empty:
        TopicMastery.objects.filter(user_id=user_id, topic_id__in=empty).delete()
    return len(rows)


@transaction.atomic
def mastery_update(*, user_id: int, session_id: UUID | str) -> int:
    """A sitting was scored: re-estimate every topic it has evidence on, each from all the
    learner's scored answers to that topic (not just this sitting), so running it twice,
    or late, gives the same rows. A session that is not the learner's or not submitted
    changes nothing. Returns the number of topics written. Five queries (six when a
    topic lost its last evidence)."""
    with connection.cursor() as cursor:
        _lock_learner(cursor, user_id)
        if not ExamSession.objects.filter(
            pk=UUID(str(session_id)), user_id=user_id, status=ExamSession.Status.SUBMITTED
        ).exists():
            return 0
        cursor.execute(_SESSION_TOPICS, [UUID(str(session_id))])
        topic_ids = [row[0] for row in cursor.fetchall()]
        return _recompute(cursor, user_id, topic_ids)


def mastery_update_many(*, sittings: list[tuple[int, str]]) -> int:
    """:func:`mastery_update` for each ``(user_id, session_id)`` of a batch of scored
    sittings (the expiry sweep's), each in its own transaction so one learner's lock is
    held only for their own update. Returns the number of topics written."""
    return sum(
        mastery_update(user_id=user_id, session_id=session_id) for user_id, session_id in sittings
    )


@transaction.atomic
def mastery_recompute(*, user_id: int) -> int:
    """Re-estimate every topic of one learner from scratch (backfills, a changed estimator
    or recalibrated items); rows of topics without evidence any more are removed."""
    with connection.cursor() as cursor:
        _lock_learner(cursor, user_id)
        cursor.execute(_LEARNER_TOPICS, [user_id])
        topic_ids = [row[0] for row in cursor.fetchall()]
        stale = list(
            TopicMastery.objects.filter(user_id=user_id)
            .exclude(topic_id__in=topic_ids)
            .values_list("topic_id", flat=True)
        )
        return _recompute(cursor, user_id, topic_ids + stale)


# --- practice --------------------------------------------------------------------------------

DEFAULT_TOPICS = 3
UNTIMED_SECONDS = 7 * 24 * 3600
SECONDS_PER_QUESTION = 90

_SEEN = """
SELECT (item.id)::int, max(s.started_at)
FROM sessions_app_examsession s
CROSS JOIN LATERAL jsonb_path_query(s.layout, '$.sections[*].questions[*].id') AS item(id)
WHERE s.user_id = %s AND s.started_at >= %s
GROUP BY 1
"""


def _seen_since(user_id: int, since: datetime) -> dict[int, datetime]:
    """Questions in the papers of the learner's sittings started since ``since`` (any
    status: seen is seen), with when each was last seen. One query."""
    with connection.cursor() as cursor:
        cursor.execute(_SEEN, [user_id, since])
        return dict(cursor.fetchall())


def _topics_for(user: User, topic_ids: list[int] | None) -> list[Topic]:
    if topic_ids is None:
        weakest = list(
            TopicMastery.objects.filter(user=user)
            .select_related("topic")
            .order_by("theta", "-responses", "topic_id")[:DEFAULT_TOPICS]
        )
        if not weakest:
            raise NoWeakTopics()
        return [row.topic for row in weakest]
    wanted = list(dict.fromkeys(topic_ids))
    found = Topic.objects.in_bulk(wanted)
    unknown = [str(pk) for pk in wanted if pk not in found]
    if unknown:
        raise PracticeInvalid(fields={"topics": [f"Unknown topic: {', '.join(unknown)}."]})
    return [found[pk] for pk in wanted]


def _split(total: int, parts: int) -> list[int]:
    """``total`` questions over ``parts`` topics, the first (weakest) ones getting the
    remainder; topics beyond ``total`` get none."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def _exclusions(
    pools: list[list[int]], counts: list[int], seen: dict[int, datetime]
) -> frozenset[int]:
    """Recently seen questions to leave out: all of a topic's when it has enough unseen
    ones, else all but the longest-ago seen ones needed to fill its count."""
    excluded: set[int] = set()
    for pool, count in zip(pools, counts, strict=True):
        seen_here = sorted((pk for pk in pool if pk in seen), key=lambda pk: (seen[pk], pk))
        fresh = len(pool) - len(seen_here)
        if fresh >= count:
            excluded.update(seen_here)
        else:
            excluded.update(seen_here[count - fresh :])  # keep the oldest seen to top up
    return frozenset(excluded)


@transaction.atomic
def practice_create(
    *,
    user: User,
    topic_ids: list[int] | None,
    questions: int,
    timed: bool,
    minutes: int | None = None,
) -> ExamSession:
    """A personal practice sitting: an unpublished random test owned by the learner (one
    section, one rule per topic splitting ``questions`` between them, solutions after
    submit, no pass mark, one attempt) and its session, started through the exam-session
    engine. Topics default to the learner's three weakest. Questions seen in the last
    ``PRACTICE_FRESH_DAYS`` days are left out while enough others exist. Untimed sittings
    get seven days. Refuses, creating nothing: an unknown topic (400), no mastery yet and
    no topics named (409 ``no_mastery_yet``), too few published questions (409
    ``not_enough_questions``)."""
    if not 1 <= questions <= 50:
        raise PracticeInvalid(fields={"questions": ["Between 1 and 50 questions."]})
    topics = _topics_for(user, topic_ids)
    counts = _split(questions, len(topics))
    topics, counts = (
        [t for t, n in zip(topics, counts, strict=True) if n],
        [n for n in counts if n],
    )

    now = timezone.now()
    allowed = practice_question_ids(user=user, now=now)
    subtrees = topic_subtree_ids([topic.pk for topic in topics])
    published: dict[int, list[int]] = {}
    closed: set[int] = set()
    for pk, topic_id in Question.objects.filter(
        status=Question.Status.PUBLISHED,
        topic_id__in={t for tree in subtrees.values() for t in tree},
    ).values_list("id", "topic_id"):
        if pk in allowed:
            published.setdefault(topic_id, []).append(pk)
        else:
            closed.add(pk)
    pools = [[pk for t in subtrees[topic.pk] for pk in published.get(t, ())] for topic in topics]
    short = [
        f"“{topic.name}” has {len(pool)} question(s) you may practise; {count} needed. "
        "Practice uses the free practice pool and the questions of tests whose solutions "
        "you can already see."
        for topic, pool, count in zip(topics, pools, counts, strict=True)
        if len(pool) < count
    ]
    if short:
        raise NotEnoughQuestions(fields={"topics": short})

    seen = _seen_since(user.pk, now - timedelta(days=settings.PRACTICE_FRESH_DAYS))
    # Questions whose solutions are closed to the learner are never drawn, not even by
    # the fallback that lets recently seen questions back in.
    never = frozenset(closed)
    excluded = _exclusions(pools, counts, seen) | never

    if timed:
        duration = (minutes or math.ceil(questions * SECONDS_PER_QUESTION / 60)) * 60
    else:
        duration = UNTIMED_SECONDS
    title = "Practice: " + ", ".join(topic.name for topic in topics)
    test = testengine_services.test_create(
        values={
            "title": title if len(title) <= 200 else title[:199] + "…",
            "slug": f"practice-{uuid4().hex[:16]}",
            "mode": Test.Mode.RANDOM,
            "duration_seconds": duration,
            "max_attempts": 1,
            "pass_mark_percent": None,
            "shuffle_choices": True,
            "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
            "on_time_up": Test.OnTimeUp.SUBMIT,
        },
        sections=[
            {
                "title": "Practice",
                "rules": [
                    {"topic": topic, "include_subtopics": True, "count": count}
                    for topic, count in zip(topics, counts, strict=True)
                ],
            }
        ],
        practice_owner=user,
    )
    try:
        session = _start_practice(user, test, excluded, never)
    except PaperUnavailable as exc:
        raise NotEnoughQuestions(exc.detail) from exc
    return session


def _start_practice(
    user: User, test: Test, excluded: frozenset[int], never: frozenset[int]
) -> ExamSession:
    """Fresh questions first; when overlapping topics make the exclusions too tight for the
    engine's draw, the same test with only ``never`` left out (seen questions beat no
    practice; a closed answer key beats both)."""
    if excluded != never:
        try:
            with transaction.atomic():
                return sessions.practice_start(user=user, test=test, exclude_question_ids=excluded)[
                    0
                ]
        except PaperUnavailable:
            pass
    return sessions.practice_start(user=user, test=test, exclude_question_ids=never)[0]
