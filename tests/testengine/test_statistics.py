"""Item statistics, checked against the definitions computed independently."""

import statistics as stdlib

import pytest

from testengine import services
from testengine.models import QuestionStatistics
from testengine.statistics import item_statistics
from tests.testengine.factories import make_question


def test_facility_discrimination_and_efficiency_follow_the_definitions():
    sittings = [
        {1: 1.0, 2: 4.0, 3: 2.0},
        {1: 1.0, 2: 3.0, 3: 1.0},
        {1: 0.0, 2: 2.0, 3: 2.0},
        {1: 0.0, 2: 0.0, 3: 0.0},
        {1: 1.0, 2: 4.0, 3: 0.0},
    ]

    stats = {s.question_id: s for s in item_statistics(sittings, {1: 1, 2: 4, 3: 2})}

    item = [row[1] for row in sittings]
    rest = [sum(row.values()) - row[1] for row in sittings]
    assert stats[1].responses == 5
    assert stats[1].facility == pytest.approx(0.6)
    assert stats[1].discrimination == pytest.approx(stdlib.correlation(item, rest), abs=1e-4)
    best = stdlib.correlation(sorted(item), sorted(rest))
    assert stats[1].discriminative_efficiency == pytest.approx(
        stdlib.correlation(item, rest) / best, abs=1e-3
    )
    assert stats[2].facility == pytest.approx(13 / 20)


def test_an_item_everyone_got_right_has_no_discrimination():
    sittings = [{1: 1.0, 2: 1.0}, {1: 1.0, 2: 0.0}, {1: 1.0, 2: 1.0}]

    stats = {s.question_id: s for s in item_statistics(sittings, {1: 1, 2: 1})}

    assert stats[1].facility == 1.0
    assert stats[1].discrimination is None
    assert stats[1].discriminative_efficiency is None


def test_questions_only_count_sittings_whose_paper_had_them():
    sittings = [{1: 1.0}, {2: 0.0}, {1: 0.0, 2: 1.0}]

    stats = {s.question_id: s for s in item_statistics(sittings, {1: 1, 2: 1, 3: 1})}

    assert (stats[1].responses, stats[2].responses, stats[3].responses) == (2, 2, 0)
    assert stats[3].facility is None


@pytest.mark.django_db
def test_storing_statistics_replaces_the_earlier_figures():
    question = make_question()
    first = item_statistics([{question.id: 1.0}, {question.id: 0.0}], {question.id: 1})
    services.question_statistics_store(statistics=first)
    second = item_statistics([{question.id: 1.0}] * 3, {question.id: 1})

    services.question_statistics_store(statistics=second)

    row = QuestionStatistics.objects.get(question=question)
    assert (row.responses, row.facility) == (3, 1.0)
