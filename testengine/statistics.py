"""Classical item statistics, computed as Moodle's quiz statistics report does.

Input: for each scored sitting, the marks per question and the question's max mark. For
each question:

- facility index: mean mark ÷ max mark (how easy the item was, 0–1);
- discrimination index: Pearson correlation between the item's mark and the *rest of
  the test* (total minus this item), so an item never correlates with itself;
- discriminative efficiency: the discrimination index divided by the largest value it
  could reach given the two score distributions (their correlation when both are sorted),
  i.e. how close the item comes to its own maximum possible discrimination.

Pure functions over numbers; the exam-session app gathers the marks and calls
``services.question_statistics_store`` with the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

MIN_RESPONSES = 2


@dataclass(frozen=True)
class ItemStatistics:
    question_id: int
    responses: int
    facility: float | None
    discrimination: float | None
    discriminative_efficiency: float | None
    mark_sd: float | None


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return None
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def item_statistics(
    sittings: Iterable[Mapping[int, float]], max_marks: Mapping[int, float]
) -> list[ItemStatistics]:
    """Statistics for every question in ``max_marks``, from sittings that include it.

    ``sittings``: one mapping per scored sitting, question id → marks awarded (negative
    marks allowed). A question's statistics use only the sittings whose paper contained
    it; with fewer than two, or no spread, the indices are ``None``.
    """
    rows = [dict(sitting) for sitting in sittings]
    totals = np.array([sum(row.values()) for row in rows], dtype=float)
    results = []
    for question_id, max_mark in max_marks.items():
        index = [i for i, row in enumerate(rows) if question_id in row]
        if not index:
            results.append(ItemStatistics(question_id, 0, None, None, None, None))
            continue
        marks = np.array([rows[i][question_id] for i in index], dtype=float)
        rest = totals[index] - marks
        facility = float(marks.mean() / max_mark) if max_mark else None
        discrimination = efficiency = None
        if len(index) >= MIN_RESPONSES:
            discrimination = _corr(marks, rest)
            best = _corr(np.sort(marks), np.sort(rest))
            if discrimination is not None and best:
                efficiency = discrimination / best
        results.append(
            ItemStatistics(
                question_id=question_id,
                responses=len(index),
                facility=_round(facility),
                discrimination=_round(discrimination),
                discriminative_efficiency=_round(efficiency),
                mark_sd=_round(float(marks.std(ddof=1)) if len(index) > 1 else None),
            )
        )
    return results


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
