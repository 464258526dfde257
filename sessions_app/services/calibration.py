"""Item calibration from scored sittings: gather the response matrix, fit, store.

``calibrate_items`` reads, for every submitted (scored) sitting, each question of its
paper as right (outcome "correct") or not (wrong, partial, or left unanswered: the learner
saw it); a question a sitting was not given is missing, not wrong. A learner's later
sittings that repeat a question do not count it again (they may have read the solution):
only each learner's first scored answer to each question is used. The fit is
``testengine.irt_fit.fit_items``; storing is ``testengine.services
.question_calibration_store``. testengine never reads sittings (docs/architecture.md), so the
gathering lives here, as the item statistics do.

Concurrency: the whole run holds a transaction-level advisory lock, taken with
``pg_try_advisory_xact_lock``; a second run that finds it taken returns at once with
``ran=False`` (the first one is computing the same thing). Storing twice writes the same
values, so a task and a cron run that follow each other are harmless.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from sessions_app.models import ExamSession, SessionResponse
from testengine.irt_fit import ResponseData, fit_items
from testengine.models import Question
from testengine.services import ItemFit, question_calibration_store

LOCK_NAME = "sessions_app.calibrate_items"
_FETCH = 50_000

_QUESTIONS_OF = """
    jsonb_to_recordset(jsonb_path_query_array(s.layout, '$.sections[*].questions[*]'))
        AS q(id integer)
"""


@dataclass(frozen=True)
class CalibrationReport:
    ran: bool  # False: another run held the lock
    sittings: int = 0
    responses: int = 0
    items: int = 0  # questions with at least one response
    fitted: int = 0  # of which with enough responses to fit
    rasch: int = 0  # of the fitted, with a held at 1
    calibrated: int = 0  # stored
    below_minimum: int = 0  # kept their parameters
    skipped: int = 0  # deleted, or c changed while fitting
    iterations: int = 0
    converged: bool = True
    seconds: float = 0.0


def _responses(test_id: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sitting number, question id, correct) of every first scored answer of each learner to
    each question — of the questions in the test's scored papers when ``test_id`` is given,
    but from every sitting that had them."""
    sessions = ExamSession._meta.db_table
    responses = SessionResponse._meta.db_table
    questions = Question._meta.db_table
    params: list[int | str] = []
    only = ""
    if test_id is not None:
        only = f"""AND q.id IN (
            SELECT q.id FROM {sessions} s CROSS JOIN LATERAL {_QUESTIONS_OF}
            WHERE s.test_id = %s AND s.status = %s)"""  # noqa: S608 — as below
        params += [test_id, ExamSession.Status.SUBMITTED]
    # Sittings are numbered 1..N here (their keys are UUIDs), in the query that picks each
    # learner's first scored answer to each question.
    sql = f"""
        SELECT dense_rank() OVER (ORDER BY first.session_id), first.question_id, first.correct
        FROM (
            SELECT DISTINCT ON (s.user_id, q.id)
                s.id AS session_id, q.id AS question_id,
                COALESCE(r.outcome = 'correct', false) AS correct
            FROM {sessions} s
            CROSS JOIN LATERAL {_QUESTIONS_OF}
            JOIN {questions} question ON question.id = q.id
            LEFT JOIN {responses} r ON r.session_id = s.id AND r.question_id = q.id
            WHERE s.status = %s {only}
            ORDER BY s.user_id, q.id, s.submitted_at, s.id
        ) AS first
    """  # noqa: S608 — table names from the models; every value is a parameter
    params.insert(0, ExamSession.Status.SUBMITTED)
    sitting_ids, question_ids, correct = [], [], []
    # A server-side cursor: the rows arrive in chunks, never all at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH):
            block = np.array(rows, dtype=np.int64)
            sitting_ids.append(block[:, 0])
            question_ids.append(block[:, 1])
            correct.append(block[:, 2].astype(bool))
    if not sitting_ids:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(sitting_ids), np.concatenate(question_ids), np.concatenate(correct)


def calibrate_items(
    *, test_id: int | None = None, min_responses: int | None = None
) -> CalibrationReport:
    """Fit a and b of every question with at least ``min_responses`` (default
    ``CALIBRATION_MIN_RESPONSES``) first scored answers — 2PL, or Rasch below
    ``CALIBRATION_RASCH_BELOW`` — with c fixed at the question's own, and store them;
    questions below the minimum keep their parameters. ``test_id`` limits it to the
    questions of that test's scored papers (their answers in any test count)."""
    minimum = settings.CALIBRATION_MIN_RESPONSES if min_responses is None else min_responses
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK_NAME])
        if not cursor.fetchone()[0]:
            return CalibrationReport(ran=False)
        sitting_ids, question_ids, correct = _responses(test_id)
        sittings, persons = np.unique(sitting_ids, return_inverse=True)
        items, item_index = np.unique(question_ids, return_inverse=True)
        counts = np.bincount(item_index, minlength=len(items))
        keep = counts >= max(minimum, 1)
        chosen = keep[item_index]
        fitted_ids = items[keep]
        guessing = dict(
            Question.objects.filter(pk__in=fitted_ids.tolist()).values_list("id", "irt_c")
        )
        fitted_ids = np.array([q for q in fitted_ids.tolist() if q in guessing], dtype=np.int64)
        fits: list[ItemFit] = [
            ItemFit(question_id=int(q), a=None, b=None, c=None, responses=int(n))
            for q, n in zip(items[~keep].tolist(), counts[~keep].tolist(), strict=True)
        ]
        result = None
        if len(fitted_ids):
            column = {q: i for i, q in enumerate(fitted_ids.tolist())}
            remap = np.array([column.get(q, -1) for q in items.tolist()], dtype=np.int64)
            chosen &= remap[item_index] >= 0
            result = fit_items(
                ResponseData(
                    persons=persons[chosen],
                    items=remap[item_index[chosen]],
                    correct=correct[chosen],
                    n_persons=len(sittings),
                    n_items=len(fitted_ids),
                ),
                guessing=np.array([guessing[q] for q in fitted_ids.tolist()]),
                rasch_below=settings.CALIBRATION_RASCH_BELOW,
            )
            fits += [
                ItemFit(
                    question_id=int(q),
                    a=float(result.a[i]),
                    b=float(result.b[i]),
                    c=float(result.c[i]),
                    responses=int(result.responses[i]),
                    rasch=bool(result.rasch[i]),
                )
                for i, q in enumerate(fitted_ids.tolist())
            ]
        stored = question_calibration_store(fits=fits, min_responses=max(minimum, 1))
    return CalibrationReport(
        ran=True,
        sittings=len(sittings),
        responses=len(question_ids),
        items=len(items),
        fitted=len(fitted_ids),
        rasch=int(result.rasch.sum()) if result else 0,
        calibrated=stored.calibrated,
        below_minimum=stored.below_minimum,
        skipped=stored.skipped,
        iterations=result.iterations if result else 0,
        converged=result.converged if result else True,
        seconds=round(time.perf_counter() - started, 3),
    )
