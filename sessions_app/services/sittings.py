"""Every write of exam sessions: start or resume, autosave, submit, finalize on expiry.

The server's clock rules. A session row is locked for each change: autosaves take a
``FOR NO KEY UPDATE`` lock, submission ``FOR UPDATE``, so a submit racing a save, two
submits, or a submit racing the expiry sweep all give one result and lose no saved answer.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from catalogue.models import ProductTest
from core.locks import lock_user_sql
from core.sql import compile_query, prepared_cursor
from sessions_app import adaptive, marking, policy, timing
from sessions_app.errors import (
    AnswerRejected,
    LastSection,
    NoAccess,
    NotCurrentQuestion,
    NotSectional,
    SectionLocked,
    SectionNotOpen,
    SessionClosed,
    SessionExpired,
    SessionNotFound,
    TestNotFound,
)
from sessions_app.models import AttemptOverride, ExamSession, SessionResponse
from sessions_app.policy import grace
from sessions_app.policy_sql import accessible_tests, learner
from sessions_app.signals import session_scored
from sessions_app.tasks import schedule_item_statistics
from testengine import pool
from testengine.models import Test
from testengine.paper import Paper, answer_layout, generate_paper, layout_question
from testengine.scoring import AnswerInvalid, SectionScore, TopicScore, score, validate_answer

if TYPE_CHECKING:
    from accounts.models import User

# --- start -----------------------------------------------------------------------------------


@transaction.atomic
def session_start(*, user: User, test_slug: str) -> tuple[ExamSession, bool]:
    """Start a sitting, or return the open one (``created`` False). Refuses, with a code
    naming the rule: an unpublished or unknown test (404), no access (403), outside the
    availability window (409/410), no attempts left or the minimum gap not yet passed
    (409). One open session per learner and test is a database constraint; starts are
    serialised per learner by locking their row."""
    test = _published_test(test_slug)
    if test is None:
        raise TestNotFound()
    if not policy.may_sit(user, test):
        raise NoAccess()
    return _start(user=user, test=test)


@transaction.atomic
def practice_start(
    *, user: User, test: Test, exclude_question_ids: frozenset[int] = frozenset()
) -> tuple[ExamSession, bool]:
    """Start (or resume) the learner's own practice test (``Test.practice_owner``): no
    product grants it, so the access check is skipped, but every other rule of
    :func:`session_start` holds (window, attempts, gap, one open session). Its rules draw
    none of ``exclude_question_ids``. Another learner's practice test, or a normal test,
    is not found here."""
    if test.practice_owner_id is None or test.practice_owner_id != user.pk:
        raise TestNotFound()
    return _start(user=user, test=test, exclude_question_ids=exclude_question_ids)


def _published_test(slug: str) -> Test | None:
    """The published curated test of that slug: the ORM's query compiled once and run as a
    prepared statement, as a start at the opening of a mock asks it thousands of times a
    minute."""
    with prepared_cursor() as cursor:
        cursor.execute(_TEST_BY_SLUG.sql, _TEST_BY_SLUG.params(slug=slug))
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        convert(value, None, connection) if convert else value
        for convert, value in zip(_TEST_CONVERTERS, row, strict=True)
    ]
    return Test.from_db(connection.alias, _TEST_FIELDS, values)


_TEST_FIELDS = [field.attname for field in Test._meta.concrete_fields]
# What the ORM applies to a raw value (the JSON fields: psycopg hands jsonb over as text).
_TEST_CONVERTERS = [getattr(field, "from_db_value", None) for field in Test._meta.concrete_fields]
_SLUG = "\x00slug"  # no slug holds a NUL: it stands in for the input while compiling
_TEST_BY_SLUG = compile_query(
    Test.objects.curated().filter(slug=_SLUG, is_published=True).order_by().query,
    {_SLUG: "slug"},
    required={"slug"},
)

# What deciding a start reads, in one statement once the learner is locked: the staff
# override (at most one row) and every earlier attempt of the test, newest first (a
# handful of rows at most).
_START_READS = f"""
SELECT o.extra_seconds, o.extra_attempts, s.attempt, s.submitted_at, s.deadline_at, s.status
FROM (SELECT 1) AS one
LEFT JOIN {AttemptOverride._meta.db_table} o ON o.user_id = %s AND o.test_id = %s
LEFT JOIN {ExamSession._meta.db_table} s ON s.user_id = %s AND s.test_id = %s
ORDER BY s.attempt DESC
"""  # noqa: S608 — our names; every value is a parameter


def _start(
    *, user: User, test: Test, exclude_question_ids: frozenset[int] = frozenset()
) -> tuple[ExamSession, bool]:
    now = timezone.now()
    # Starts are serialised per learner: two at once give one sitting and count attempts
    # once (the lock reads the key only). Then, in one statement, the override and every
    # earlier attempt (its number and end: the count used and the last one's end).
    with prepared_cursor() as cursor:
        cursor.execute(lock_user_sql(), [user.pk])
        cursor.execute(_START_READS, [user.pk, test.pk, user.pk, test.pk])
        rows = cursor.fetchall()
    extra_seconds, extra_attempts = rows[0][0] or 0, rows[0][1] or 0
    previous = [row[2:5] for row in rows if row[2] is not None]
    current = None
    if any(row[5] == ExamSession.Status.IN_PROGRESS for row in rows):
        # An open sitting: lock it, finalize it if its time is up, and read again.
        current = (
            ExamSession.objects.select_for_update()
            .filter(user=user, test=test, status=ExamSession.Status.IN_PROGRESS)
            .first()
        )
        if current is not None and now > current.deadline_at + grace():
            _finalize(current, at=current.deadline_at, reason=ExamSession.SubmitReason.TIME_UP)
            current = None
            previous = list(
                ExamSession.objects.filter(user=user, test=test)
                .order_by("-attempt")
                .values_list("attempt", "submitted_at", "deadline_at")
            )
    last = previous[0] if previous else None
    facts = policy.SittingFacts(
        attempts_used=len(previous),
        extra_attempts=extra_attempts,
        last_ended_at=(last[1] or last[2]) if last else None,
        open_session=current.pk if current is not None else None,
    )
    refusal = policy.start_refusal(test, facts, now=now)
    if refusal is not None:
        policy.raise_refusal(refusal, test, now=now)
    if current is not None:
        current.test = test  # the caller's answer needs it: no second read of the test
        return current, False

    extra = extra_seconds
    deadline = now + timedelta(seconds=test.duration_seconds + extra)
    if test.available_until:
        deadline = min(deadline, test.available_until)
    attempt = (last[0] if last else 0) + 1
    if not exclude_question_ids and pool.poolable(test):
        session = _start_prepared(
            user=user, test=test, attempt=attempt, now=now, deadline=deadline, extra=extra
        )
        if session is not None:
            return session, True

    seed = secrets.randbits(62)
    state: dict[str, Any] = {}
    if test.mode == Test.Mode.ADAPTIVE:
        paper, state = adaptive.first_paper(test, seed)
    else:
        paper = generate_paper(test, seed, exclude_ids=exclude_question_ids)
    paper_json = paper.to_json()
    deadline = timing.sectional_deadline(
        paper_json,
        start=now,
        deadline=deadline,
        test_duration=test.duration_seconds,
        extra_seconds=extra,
    )
    session = ExamSession.objects.create(
        user=user,
        test=test,
        attempt=attempt,
        seed=seed,
        started_at=now,
        deadline_at=deadline,
        extra_seconds=extra,
        section_started_at=now,
        paper=paper_json,
        layout=answer_layout(paper_json),
        marking_key="" if test.mode == Test.Mode.ADAPTIVE else marking.marking_key(paper_json),
        question_count=len(paper.questions),
        max_score=paper.max_score,
        adaptive=state,
    )
    return session, True


# The values a pooled start takes from the claimed paper (``testengine.pool.CLAIM_SQL``).
_FROM_PREPARED = {
    "seed": "claimed.seed",
    "paper": "claimed.paper",
    "layout": "claimed.layout",
    "question_count": "claimed.question_count",
    "max_score": "claimed.max_score",
    "marking_key": "claimed.marking_key",
}
# A sectionally timed paper: the sitting ends when its sections' time is up, if sooner
# (``timing.sectional_deadline``; the learner's extra time stretches each in proportion).
_PREPARED_DEADLINE = (
    "CASE WHEN claimed.timed_seconds IS NULL THEN %s::timestamptz "
    "ELSE LEAST(%s::timestamptz, %s::timestamptz "
    "+ claimed.timed_seconds * %s::float8 * interval '1 second') END"
)


def _start_prepared(
    *, user: User, test: Test, attempt: int, now: datetime, deadline: datetime, extra: int
) -> ExamSession | None:
    """Start the sitting on a prepared paper of the test (``testengine.pool``): one
    statement claims the paper and inserts the sitting with it, so the paper never travels
    through this process; the row is built here from the values written and the few the
    statement returns (the paper itself stays unloaded: a deferred field). None when no
    fresh paper is left — the caller generates one. Every rule of the start has been
    applied by then; inside the start's transaction, a rollback returns the paper."""
    session = ExamSession(
        user=user,
        test=test,
        attempt=attempt,
        started_at=now,
        extra_seconds=extra,
        section_started_at=now,
    )
    scale = (test.duration_seconds + extra) / test.duration_seconds if extra else 1.0
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for field in ExamSession._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))  # type: ignore[arg-type]
        if field.attname in _FROM_PREPARED:
            values.append(_FROM_PREPARED[field.attname])
        elif field.attname == "deadline_at":
            values.append(_PREPARED_DEADLINE)
            params += [deadline, deadline, now, scale]
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(session, True), connection))
    sql = (
        f"WITH claimed AS ({pool.CLAIM_SQL}) "  # noqa: S608 — our names; values are parameters
        f"INSERT INTO {ExamSession._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM claimed "
        "RETURNING deadline_at, seed, layout, question_count, max_score, marking_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [test.pk, test.pk, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    (
        session.deadline_at,
        session.seed,
        layout,
        session.question_count,
        session.max_score,
        session.marking_key,
    ) = row
    session.layout = _from_jsonb(layout)
    del session.paper  # deferred: read from the row if ever asked for
    session._state.adding = False
    session._state.db = connection.alias
    return session


# --- autosave --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    response: SessionResponse
    applied: bool  # False: an older (lower seq) save; the stored newer state is returned
    adaptive: dict[str, Any] | None = None  # adaptive sittings: complete? the next item


_LOCK_FOR_SAVE = """
SELECT s.status, s.started_at, s.deadline_at, s.extra_seconds, s.section_index,
       s.section_started_at, s.layout, t.navigation, t.duration_seconds, t.mode,
       s.access_ended_at, s.user_id, s.test_id
FROM sessions_app_examsession s JOIN testengine_test t ON t.id = s.test_id
WHERE s.id = %s AND s.user_id = %s
FOR NO KEY UPDATE OF s
"""

_UPSERT = """
INSERT INTO sessions_app_sessionresponse
    (session_id, question_id, answer, marked_for_review, time_spent_ms, seq, saved_at,
     outcome, marks)
VALUES (%s, %s, %s, %s, %s, %s, %s, '', NULL)
ON CONFLICT (session_id, question_id) DO UPDATE SET
    answer = EXCLUDED.answer,
    marked_for_review = EXCLUDED.marked_for_review,
    time_spent_ms = EXCLUDED.time_spent_ms,
    seq = EXCLUDED.seq,
    saved_at = EXCLUDED.saved_at
WHERE sessions_app_sessionresponse.seq < EXCLUDED.seq
RETURNING answer, marked_for_review, time_spent_ms, seq, saved_at
"""

_STORED = """
SELECT answer, marked_for_review, time_spent_ms, seq, saved_at
FROM sessions_app_sessionresponse
WHERE session_id = %s AND question_id = %s
"""


@dataclass(frozen=True)
class _Sitting:
    """The locked session row as autosave reads it: its clock and the paper's layout, never
    the paper itself (the hottest path in Examforge; see docs/sessions.md, "Load")."""

    id: Any
    status: str
    started_at: datetime
    deadline_at: datetime
    extra_seconds: int
    section_index: int
    section_started_at: datetime | None
    layout: dict[str, Any]
    navigation: str
    test_duration: int
    mode: str
    access_ended_at: datetime | None
    user_id: int
    test_id: int

    @property
    def test(self) -> Test:
        return Test.objects.get(pk=self.test_id)

    def clock(self, now: datetime) -> timing.SectionClock | None:
        return timing.section_clock(
            self.layout,
            started_at=self.started_at,
            deadline_at=self.deadline_at,
            section_index=self.section_index,
            section_started_at=self.section_started_at,
            test_duration=self.test_duration,
            extra_seconds=self.extra_seconds,
            now=now,
        )


def _lock_for_save(cursor: CursorWrapper, *, session_id: UUID | str, user: User) -> _Sitting | None:
    cursor.execute(_LOCK_FOR_SAVE, [session_id, user.pk])
    row = cursor.fetchone()
    if row is None:
        return None
    status, started, deadline, extra, index, section_started, layout, navigation, duration = row[:9]
    return _Sitting(
        id=session_id,
        status=status,
        started_at=started,
        deadline_at=deadline,
        extra_seconds=extra,
        section_index=index,
        section_started_at=section_started,
        layout=_from_jsonb(layout),
        navigation=navigation,
        test_duration=duration,
        mode=row[9],
        access_ended_at=row[10],
        user_id=row[11],
        test_id=row[12],
    )


def _from_jsonb(value: Any) -> Any:
    # Django has psycopg hand jsonb over as text (JSONField decodes it); raw SQL does here.
    return json.loads(value) if isinstance(value, str) else value


def _stored_response(
    session_id: UUID | str, question_id: int, row: tuple[Any, ...]
) -> SessionResponse:
    answer, marked, time_spent, seq, saved_at = row
    return SessionResponse(
        session_id=session_id,
        question_id=question_id,
        answer=_from_jsonb(answer),
        marked_for_review=marked,
        time_spent_ms=time_spent,
        seq=seq,
        saved_at=saved_at,
    )


def response_save(
    *,
    user: User,
    session_id: UUID | str,
    question_id: int,
    answer: Any,
    marked_for_review: bool = False,
    time_spent_ms: int = 0,
    seq: int,
) -> SaveResult:
    """Save one answer (None clears it). Idempotent and order-proof: a save whose ``seq``
    is not above the stored one changes nothing and returns the stored state. A save after
    the deadline plus the grace finalizes the session and is refused (410). Two queries
    (lock the session, upsert returning the row), three when the save was older than the
    stored answer (read it back); the paper itself is never read, only its layout."""
    with transaction.atomic(), prepared_cursor() as cursor:
        sitting = _lock_for_save(cursor, session_id=session_id, user=user)
        if sitting is None:
            raise SessionNotFound()
        policy.require_sitting_access(sitting)
        if sitting.status != ExamSession.Status.IN_PROGRESS:
            raise SessionClosed()
        now = timezone.now()
        expired = now > sitting.deadline_at + grace()
        if not expired:
            question = layout_question(sitting.layout, question_id)
            if question is None:
                raise AnswerRejected(
                    fields={"question_id": [f"Question {question_id} is not in this paper."]}
                )
            try:
                canonical = validate_answer(question, answer)
            except AnswerInvalid as exc:
                raise AnswerRejected(fields={"answer": [str(exc)]}) from exc
            _check_section_open(sitting, question_id, now)
            if sitting.mode == Test.Mode.ADAPTIVE:
                return _adaptive_save(
                    cursor,
                    sitting,
                    question_id,
                    canonical,
                    marked_for_review,
                    time_spent_ms,
                    seq,
                    now,
                )
            if sitting.navigation == Test.Navigation.SEQUENTIAL:
                earlier = _sequential_check(sitting, question_id, seq)
                if earlier is not None:
                    return SaveResult(response=earlier, applied=False)
            stored = _json(canonical)
            cursor.execute(
                _UPSERT,
                [session_id, question_id, stored, marked_for_review, time_spent_ms, seq, now],
            )
            row = cursor.fetchone()
            applied = row is not None
            if not applied:
                cursor.execute(_STORED, [session_id, question_id])
                row = cursor.fetchone()
            response = _stored_response(session_id, question_id, row)
            return SaveResult(response=response, applied=applied)
    session_finalize_if_expired(session_id=session_id)
    raise SessionExpired()


def responses_save(
    *, user: User, session_id: UUID | str, items: list[dict[str, Any]]
) -> list[SaveResult]:
    """Save a batch of answers (an offline client syncing), in order, each by the rules of
    :func:`response_save`. All or nothing: a refused item saves none, and its error names
    it (``responses.3.answer``). A batch that finds the time up finalizes the session and
    is refused (410), as a single save is."""
    results: list[SaveResult] = []
    try:
        with transaction.atomic():
            for index, item in enumerate(items):
                try:
                    results.append(response_save(user=user, session_id=session_id, **item))
                except AnswerRejected as exc:
                    raise AnswerRejected(
                        exc.detail,
                        fields={
                            f"responses.{index}.{name}": messages
                            for name, messages in (exc.fields or {}).items()
                        },
                    ) from exc
    except SessionExpired:
        # The save finalized the session inside the batch's (now rolled back) transaction.
        session_finalize_if_expired(session_id=session_id)
        raise
    return results


def _adaptive_save(
    cursor: CursorWrapper,
    sitting: _Sitting,
    question_id: int,
    canonical: Any,
    marked: bool,
    spent: int,
    seq: int,
    now: datetime,
) -> SaveResult:
    """Only the current item takes an answer, once: the answer commits it and the next
    item is chosen (``sessions_app.adaptive``). A retry of a committed answer (same or
    older ``seq``) changes nothing and answers with the item already chosen."""
    session = ExamSession.objects.select_related("test").get(pk=sitting.id)
    current = adaptive.current_item_id(session)
    cursor.execute(_STORED, [sitting.id, question_id])
    row = cursor.fetchone()
    if row is not None and question_id != current:
        if seq <= row[3]:
            stored = _stored_response(sitting.id, question_id, row)
            return SaveResult(stored, applied=False, adaptive=adaptive.summary(session))
        raise NotCurrentQuestion(
            "An adaptive test does not go back: this answer is committed.",
            fields={"question_id": [f"Answer question {current} (the current one)."]}
            if current
            else {"question_id": ["The test is complete: submit it."]},
        )
    if question_id != current:
        raise NotCurrentQuestion(
            "Only the current item of an adaptive test can be answered.",
            fields={"question_id": [f"Answer question {current} (the current one)."]},
        )
    if canonical is None:
        raise AnswerRejected(fields={"answer": ["An adaptive item must be answered."]})
    cursor.execute(_UPSERT, [sitting.id, question_id, _json(canonical), marked, spent, seq, now])
    row = cursor.fetchone()
    paper = Paper.from_json(session.paper)
    adaptive.record_answer(session, paper.question(question_id), canonical)
    response = _stored_response(sitting.id, question_id, row)
    return SaveResult(response, applied=True, adaptive=adaptive.summary(session))


def _check_section_open(sitting: _Sitting, question_id: int, now: datetime) -> None:
    """Sectionally timed tests: only the current section takes answers (and, for the grace,
    a section whose time ran out just now); earlier sections are locked, later ones not
    open yet."""
    current = sitting.clock(now)
    if current is None:
        return
    earliest = sitting.clock(now - grace())
    position = timing.section_position(sitting.layout, question_id)
    sections = sitting.layout["sections"]
    if position < earliest.index:  # type: ignore[operator, union-attr]  # clocked: both set
        raise SectionLocked(
            f"Section “{sections[position]['title']}” is over; its answers can no longer change.",
            fields={"question_id": [f"Question {question_id} is in a locked section."]},
        )
    if position > current.index:  # type: ignore[operator]
        raise SectionNotOpen(
            fields={"question_id": [f"Question {question_id} is in a later section."]},
        )


def section_advance(*, user: User, session_id: UUID | str, section_id: int) -> ExamSession:
    """Leave the current section for the next ("next section"): the section is locked and
    the next one's time starts now. ``section_id`` names the section being left, so a
    retried request never skips a second section: leaving a section that is already over
    changes nothing. The last section is finished by submitting. Past the deadline (plus
    the grace) the session is finalized and the request refused (410)."""
    with transaction.atomic():
        session = (
            ExamSession.objects.select_for_update(no_key=True, of=("self",))
            .select_related("test")
            .filter(pk=session_id, user=user)
            .first()
        )
        if session is None:
            raise SessionNotFound()
        policy.require_sitting_access(session)
        if session.status != ExamSession.Status.IN_PROGRESS:
            raise SessionClosed()
        now = timezone.now()
        expired = now > session.deadline_at + grace()
        if not expired:
            return _advance(session, section_id, now)
    session_finalize_if_expired(session_id=session_id)
    raise SessionExpired()


def _advance(session: ExamSession, section_id: int, now: datetime) -> ExamSession:
    clock = timing.session_clock(session, now=now)
    if clock is None:
        raise NotSectional()
    sections = session.paper["sections"]
    position = next((i for i, s in enumerate(sections) if s["id"] == section_id), None)
    if position is None:
        raise AnswerRejected(
            "No such section in this paper.",
            fields={"section": [f"Section {section_id} is not in this paper."]},
        )
    if position < clock.index:
        return session  # already left (a retry, or its time ran out): nothing to do
    if position > clock.index:
        raise SectionNotOpen()
    if position == len(sections) - 1:
        raise LastSection()
    session.section_index = position + 1
    session.section_started_at = now
    session.deadline_at = timing.sectional_deadline(
        session.paper,
        start=now,
        deadline=session.deadline_at,
        test_duration=session.test.duration_seconds,
        extra_seconds=session.extra_seconds,
        from_index=position + 1,
    )
    session.save(update_fields=["section_index", "section_started_at", "deadline_at"])
    return session


def _sequential_check(sitting: _Sitting, question_id: int, seq: int) -> SessionResponse | None:
    """On a sequential test only the current question (the first without an answer, in
    paper order) may be saved; earlier answers cannot change and later questions are not
    revealed yet. A retried save of an answer already stored (same or older ``seq``) is
    still idempotent: the stored response is returned."""
    answered = dict(
        SessionResponse.objects.filter(session_id=sitting.id, answer__isnull=False).values_list(
            "question_id", "seq"
        )
    )
    order = [q["id"] for section in sitting.layout["sections"] for q in section["questions"]]
    current = next((pk for pk in order if pk not in answered), None)
    if question_id == current:
        return None
    if question_id in answered and seq <= answered[question_id]:
        return SessionResponse.objects.get(session_id=sitting.id, question_id=question_id)
    where = "an earlier" if question_id in answered else "a later"
    raise NotCurrentQuestion(
        f"This test is sequential: only the current question can be answered, not {where} one.",
        fields={"question_id": [f"Answer question {current} (the current one)."]},
    )


def _json(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)


# --- submit and finalize -------------------------------------------------------------------------


def _finalize(session: ExamSession, *, at: datetime, reason: str) -> ExamSession:
    """Close the session once (the caller holds its row lock): score it, or — when time
    ran out on a test whose policy is to abandon — close it unscored. Saved answers stay
    either way."""
    submitted_at = min(at, session.deadline_at)
    time_taken = max(0, int((submitted_at - session.started_at).total_seconds()))
    if (
        reason == ExamSession.SubmitReason.TIME_UP
        and session.test.on_time_up == Test.OnTimeUp.ABANDON
    ):
        session.status = ExamSession.Status.ABANDONED
        session.submitted_at = submitted_at
        session.submit_reason = reason
        session.time_taken_seconds = time_taken
        session.save(
            update_fields=["status", "submitted_at", "submit_reason", "time_taken_seconds"]
        )
        return session
    paper = Paper.from_json(session.paper)
    responses = list(session.responses.all())
    result = score(paper, {r.question_id: r.answer for r in responses})
    marks = {mark.question_id: mark for mark in result.questions}
    for response in responses:
        mark = marks.get(response.question_id)
        if mark is not None:
            response.outcome, response.marks = mark.outcome, mark.marks
    SessionResponse.objects.bulk_update(responses, ["outcome", "marks"])
    session.status = ExamSession.Status.SUBMITTED
    session.submitted_at = submitted_at
    session.submit_reason = reason
    session.score = result.score
    session.percentage = result.percentage
    session.correct, session.partial = result.correct, result.partial
    session.wrong, session.unattempted = result.wrong, result.unattempted
    session.time_taken_seconds = time_taken
    session.breakdown = {
        "sections": [_tally(s, id=s.id, title=s.title) for s in result.sections],
        "topics": [_tally(t, id=t.id, name=t.name) for t in result.topics],
    }
    if session.test.mode == Test.Mode.ADAPTIVE:
        session.ability = session.adaptive.get("theta", 0.0)
        session.ability_se = session.adaptive.get("se", 1.0)
        session.breakdown["adaptive"] = adaptive.final_ability(session)
    session.save()
    schedule_item_statistics(session.test_id)
    scored = {"session_id": session.pk, "user_id": session.user_id, "test_id": session.test_id}
    transaction.on_commit(lambda: session_scored.send(sender=ExamSession, **scored))
    return session


def _tally(tally: SectionScore | TopicScore, **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "score": str(tally.score),
        "max_score": str(tally.max_score),
        "correct": tally.correct,
        "partial": tally.partial,
        "wrong": tally.wrong,
        "unattempted": tally.unattempted,
        "accuracy": tally.accuracy,
    }


@transaction.atomic
def session_submit(*, user: User, session_id: UUID | str) -> ExamSession:
    """Submit and score, exactly once: a second submit (or one racing the expiry sweep)
    returns the same result. A submit after the deadline is recorded at the deadline."""
    session = ExamSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if session is None:
        raise SessionNotFound()
    policy.require_sitting_access(session)
    if session.status != ExamSession.Status.IN_PROGRESS:
        return session
    now = timezone.now()
    late = now > session.deadline_at + grace()
    return _finalize(
        session,
        at=session.deadline_at if late else now,
        reason=ExamSession.SubmitReason.TIME_UP if late else ExamSession.SubmitReason.LEARNER,
    )


@transaction.atomic
def session_finalize_if_expired(*, session_id: UUID | str) -> ExamSession | None:
    """Finalize one session whose time (plus grace) is up, stamped at its deadline."""
    session = ExamSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.status != ExamSession.Status.IN_PROGRESS:
        return session
    if timezone.now() <= session.deadline_at + grace():
        return session
    return _finalize(session, at=session.deadline_at, reason=ExamSession.SubmitReason.TIME_UP)


# --- access withdrawn or restored ----------------------------------------------------------------


def _tests_of_product(product_id: int) -> set[int]:
    return set(ProductTest.objects.filter(product_id=product_id).values_list("test_id", flat=True))


@transaction.atomic
def sittings_access_withdrawn(*, user_id: int, product_id: int) -> int:
    """The learner lost an enrollment (a full refund or a staff revoke). Of the product's
    tests, those they can no longer sit through anything else: every open sitting closes
    now, unscored (``abandoned``, reason ``revoked``; the saved answers stay for staff),
    and every sitting is marked ``access_ended_at`` — the paper, autosave, submit, result
    and review answer 403 ``no_access``, and rankings leave it out. Rows are locked as a
    submit locks them, so a save racing this lands before it or is refused after it.
    Returns the number of sittings closed."""
    now = timezone.now()
    tests = _tests_of_product(product_id)
    still = set(
        accessible_tests(user=learner(user_id), now=now)
        .filter(pk__in=tests)
        .values_list("pk", flat=True)
    )
    lost = tests - still
    if not lost:
        return 0
    sittings = ExamSession.objects.filter(user_id=user_id, test_id__in=lost)
    closed = 0
    for session in sittings.select_for_update().filter(status=ExamSession.Status.IN_PROGRESS):
        session.status = ExamSession.Status.ABANDONED
        session.submit_reason = ExamSession.SubmitReason.REVOKED
        session.submitted_at = now
        session.time_taken_seconds = max(0, int((now - session.started_at).total_seconds()))
        session.access_ended_at = now
        session.save(
            update_fields=[
                "status",
                "submit_reason",
                "submitted_at",
                "time_taken_seconds",
                "access_ended_at",
            ]
        )
        closed += 1
    sittings.filter(access_ended_at=None).update(access_ended_at=now)
    return closed


@transaction.atomic
def sittings_access_restored(*, user_id: int, product_id: int) -> int:
    """The learner holds an enrollment of the product again: their sittings of its tests
    that they may sit now count again (results, review, rankings). A sitting closed by the
    withdrawal stays closed. Returns the number of sittings restored."""
    tests = _tests_of_product(product_id)
    regained = accessible_tests(user=learner(user_id)).filter(pk__in=tests)
    return ExamSession.objects.filter(
        user_id=user_id, test_id__in=regained.values("pk"), access_ended_at__isnull=False
    ).update(access_ended_at=None)
