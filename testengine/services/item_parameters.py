"""Storing fitted IRT parameters (the fitting itself is ``testengine.irt_fit``; the
exam-session app gathers the responses and calls this)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from testengine.bank import bank_changed
from testengine.models import Question


@dataclass(frozen=True)
class ItemFit:
    """One item's fitted parameters: ``a``, ``b`` with the guessing floor ``c`` that the fit
    held fixed, and how many responses it used (or had: None parameters for an item left
    out of the fit for want of responses)."""

    question_id: int
    a: float | None
    b: float | None
    c: float | None
    responses: int
    rasch: bool = False


@dataclass(frozen=True)
class CalibrationStored:
    calibrated: int  # questions whose a, b were replaced
    below_minimum: int  # left as they were: fewer responses than the minimum
    skipped: int  # deleted since, or their c changed while the fit ran


@transaction.atomic
def question_calibration_store(
    *, fits: Iterable[ItemFit], min_responses: int, at: datetime | None = None
) -> CalibrationStored:
    """Store fitted a and b of every item with at least ``min_responses`` responses,
    marking it calibrated with the count and the time. Items below the minimum keep the
    parameters they have (their cold-start prior, or an earlier calibration). c is never
    written: the fit held it fixed, and an item whose c staff changed while the fit ran
    is skipped (its a, b were fitted for the old c). Rows are locked in primary-key order,
    so this serialises with question edits; storing the same fit twice writes the same
    values."""
    at = at or timezone.now()
    fits = list(fits)
    enough = {
        fit.question_id: fit
        for fit in fits
        if fit.responses >= min_responses and fit.a is not None and fit.b is not None
    }
    below = len(fits) - len(enough)
    questions = list(
        Question.objects.select_for_update()
        .filter(pk__in=list(enough))
        .order_by("pk")
        .only("id", "irt_a", "irt_b", "irt_c", "irt_source", "irt_responses")
    )
    changed = []
    for question in questions:
        fit = enough[question.pk]
        if question.irt_c != fit.c:
            continue
        question.irt_a = round(float(fit.a), 4)  # type: ignore[arg-type]  # fitted: not None
        question.irt_b = round(float(fit.b), 4)  # type: ignore[arg-type]
        question.irt_source = Question.IrtSource.CALIBRATED
        question.irt_responses = fit.responses
        question.irt_calibrated_at = at
        question.updated_at = at
        changed.append(question)
    Question.objects.bulk_update(
        changed,
        ["irt_a", "irt_b", "irt_source", "irt_responses", "irt_calibrated_at", "updated_at"],
        batch_size=1000,
    )
    if changed:
        bank_changed()  # IRT parameters are frozen into papers: prepared ones go stale
    return CalibrationStored(
        calibrated=len(changed), below_minimum=below, skipped=len(enough) - len(changed)
    )
