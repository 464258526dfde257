"""Demo question bank and tests for ``make run``: a backend-engineering curriculum.

The bank is data: ``demo_data/topics.json`` (the topic tree) and ``demo_data/bank.json``
(the questions, in the JSON format of the question import), both built by
``scripts/build_demo_bank.py``. The questions go in through ``importexport.questions_import``,
the path staff imports take. Seeding is idempotent: topics are found by slug, questions by
``external_id`` (``demo-…``) and tests by slug; only what is missing is created, so staff
edits to demo content survive restarts and a second run costs a few queries.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth import get_user_model

from accounts.demo import DEMO_STAFF
from testengine.bank import candidate_pools
from testengine.errors import RulesUnfillable
from testengine.importexport import JSON, questions_import
from testengine.models import Question, Section, SectionQuestion, SectionRule, Test, Topic
from testengine.services import (
    papers_prepare,
    question_set_free_practice,
    test_create,
    test_publish,
    topic_create,
)

EXTERNAL_PREFIX = "demo-"
DATA_DIR = Path(__file__).resolve().parent / "demo_data"
TOPICS_FILE = DATA_DIR / "topics.json"
BANK_FILE = DATA_DIR / "bank.json"


@cache
def bank_rows() -> tuple[dict[str, Any], ...]:
    """The demo questions as import rows (``bank.json``), read once per process."""
    return tuple(json.loads(BANK_FILE.read_text(encoding="utf-8")))


# --- topics -----------------------------------------------------------------------------------


def _tree_rows() -> list[tuple[str, str, str | None, int]]:
    """(name, slug, parent slug, order) for every node of ``topics.json``, parents first."""
    rows: list[tuple[str, str, str | None, int]] = []

    def walk(nodes: list[dict[str, Any]], parent: str | None) -> None:
        for order, node in enumerate(nodes):
            rows.append((node["name"], node["slug"], parent, order))
            walk(node["children"], node["slug"])

    walk(json.loads(TOPICS_FILE.read_text(encoding="utf-8")), None)
    return rows


def ensure_topics() -> dict[str, Topic]:
    rows = _tree_rows()
    topics = {t.slug: t for t in Topic.objects.filter(slug__in=[row[1] for row in rows])}
    for name, slug, parent_slug, order in rows:
        if slug in topics:
            continue
        parent = topics[parent_slug] if parent_slug else None
        # A topic staff created by hand with the same name and parent is adopted as is.
        topics[slug] = Topic.objects.filter(parent=parent, name=name).first() or topic_create(
            name=name, parent=parent, slug=slug, order=order
        )
    return topics


# --- questions --------------------------------------------------------------------------------


def ensure_questions() -> tuple[int, int]:
    """Import the demo questions that are missing (by external id). Returns (present,
    created)."""
    rows = bank_rows()
    existing = set(
        Question.objects.filter(external_id__startswith=EXTERNAL_PREFIX).values_list(
            "external_id", flat=True
        )
    )
    missing = [row for row in rows if row["external_id"] not in existing]
    if missing:
        author = get_user_model().objects.filter(email=DEMO_STAFF["email"]).first()
        questions_import(content=json.dumps(missing), fmt=JSON, by=author)
    return len(rows), len(missing)


# --- tests ------------------------------------------------------------------------------------


def _rule(topics: dict[str, Topic], slug: str | None, count: int, difficulty: str = ""):
    return {"topic": topics[slug] if slug else None, "count": count, "difficulty": difficulty}


def test_specs(topics: dict[str, Topic]) -> list[tuple[dict[str, Any], list[dict], bool]]:
    """(values, sections, publish) for each demo test; rules never overlap, so any seed
    fills them."""
    fixed_quiz = {
        q.external_id: q
        for q in Question.objects.filter(
            external_id__in=[EXTERNAL_PREFIX + key for key in (*DJANGO_QUIZ, *SCIENCE_QUIZ)]
        )
    }
    return [
        (
            {
                "title": "Django fundamentals quiz",
                "slug": "django-fundamentals-quiz",
                "instructions_md": (
                    "Ten hand-picked questions on the ORM, migrations, middleware and DRF.\n\n"
                    "- Move freely between questions and change answers until you submit.\n"
                    "- Solutions and explanations are shown after you submit."
                ),
                "mode": Test.Mode.FIXED,
                "duration_seconds": 15 * 60,
                "navigation": Test.Navigation.FREE,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
                "shuffle_choices": True,
                "pass_mark_percent": Decimal("60"),
            },
            [
                {
                    "title": "Django",
                    "questions": [
                        {"question": fixed_quiz[EXTERNAL_PREFIX + key]} for key in DJANGO_QUIZ
                    ],
                }
            ],
            True,
        ),
        (
            {
                "title": "Backend engineering mock test",
                "slug": "backend-engineering-mock-test",
                "instructions_md": (
                    "100 questions in four sections of 30 minutes each, sat in turn (as in "
                    "CAT): when a section's time is up, or you move on, it is locked.\n\n"
                    "| Section | Marking |\n| --- | --- |\n"
                    "| Web & APIs | +4 correct, −1 wrong, 0 unattempted |\n"
                    "| Databases | question marks; a wrong answer costs ⅓ of them |\n"
                    "| Python & Django | question marks and penalties |\n"
                    "| Security & system design | question marks and penalties |\n\n"
                    "Three attempts; your best score counts. Pass mark: 40 %."
                ),
                "mode": Test.Mode.RANDOM,
                "duration_seconds": 2 * 60 * 60,
                "max_attempts": 3,
                "attempt_policy": Test.AttemptPolicy.HIGHEST,
                "pass_mark_percent": Decimal("40"),
                "shuffle_questions": True,
                "shuffle_choices": True,
                "navigation": Test.Navigation.FREE,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
            },
            [
                {
                    "title": "Web & APIs",
                    "instructions": "JEE-style marking: +4 / −1 / 0.",
                    "duration_seconds": 30 * 60,
                    "marking": Section.Marking.FIXED,
                    "correct_marks": Decimal("4"),
                    "wrong_penalty": Decimal("1"),
                    "unattempted_marks": Decimal("0"),
                    "rules": [
                        _rule(topics, "http", 6, "easy"),
                        _rule(topics, "http", 8, "medium"),
                        _rule(topics, "http", 4, "hard"),
                        _rule(topics, "rest", 5),
                        _rule(topics, "networking", 2),
                    ],
                },
                {
                    "title": "Databases",
                    "instructions": "GATE-style marking: a wrong answer costs ⅓ of its marks.",
                    "duration_seconds": 30 * 60,
                    "marking": Section.Marking.FRACTION,
                    "negative_fraction": Decimal("0.3333"),
                    "rules": [
                        _rule(topics, "postgresql", 7, "easy"),
                        _rule(topics, "postgresql", 12, "medium"),
                        _rule(topics, "postgresql", 6, "hard"),
                    ],
                },
                {
                    "title": "Python & Django",
                    "duration_seconds": 30 * 60,
                    "marking": Section.Marking.QUESTION,
                    "rules": [
                        _rule(topics, "python", 5, "easy"),
                        _rule(topics, "python", 7, "medium"),
                        _rule(topics, "python", 3, "hard"),
                        _rule(topics, "django", 10),
                    ],
                },
                {
                    "title": "Security & system design",
                    "duration_seconds": 30 * 60,
                    "marking": Section.Marking.QUESTION,
                    "rules": [
                        _rule(topics, "appsec", 4, "easy"),
                        _rule(topics, "appsec", 6, "medium"),
                        _rule(topics, "appsec", 2, "hard"),
                        _rule(topics, "system-design", 3, "easy"),
                        _rule(topics, "system-design", 6, "medium"),
                        _rule(topics, "system-design", 4, "hard"),
                    ],
                },
            ],
            True,
        ),
        (
            {
                "title": "PostgreSQL diagnostic",
                "slug": "postgresql-diagnostic",
                "instructions_md": (
                    "A free 15-question check of your SQL and PostgreSQL: joins, indexes, "
                    "transactions and query plans. Take it as often as you like."
                ),
                "mode": Test.Mode.RANDOM,
                "duration_seconds": 20 * 60,
                "shuffle_questions": True,
                "shuffle_choices": True,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
            },
            [
                {
                    "title": "SQL & PostgreSQL",
                    "rules": [
                        _rule(topics, "postgresql", 5, "easy"),
                        _rule(topics, "postgresql", 6, "medium"),
                        _rule(topics, "postgresql", 4, "hard"),
                    ],
                }
            ],
            True,
        ),
        (
            {
                "title": "Security drill",
                "slug": "security-drill",
                "instructions_md": (
                    "Twelve questions, one at a time: answer each before moving on — there is "
                    "no going back. Submit before the 15 minutes are up: an attempt still open "
                    "when time runs out is abandoned, not scored."
                ),
                "on_time_up": Test.OnTimeUp.ABANDON,
                "mode": Test.Mode.RANDOM,
                "duration_seconds": 15 * 60,
                "navigation": Test.Navigation.SEQUENTIAL,
                "shuffle_choices": True,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
            },
            [
                {
                    "title": "Application security",
                    "rules": [
                        _rule(topics, "sec-owasp", 3),
                        _rule(topics, "sec-auth", 3),
                        _rule(topics, "sec-passwords", 3),
                        _rule(topics, "sec-csrf-xss", 3),
                    ],
                }
            ],
            True,
        ),
        (
            {
                "title": "Physics, mathematics and chemistry",
                "slug": "science-sampler",
                "instructions_md": (
                    "Eighteen questions in three sections — kinematics, algebra and calculus, "
                    "stoichiometry and equilibrium — written with formulas such as "
                    "$v^2 = u^2 + 2as$, $\\int_0^2 3x^2\\,dx$ and "
                    "$\\mathrm{N_2} + 3\\mathrm{H_2} \\rightleftharpoons 2\\mathrm{NH_3}$.\n\n"
                    "Give numeric answers as plain numbers (`29.4`). Worked solutions are "
                    "shown after you submit."
                ),
                "mode": Test.Mode.FIXED,
                "duration_seconds": 30 * 60,
                "navigation": Test.Navigation.FREE,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
                "shuffle_choices": True,
            },
            [
                {
                    "title": title,
                    "questions": [{"question": fixed_quiz[EXTERNAL_PREFIX + key]} for key in keys],
                }
                for title, keys in SCIENCE_SECTIONS
            ],
            True,
        ),
        (
            {
                "title": "Adaptive placement test",
                "slug": "adaptive-placement-test",
                "instructions_md": (
                    "Questions adapt to your answers: 8 to 20 items, stopping once your level "
                    "is measured precisely enough."
                ),
                "mode": Test.Mode.ADAPTIVE,
                "duration_seconds": 30 * 60,
                "navigation": Test.Navigation.SEQUENTIAL,
                "solution_policy": Test.SolutionPolicy.AFTER_SUBMIT,
                "adaptive_config": {
                    "max_items": 20,
                    "min_items": 8,
                    "target_se": 0.3,
                    "randomesque_k": 5,
                },
            },
            # The item pool: any published question of the bank.
            [{"title": "Placement", "rules": [_rule(topics, None, 20)]}],
            True,
        ),
    ]


DEMO_TESTS = (
    "django-fundamentals-quiz",
    "backend-engineering-mock-test",
    "postgresql-diagnostic",
    "security-drill",
    "adaptive-placement-test",
    "science-sampler",
)
DJANGO_QUIZ = (
    "dj-0001",
    "dj-0002",
    "dj-0003",
    "dj-0005",
    "dj-0008",
    "dj-0009",
    "dj-0010",
    "dj-0020",
    "dj-0030",
    "dj-0040",
)

# Every question of the bank's science subject (``demo-sci-…``), by section, in the order sat.
SCIENCE_SECTIONS = (
    ("Physics", tuple(f"sci-kin-{n:04d}" for n in range(1, 6))),
    (
        "Mathematics",
        (*(f"sci-alg-{n:04d}" for n in range(1, 4)), *(f"sci-calc-{n:04d}" for n in range(1, 4))),
    ),
    (
        "Chemistry",
        (*(f"sci-chem-{n:04d}" for n in range(1, 5)), *(f"sci-eq-{n:04d}" for n in range(1, 4))),
    ),
)
SCIENCE_QUIZ = tuple(key for _, keys in SCIENCE_SECTIONS for key in keys)


def ensure_tests(topics: dict[str, Topic], out: TextIO) -> tuple[int, int]:
    """Create the demo tests that are missing (by slug). Returns (present, created)."""
    existing = set(Test.objects.filter(slug__in=DEMO_TESTS).values_list("slug", flat=True))
    if existing.issuperset(DEMO_TESTS):
        return len(DEMO_TESTS), 0
    specs = test_specs(topics)
    created = 0
    for values, sections, publish in specs:
        if values["slug"] in existing:
            continue
        test = test_create(values=values, sections=sections)
        created += 1
        if publish:
            try:
                test_publish(test=test)
            except RulesUnfillable:
                # E.g. staff retired demo questions: keep the test as a draft, not a crash.
                out.write(f"  demo test {test.slug!r} left unpublished: the bank cannot fill it\n")
    return len(DEMO_TESTS), created


FREE_PRACTICE_SHARE = 3  # about one demo question in three goes to the free pool
FREE_PRACTICE_PER_TOPIC = 4  # and at least this many per topic, where the rules allow
SPARE_PER_RULE = 2  # every published test's rule keeps this many questions beyond its count


def ensure_free_practice() -> int:
    """Put about a third of the demo questions into the free practice pool, so that a
    learner with no enrollment can practise, while every published test's rules keep
    enough questions to fill (with ``SPARE_PER_RULE`` to spare, so a random draw still
    varies). Hand-picked questions of fixed tests stay out. Does nothing once any demo
    question is in the pool. Returns the pool's size."""
    demo = Question.objects.filter(external_id__startswith=EXTERNAL_PREFIX)
    if demo.filter(free_practice=True).exists():
        return Question.objects.filter(free_practice=True).count()
    rules = list(
        SectionRule.objects.filter(section__test__is_published=True)
        .exclude(section__test__mode=Test.Mode.FIXED)
        .filter(section__test__in=Test.objects.curated())
    )
    pools = {rule_id: set(pool) for rule_id, pool in candidate_pools(rules).items()}
    slack = {rule.id: len(pools[rule.id]) - rule.count - SPARE_PER_RULE for rule in rules}
    listed = set(SectionQuestion.objects.values_list("question_id", flat=True))
    candidates = list(
        demo.filter(status=Question.Status.PUBLISHED)
        .exclude(pk__in=listed)
        .order_by("external_id")
        .values_list("id", "topic_id")
    )
    chosen: set[int] = set()
    per_topic: dict[int, int] = {}

    def take(pk: int, topic_id: int) -> None:
        holding = [rule.id for rule in rules if pk in pools[rule.id]]
        if all(slack[rule_id] > 0 for rule_id in holding):
            for rule_id in holding:
                slack[rule_id] -= 1
            chosen.add(pk)
            per_topic[topic_id] = per_topic.get(topic_id, 0) + 1

    for index, (pk, topic_id) in enumerate(candidates):
        if not index % FREE_PRACTICE_SHARE:
            take(pk, topic_id)
    # Then top up small topics, so that a demo learner's default practice (ten questions
    # over their three weakest topics) finds enough in each.
    for pk, topic_id in candidates:
        if pk not in chosen and per_topic.get(topic_id, 0) < FREE_PRACTICE_PER_TOPIC:
            take(pk, topic_id)
    question_set_free_practice(questions=list(Question.objects.filter(pk__in=chosen)), free=True)
    return Question.objects.filter(free_practice=True).count()


MOCK_SLUG = "backend-engineering-mock-test"
MOCK_PREPARED_PAPERS = 5  # the demo mock's first starts claim prepared papers


def ensure_prepared_papers() -> int:
    """Top the demo mock's pool of prepared papers up (``testengine.pool``), after every
    other change to the demo bank (a later change would make them stale). Returns how
    many fresh papers it holds."""
    mock = Test.objects.filter(slug=MOCK_SLUG, is_published=True).first()
    if mock is None:
        return 0
    return papers_prepare(test=mock, count=MOCK_PREPARED_PAPERS).fresh


def seed(out: TextIO) -> None:
    topics = ensure_topics()
    questions, new_questions = ensure_questions()
    tests, new_tests = ensure_tests(topics, out)
    free = ensure_free_practice()
    prepared = ensure_prepared_papers()
    out.write(
        f"demo test bank: {questions} questions ({new_questions} new), "
        f"{tests} tests ({new_tests} new), {free} in the free practice pool, "
        f"{prepared} prepared papers of the mock\n"
    )


# Not a pytest test, despite its name, when a test module imports it.
test_specs.__test__ = False  # type: ignore[attr-defined]
