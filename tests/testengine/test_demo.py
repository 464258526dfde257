"""The demo bank that ``make run`` seeds: idempotent, valid, and every published test works."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction

from testengine import demo
from testengine.models import Choice, Question, Section, SectionQuestion, SectionRule, Test, Topic
from testengine.paper import generate_paper
from testengine.scoring import score
from testengine.selectors import rule_candidates
from testengine.services import question_data_from, question_validate, test_check

pytestmark = pytest.mark.django_db

BUILDER = Path(__file__).resolve().parents[2] / "scripts" / "build_demo_bank.py"


@pytest.fixture(scope="module")
def builder():
    """``scripts/build_demo_bank.py``, the development script that writes the bank's data
    files (the app never imports it)."""
    spec = importlib.util.spec_from_file_location("build_demo_bank", BUILDER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _snapshot() -> dict[str, int]:
    return {
        "questions": Question.objects.filter(external_id__startswith="demo-").count(),
        "choices": Choice.objects.count(),
        "topics": Topic.objects.count(),
        "tests": Test.objects.count(),
        "sections": Section.objects.count(),
        "rules": SectionRule.objects.count(),
        "fixed": SectionQuestion.objects.count(),
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module (it takes a few seconds), inside a transaction that is rolled
    back afterwards; each test runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        demo.seed(out)
        yield out.getvalue()
        transaction.set_rollback(True)


def _demo_tests() -> list[Test]:
    return list(Test.objects.filter(slug__in=demo.DEMO_TESTS).order_by("slug"))


def _full_marks_answers(paper) -> dict[int, dict]:
    answers = {}
    for question in paper.questions:
        if question.type == Question.Type.NUMERIC:
            answers[question.id] = {"value": str(question.numeric_answer)}
        elif question.type == Question.Type.TEXT:
            answers[question.id] = {"text": question.accepted_answers[0]}
        else:
            answers[question.id] = {"choices": sorted(question.correct_choice_ids)}
    return answers


def test_seeding_twice_changes_nothing(seeded):
    assert seeded.startswith("demo test bank: ")
    before = _snapshot()
    out = io.StringIO()

    demo.seed(out)

    assert _snapshot() == before
    assert "(0 new)" in out.getvalue()
    assert out.getvalue().count("\n") == 1  # a one-line summary
    assert before["questions"] == len(demo.bank_rows())
    assert before["tests"] >= len(demo.DEMO_TESTS)


def test_bank_covers_every_type_difficulty_and_status(seeded, builder):
    questions = Question.objects.filter(external_id__startswith="demo-")

    assert questions.count() >= 300
    assert len(builder.HAND) >= 120
    assert set(questions.values_list("type", flat=True)) == set(Question.Type.values)
    assert set(questions.values_list("difficulty", flat=True)) == set(Question.Difficulty.values)
    statuses = Counter(questions.values_list("status", flat=True))
    assert statuses["published"] > 0.9 * questions.count()
    assert statuses["draft"] >= 1
    assert statuses["retired"] >= 1
    # Every question sits on a leaf of the three-level tree and carries its chapter tag.
    for question in questions.select_related("topic__parent__parent"):
        assert question.topic.parent.parent is not None
        assert question.topic.parent.parent.parent_id is None
        assert question.topic.parent.slug in question.tags


def test_every_demo_question_passes_validation(seeded):
    questions = Question.objects.filter(external_id__startswith="demo-").select_related("topic")

    invalid = {
        question.external_id: errors
        for question in questions.prefetch_related("choices")
        if (errors := question_validate(question_data_from(question)))
    }

    assert invalid == {}


def test_keys_are_unique_and_generated_answers_are_stable(builder):
    keys = [row["external_id"] for row in demo.bank_rows()]

    assert len(keys) == len(set(keys))
    assert all(key.startswith(demo.EXTERNAL_PREFIX) and len(key) <= 64 for key in keys)
    assert builder.generated() == builder.generated()
    # The committed data files are what the script builds from the curriculum today.
    files = builder.documents()
    assert set(files) == {demo.TOPICS_FILE, demo.BANK_FILE}
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"run scripts/build_demo_bank.py ({path})"


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_every_published_demo_test_is_fillable_and_generates_papers(seeded, seed):
    published = [test for test in _demo_tests() if test.is_published]
    assert {test.slug for test in published} == set(demo.DEMO_TESTS)
    published = [test for test in published if test.mode != Test.Mode.ADAPTIVE]  # no paper

    for test in published:
        report = test_check(test=test)
        assert report.ok, (test.slug, report.as_dict())

        paper = generate_paper(test, seed)
        ids = [question.id for question in paper.questions]
        needed = sum(rule.needed for rule in report.rules)
        assert len(ids) == len(set(ids)) == needed, test.slug
        assert generate_paper(test, seed) == paper
        result = score(paper, _full_marks_answers(paper))
        assert result.score == result.max_score > 0, test.slug


def test_mock_test_follows_its_blueprint(seeded):
    test = Test.objects.get(slug="backend-engineering-mock-test")
    paper = generate_paper(test, 99)

    assert test.mode == Test.Mode.RANDOM
    assert (test.max_attempts, test.attempt_policy) == (3, Test.AttemptPolicy.HIGHEST)
    assert test.pass_mark_percent == 40
    assert test.shuffle_questions
    assert test.shuffle_choices
    assert [len(section.questions) for section in paper.sections] == [25, 25, 25, 25]
    jee, gate, _, _ = paper.sections
    assert {(q.marks, q.negative_marks) for q in jee.questions} == {(4, 1)}
    assert all(
        q.negative_marks == round(q.marks * test.sections.get(order=1).negative_fraction, 2)
        for q in gate.questions
    )
    # Sectionally timed, as CAT: four sections of 30 minutes sat in turn.
    assert [s.duration_seconds for s in paper.sections] == [30 * 60] * 4


def test_the_other_demo_tests_have_their_settings(seeded):
    tests = {test.slug: test for test in _demo_tests()}

    quiz = tests["django-fundamentals-quiz"]
    assert quiz.mode == Test.Mode.FIXED
    assert quiz.navigation == Test.Navigation.FREE
    assert quiz.solution_policy == Test.SolutionPolicy.AFTER_SUBMIT
    assert SectionQuestion.objects.filter(section__test=quiz).count() == 10
    assert tests["postgresql-diagnostic"].mode == Test.Mode.RANDOM
    assert tests["security-drill"].navigation == Test.Navigation.SEQUENTIAL
    adaptive = tests["adaptive-placement-test"]
    assert adaptive.mode == Test.Mode.ADAPTIVE
    assert adaptive.is_published  # sat item by item (sessions_app.adaptive)
    assert adaptive.adaptive_config == {
        "max_items": 20,
        "min_items": 8,
        "target_se": 0.3,
        "randomesque_k": 5,
    }


def test_the_science_sampler_carries_the_banks_tex_as_written_and_shows_mathml(seeded):
    test = Test.objects.get(slug="science-sampler")
    rows = {row["external_id"]: row for row in demo.bank_rows()}
    paper = generate_paper(test, 1)

    assert test.mode == Test.Mode.FIXED
    assert [(s.title, len(s.questions)) for s in paper.sections] == [
        ("Physics", 5),
        ("Mathematics", 6),
        ("Chemistry", 7),
    ]
    assert "<math" in test.instructions_html
    questions = Question.objects.filter(external_id__startswith="demo-sci-")
    assert questions.count() == len(demo.SCIENCE_QUIZ) == 18
    assert set(Question.Type.values) == set(questions.values_list("type", flat=True))
    for question in questions.prefetch_related("choices"):
        row = rows[question.external_id]
        assert question.body_md == row["body"]  # the import keeps TeX as written
        assert question.explanation_md == row["explanation"]
        assert "$" in question.body_md + question.explanation_md
        assert "<math" in question.body_html + question.explanation_html, question.external_id
        assert "$" not in question.body_html, question.external_id


def test_a_third_of_the_bank_is_free_practice_and_every_rule_keeps_its_spare(seeded):
    demo_questions = Question.objects.filter(external_id__startswith="demo-")
    free = demo_questions.filter(free_practice=True)

    share = free.count() / len(demo_questions)
    assert 0.2 <= share <= 0.4, share  # a third, topped up to a few per topic
    assert f"{free.count()} in the free practice pool" in seeded
    listed = SectionQuestion.objects.values_list("question_id", flat=True)
    assert not free.filter(pk__in=listed).exists()  # no hand-picked question
    for rule in SectionRule.objects.filter(section__test__slug__in=demo.DEMO_TESTS):
        drawable = rule_candidates(rule).count()
        assert drawable >= rule.count + demo.SPARE_PER_RULE, (rule.section.test.slug, str(rule))
        assert not rule_candidates(rule).filter(free_practice=True).exists()
    per_topic = Counter(free.values_list("topic_id", flat=True))
    assert min(per_topic.values()) >= 3


def test_the_demo_mock_has_fresh_prepared_papers(seeded):
    from testengine import pool
    from testengine.models import PreparedPaper

    test = Test.objects.get(slug="backend-engineering-mock-test")

    assert pool.fresh_count(test.pk) == demo.MOCK_PREPARED_PAPERS
    row = PreparedPaper.objects.filter(test=test).first()
    assert row.paper == generate_paper(test, row.seed).to_json()
    assert row.timed_seconds == sum(s.duration_seconds for s in test.sections.all())
    assert "5 prepared papers of the mock" in seeded
