"""Test (exam) definitions: create/update with their sections, check, publish."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from core.markdown import math_errors, render_markdown, unsafe_markup
from testengine.errors import PracticeNotPublishable, RulesUnfillable, TestInvalid
from testengine.models import Question, Section, SectionQuestion, SectionRule, Test, Topic
from testengine.paper import Shortfall, load_blueprint, pick_question_ids
from testengine.selectors import rule_candidates

if TYPE_CHECKING:
    from accounts.models import User

TEST_FIELDS = (
    "title",
    "slug",
    "instructions_md",
    "mode",
    "duration_seconds",
    "max_attempts",
    "min_gap_seconds",
    "attempt_policy",
    "pass_mark_percent",
    "shuffle_questions",
    "shuffle_choices",
    "partial_marking",
    "navigation",
    "solution_policy",
    "on_time_up",
    "available_from",
    "available_until",
    "adaptive_config",
)
SECTION_FIELDS = (
    "title",
    "order",
    "instructions",
    "duration_seconds",
    "marking",
    "correct_marks",
    "wrong_penalty",
    "unattempted_marks",
    "negative_fraction",
)
RULE_FIELDS = ("topic", "include_subtopics", "difficulty", "question_type", "tags", "count")


# --- availability check ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleAvailability:
    section_id: int
    section_title: str
    rule_id: int | None
    description: str
    needed: int
    available: int

    @property
    def ok(self) -> bool:
        return self.available >= self.needed


@dataclass
class CheckReport:
    """Can the bank fill every rule? ``rules`` has one row per rule (or fixed section)."""

    test_id: int
    rules: list[RuleAvailability] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(rule.ok for rule in self.rules)

    def shortfalls(self) -> list[str]:
        """Each problem as a sentence, for the error shape's ``fields``."""
        lines = [
            f"Section “{r.section_title}”: {r.description} needs {r.needed}, "
            f"{r.available} available."
            for r in self.rules
            if not r.ok
        ]
        return lines + self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "rules": [
                {
                    "section_id": r.section_id,
                    "section": r.section_title,
                    "rule_id": r.rule_id,
                    "rule": r.description,
                    "needed": r.needed,
                    "available": r.available,
                    "ok": r.ok,
                }
                for r in self.rules
            ],
        }


def test_check(*, test: Test) -> CheckReport:
    """For each rule, how many published questions match versus how many it needs; then a
    trial generation, which catches rules that overlap and starve each other."""
    report = CheckReport(test_id=test.id)
    sections = load_blueprint(test)
    if test.mode == Test.Mode.ADAPTIVE:
        return report
    if not sections:
        report.problems.append("The test has no sections.")
        return report
    for section in sections:
        if test.mode == Test.Mode.FIXED:
            rows = list(section.fixed_questions.all())
            published = Question.objects.filter(
                pk__in=[row.question_id for row in rows], status=Question.Status.PUBLISHED
            ).count()
            report.rules.append(
                RuleAvailability(
                    section.id, section.title, None, "hand-picked questions", len(rows), published
                )
            )
            if not rows:
                report.problems.append(f"Section “{section.title}” has no questions.")
        else:
            rules = list(section.rules.all())
            if not rules:
                report.problems.append(f"Section “{section.title}” has no rules.")
            for rule in rules:
                report.rules.append(
                    RuleAvailability(
                        section.id,
                        section.title,
                        rule.id,
                        str(rule),
                        rule.count,
                        rule_candidates(rule).count(),
                    )
                )
    if report.ok:
        try:
            pick_question_ids(test, sections, random.Random(0))  # noqa: S311
        except Shortfall as exc:
            gap = exc.shortfall
            report.problems.append(
                f"Rules overlap: rule {gap.rule_id} gets {gap.available} of {gap.needed} "
                "questions after earlier rules took theirs."
                if gap.rule_id
                else f"Section {gap.section_id}: {gap.reason}."
            )
    return report


def published_tests_broken_by(*, topic_ids: set[int], question_ids: set[int]) -> list[str]:
    """Published tests that can no longer be filled, among those a change to these
    questions (in these topics) could affect: fixed tests listing them, and random tests
    with a rule on one of the topics' ancestors or on any topic. One line per test."""
    parents = dict(Topic.objects.values_list("id", "parent_id"))
    related: set[int] = set()
    for topic_id in topic_ids:
        node: int | None = topic_id
        while node is not None and node not in related:
            related.add(node)
            node = parents.get(node)
    candidates = Test.objects.filter(is_published=True).filter(
        Q(mode=Test.Mode.FIXED, sections__fixed_questions__question_id__in=question_ids)
        | Q(mode=Test.Mode.RANDOM, sections__rules__topic_id__in=related)
        | Q(mode=Test.Mode.RANDOM, sections__rules__topic__isnull=True)
    )
    broken = []
    for test in candidates.distinct().order_by("title"):
        report = test_check(test=test)
        if not report.ok:
            broken.append(f"“{test.title}”: " + "; ".join(report.shortfalls()))
    return broken


# --- writes ---------------------------------------------------------------------------------------


def _validate_test(values: dict[str, Any], sections: list[dict[str, Any]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    found = unsafe_markup(values.get("instructions_md", ""))
    if found:
        errors["instructions_md"] = [f"Remove the HTML that could run code ({found!r})."]
    if math := math_errors(values.get("instructions_md", "")):
        errors.setdefault("instructions_md", []).extend(math)
    start, end = values.get("available_from"), values.get("available_until")
    if start and end and end <= start:
        errors["available_until"] = ["The window must close after it opens."]
    pass_mark = values.get("pass_mark_percent")
    if pass_mark is not None and not Decimal("0") <= pass_mark <= Decimal("100"):
        errors["pass_mark_percent"] = ["A pass mark is a percentage from 0 to 100."]
    if values.get("duration_seconds") is not None and values["duration_seconds"] <= 0:
        errors["duration_seconds"] = ["The test needs a positive duration."]
    mode = values.get("mode")
    section_errors: list[dict[str, list[str]]] = []
    if mode not in Test.Mode.values:
        errors["mode"] = [f"Choose one of: {', '.join(Test.Mode.values)}."]
    orders = [section.get("order", index) for index, section in enumerate(sections)]
    if len(set(orders)) != len(orders):
        errors["sections"] = ["Two sections have the same order."]
    for section in sections:
        problems: dict[str, list[str]] = {}
        if section.get("marking") == Section.Marking.FIXED and not section.get("correct_marks"):
            problems["correct_marks"] = ["Fixed marking needs the marks for a correct answer."]
        fraction = section.get("negative_fraction") or Decimal("0")
        if not Decimal("0") <= fraction <= Decimal("1"):
            problems["negative_fraction"] = ["A fraction between 0 and 1, e.g. 0.3333."]
        if (section.get("wrong_penalty") or 0) < 0:
            problems["wrong_penalty"] = ["Give the penalty as a positive number."]
        if mode == Test.Mode.FIXED and section.get("rules"):
            problems["rules"] = ["A fixed test lists its questions; rules are for random tests."]
        if mode == Test.Mode.RANDOM and section.get("questions"):
            problems["questions"] = ["A random test draws by rules; list no questions."]
        for rule in section.get("rules", []):
            if rule.get("count", 0) <= 0:
                problems.setdefault("rules", []).append("Every rule draws at least one question.")
        question_ids = [row["question"].pk for row in section.get("questions", [])]
        if len(set(question_ids)) != len(question_ids):
            problems["questions"] = ["A question is listed twice."]
        section_errors.append(problems)
    for index, problems in enumerate(section_errors):
        for name, messages in problems.items():
            errors[f"sections.{index}.{name}"] = messages
    return errors


def _replace_sections(test: Test, sections: list[dict[str, Any]]) -> None:
    test.sections.all().delete()
    for index, data in enumerate(sections):
        section = Section.objects.create(
            test=test,
            **{name: data[name] for name in SECTION_FIELDS if name in data and name != "order"},
            order=data.get("order", index),
        )
        SectionRule.objects.bulk_create(
            SectionRule(
                section=section,
                order=position,
                **{name: rule[name] for name in RULE_FIELDS if name in rule},
            )
            for position, rule in enumerate(data.get("rules", []))
        )
        SectionQuestion.objects.bulk_create(
            SectionQuestion(
                section=section,
                order=position,
                question=row["question"],
                marks=row.get("marks"),
                negative_marks=row.get("negative_marks"),
            )
            for position, row in enumerate(data.get("questions", []))
        )


def _save_test(test: Test, values: dict[str, Any], sections: list[dict[str, Any]] | None) -> Test:
    merged = {name: getattr(test, name) for name in TEST_FIELDS} | values
    errors = _validate_test(merged, sections or [])
    if errors:
        raise TestInvalid(fields=errors)
    for name, value in values.items():
        setattr(test, name, value)
    if not test.slug:
        test.slug = slugify(test.title)[:200]
    if not test.slug:  # a title without a letter or digit makes no slug
        raise TestInvalid(fields={"slug": ["Give a slug (letters, digits, hyphens)."]})
    test.instructions_html = render_markdown(test.instructions_md)
    if Test.objects.exclude(pk=test.pk).filter(slug=test.slug).exists():
        raise TestInvalid(fields={"slug": ["A test with this slug already exists."]})
    try:
        with transaction.atomic():
            test.save()
            if sections is not None:
                _replace_sections(test, sections)
    except IntegrityError as exc:
        raise TestInvalid(f"The test could not be saved: {exc.__cause__}") from exc
    if test.is_published:
        report = test_check(test=test)
        if not report.ok:
            raise RulesUnfillable(
                "A published test must stay fillable; this change breaks it.",
                fields={"rules": report.shortfalls()},
            )
    return test


@transaction.atomic
def test_create(
    *,
    values: dict[str, Any],
    sections: list[dict[str, Any]],
    by: User | None = None,
    practice_owner: User | None = None,
) -> Test:
    """A new (unpublished) test with its sections, rules and fixed questions;
    ``practice_owner`` makes it that learner's personal practice test (never published)."""
    return _save_test(Test(created_by=by, practice_owner=practice_owner), values, sections)


@transaction.atomic
def test_update(
    *, test: Test, values: dict[str, Any], sections: list[dict[str, Any]] | None = None
) -> Test:
    """Change a test; ``sections`` (when given) replaces every section wholesale. Papers
    already generated are frozen and do not change. A published test stays fillable or
    the change is refused."""
    test = Test.objects.select_for_update().get(pk=test.pk)
    return _save_test(test, values, sections)


@transaction.atomic
def test_publish(*, test: Test) -> Test:
    """Publish, refusing (409, with the report) a test whose rules the bank cannot fill,
    and a learner's practice test (409: it stays theirs alone)."""
    test = Test.objects.select_for_update().get(pk=test.pk)
    if test.practice_owner_id is not None:
        raise PracticeNotPublishable()
    report = test_check(test=test)
    if not report.ok:
        raise RulesUnfillable(fields={"rules": report.shortfalls()})
    if not test.is_published:
        test.is_published = True
        test.published_at = test.published_at or timezone.now()
        test.save(update_fields=["is_published", "published_at", "updated_at"])
    return test


@transaction.atomic
def test_unpublish(*, test: Test) -> Test:
    test = Test.objects.select_for_update().get(pk=test.pk)
    if test.is_published:
        test.is_published = False
        test.save(update_fields=["is_published", "updated_at"])
    return test


# "test" is our domain's word for an exam; tell pytest these are not test functions when a
# test module imports them.
for _service in (test_check, test_create, test_update, test_publish, test_unpublish):
    _service.__test__ = False  # type: ignore[union-attr]
