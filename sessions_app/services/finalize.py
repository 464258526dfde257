"""The expiry sweep, set-based: when a mock's clock ends, thousands of sittings close at
once, in the background, a batch per transaction.

One sweep (:func:`sweep_expired`) claims up to ``batch`` expired open sittings with one
``SELECT … FOR UPDATE OF s SKIP LOCKED`` — rows another sweep, a submit or an autosave
holds are skipped, and a submit that comes after waits for the batch's commit and finds
the sitting closed — then, in the same transaction:

* reads the papers it lacks, one per marking key (``sessions_app.marking``), and every
  claimed sitting's answers, one row per sitting (``json_object_agg``);
* marks each sitting in Python with the scoring every submit uses
  (``testengine.scoring``: a ``Marker`` per marking key, so each distinct answer to a
  question is marked once by ``mark_question``);
* writes every response's outcome and marks with one ``UPDATE … FROM unnest(…)`` and every
  sitting's result with one more (``jsonb_to_recordset``); abandoned sittings (tests whose
  policy is to abandon) with a third.

So a sweep is a fixed number of queries whatever its size. The statements bind their
parameters on the server (``core.sql.prepared_cursor``): arrays travel in binary and the
large values are never spliced into the SQL text. Item statistics are scheduled
once per test, and ``sittings_scored`` is sent once, after the commit, for the whole batch.
Adaptive sittings (their paper grows with each answer and their result carries the ability
estimate) are closed one by one through the submit's own path (``services._finalize``),
still inside the batch's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from core.sql import prepared_cursor
from sessions_app import marking
from sessions_app.models import ExamSession
from sessions_app.policy import grace
from sessions_app.services.sittings import _finalize, _from_jsonb, _tally
from sessions_app.signals import sittings_scored
from sessions_app.tasks import schedule_item_statistics
from testengine.models import Test
from testengine.scoring import Marker, ScoreResult

BATCH = 500
SUBMITTED = ExamSession.Status.SUBMITTED
ABANDONED = ExamSession.Status.ABANDONED
TIME_UP = ExamSession.SubmitReason.TIME_UP

_CLAIM = """
SELECT s.id, s.user_id, s.test_id, s.started_at, s.deadline_at, s.marking_key,
       t.on_time_up, t.mode
FROM sessions_app_examsession s JOIN testengine_test t ON t.id = s.test_id
WHERE s.status = 'in_progress' AND s.deadline_at < %s
ORDER BY s.deadline_at
LIMIT %s
FOR UPDATE OF s SKIP LOCKED
"""

_PAPERS = "SELECT id, paper FROM sessions_app_examsession WHERE id = ANY(%b::uuid[])"

# Each sitting's answers as one JSON object, question id → the answer's JSON text (the
# text is the key of the marks remembered per question; jsonb prints equal answers alike;
# json_object_agg only concatenates, cheaper than building a jsonb).
_ANSWERS = """
SELECT session_id, json_object_agg(question_id, answer::text)
FROM sessions_app_sessionresponse
WHERE session_id = ANY(%b::uuid[])
GROUP BY session_id
"""

# One row per sitting: its answered questions' ids, outcomes and marks as comma-separated
# lists (a few hundred short strings to send, not one value per response).
_MARK_RESPONSES = """
UPDATE sessions_app_sessionresponse r
SET outcome = m.outcome, marks = m.marks
FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::text[])
         AS v(session_id, questions, outcomes, marks),
     unnest(string_to_array(v.questions, ',')::integer[], string_to_array(v.outcomes, ','),
            string_to_array(v.marks, ',')::numeric[]) AS m(question_id, outcome, marks)
WHERE r.session_id = ANY(%b::uuid[])
  AND r.session_id = v.session_id AND r.question_id = m.question_id
"""

_SCORE_SESSIONS = """
UPDATE sessions_app_examsession s
SET status = 'submitted', submit_reason = 'time_up', submitted_at = v.submitted_at,
    time_taken_seconds = v.time_taken_seconds, score = v.score, percentage = v.percentage,
    correct = v.correct, partial = v.partial, wrong = v.wrong, unattempted = v.unattempted,
    breakdown = v.breakdown, updated_at = %s
FROM jsonb_to_recordset(%s::jsonb) AS v(
    id uuid, submitted_at timestamptz, time_taken_seconds integer, score numeric,
    percentage numeric, correct integer, partial integer, wrong integer,
    unattempted integer, breakdown jsonb)
WHERE s.id = v.id
"""

_ABANDON_SESSIONS = """
UPDATE sessions_app_examsession s
SET status = 'abandoned', submit_reason = 'time_up', submitted_at = s.deadline_at,
    time_taken_seconds = v.time_taken_seconds
FROM unnest(%b::uuid[], %b::integer[]) AS v(id, time_taken_seconds)
WHERE s.id = v.id
"""


@dataclass(frozen=True)
class _Claimed:
    id: UUID
    user_id: int
    test_id: int
    started_at: datetime
    deadline_at: datetime
    marking_key: str
    on_time_up: str
    mode: str

    @property
    def time_taken(self) -> int:
        # As services._finalize: stamped at the deadline, whole seconds since the start.
        return max(0, int((self.deadline_at - self.started_at).total_seconds()))


@dataclass(frozen=True)
class SweepResult:
    scored: int = 0
    abandoned: int = 0
    one_by_one: int = 0  # adaptive sittings, closed through services._finalize

    @property
    def total(self) -> int:
        return self.scored + self.abandoned + self.one_by_one


def sweep_expired(*, batch: int = BATCH, now: datetime | None = None) -> SweepResult:
    """Close, in one transaction, up to ``batch`` open sittings whose deadline plus the
    grace has passed (oldest deadline first), each stamped at its deadline: scored, or
    abandoned unscored when the test says so. Safe to run in several processes at once:
    each sitting is closed by exactly one of them (or by a submit that got it first).
    Five queries for a batch of non-adaptive sittings whose papers' marking keys are
    known to this process, six otherwise, seven with abandoned sittings."""
    cutoff = (now or timezone.now()) - grace()
    with transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute(_CLAIM, [cutoff, batch])
        claimed = [_Claimed(*row) for row in cursor.fetchall()]
        if not claimed:
            return SweepResult()
        adaptive: list[_Claimed] = []
        abandon: list[_Claimed] = []
        scored: list[_Claimed] = []
        for sitting in claimed:
            if sitting.mode == Test.Mode.ADAPTIVE:
                adaptive.append(sitting)
            elif sitting.on_time_up == Test.OnTimeUp.ABANDON:
                abandon.append(sitting)
            else:
                scored.append(sitting)
        if scored:
            _score_batch(cursor, scored)
        if abandon:
            cursor.execute(
                _ABANDON_SESSIONS, [[c.id for c in abandon], [c.time_taken for c in abandon]]
            )
        if adaptive:
            sessions = ExamSession.objects.select_related("test").filter(
                pk__in=[c.id for c in adaptive]
            )
            for session in sessions:
                _finalize(session, at=session.deadline_at, reason=TIME_UP)
    return SweepResult(scored=len(scored), abandoned=len(abandon), one_by_one=len(adaptive))


def _markers_for(cursor: CursorWrapper, claimed: list[_Claimed]) -> dict[UUID, Marker]:
    """Each sitting's decoded paper: from the memo by marking key, the missing ones read in
    one query (one sitting per unknown key; every sitting without a key)."""
    by_key: dict[str, Marker] = {}
    wanted: dict[UUID, str] = {}  # session id to read → its key ("" when it has none)
    asked: set[str] = set()
    for sitting in claimed:
        key = sitting.marking_key
        if not key:
            wanted[sitting.id] = ""
        elif key not in by_key and key not in asked:
            marker = marking.markers.get(key)
            if marker is not None:
                by_key[key] = marker
            else:
                wanted[sitting.id] = key
                asked.add(key)
    keys = {sitting.id: sitting.marking_key for sitting in claimed}
    if wanted:
        cursor.execute(_PAPERS, [list(wanted)])
        for session_id, paper_json in cursor.fetchall():
            paper_json = _from_jsonb(paper_json)
            key = wanted[session_id] or marking.marking_key(paper_json)
            keys[session_id] = key
            if key not in by_key:
                by_key[key] = marking.markers.get(key) or marking.markers.put(key, paper_json)
    return {session_id: by_key[key] for session_id, key in keys.items()}


def _score_batch(cursor: CursorWrapper, claimed: list[_Claimed]) -> None:
    markers = _markers_for(cursor, claimed)
    ids = [sitting.id for sitting in claimed]
    cursor.execute(_ANSWERS, [ids])
    answers: dict[UUID, dict[int, Any]] = {
        session_id: {int(question): answer for question, answer in _from_jsonb(agg).items()}
        for session_id, agg in cursor.fetchall()
    }
    sessions: list[UUID] = []
    questions: list[str] = []
    outcomes: list[str] = []
    marks: list[str] = []
    rows: list[dict[str, Any]] = []
    tests: set[int] = set()
    for sitting in claimed:
        given = answers.get(sitting.id, {})
        result = markers[sitting.id].score(given, encoded=True, decode=json.loads)
        if given:
            # As services._finalize: responses to questions not in the paper stay as they are.
            answered = [mark for mark in result.questions if mark.question_id in given]
            sessions.append(sitting.id)
            questions.append(",".join([str(mark.question_id) for mark in answered]))
            outcomes.append(",".join([mark.outcome for mark in answered]))
            marks.append(",".join([str(mark.marks) for mark in answered]))
        rows.append(_session_row(sitting, result))
        tests.add(sitting.test_id)
    if sessions:
        cursor.execute(_MARK_RESPONSES, [sessions, questions, outcomes, marks, sessions])
    cursor.execute(_SCORE_SESSIONS, [timezone.now(), json.dumps(rows)])
    for test_id in sorted(tests):
        schedule_item_statistics(test_id)
    batch = [(sitting.id, sitting.user_id, sitting.test_id) for sitting in claimed]
    transaction.on_commit(lambda: sittings_scored.send(sender=ExamSession, sittings=batch))


def _session_row(sitting: _Claimed, result: ScoreResult) -> dict[str, Any]:
    return {
        "id": str(sitting.id),
        "submitted_at": sitting.deadline_at.isoformat(),
        "time_taken_seconds": sitting.time_taken,
        "score": str(result.score),
        "percentage": str(result.percentage),
        "correct": result.correct,
        "partial": result.partial,
        "wrong": result.wrong,
        "unattempted": result.unattempted,
        "breakdown": {
            "sections": [_tally(s, id=s.id, title=s.title) for s in result.sections],
            "topics": [_tally(t, id=t.id, name=t.name) for t in result.topics],
        },
    }


def finalize_expired_sessions(*, limit: int = 500) -> int:
    """The periodic sweep: finalize up to ``limit`` expired open sessions, set-based, a
    batch of up to 500 per transaction (:func:`sweep_expired`); rows another
    worker (or a submit) holds are skipped, so two sweeps can run at once. Returns how
    many sessions were closed."""
    done = 0
    while done < limit:
        size = min(BATCH, limit - done)
        closed = sweep_expired(batch=size).total
        done += closed
        if closed < size:
            break
    return done
