"""Factories and helpers for program tests: a small curriculum with two tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalogue.models import Enrollment, Plan, Product
from programs.models import Milestone, MilestoneTest, Phase, Program, Track, TrackMilestone
from sessions_app import services as sessions
from testengine.models import Test
from testengine.paper import Paper
from tests.catalogue.factories import EnrollmentFactory, PlanFactory, ProductFactory
from tests.sessions_app.factories import sittable_test


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    product = factory.SubFactory(ProductFactory, kind=Product.Kind.PROGRAM, is_published=True)
    unlock_in_order = True


class PhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phase

    program = factory.SubFactory(ProgramFactory)
    title = factory.Sequence(lambda n: f"Phase {n}")
    order = factory.Sequence(lambda n: n)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    phase = factory.SubFactory(PhaseFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    description_md = "Do *this*."
    description_html = "<p>Do <em>this</em>.</p>"
    order = factory.Sequence(lambda n: n)
    target_week = 1


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    program = factory.SubFactory(ProgramFactory)
    plan = factory.SubFactory(PlanFactory, product=factory.SelfAttribute("..program.product"))


@dataclass
class Curriculum:
    program: Program
    quiz: Test  # pass mark 60 %
    warmup: Test  # no pass mark: any scored sitting passes
    first: Milestone  # the warm-up test, week 1
    second: Milestone  # the quiz, week 2 (3 on the long track)
    project: Milestone  # staff sign-off, week 4
    extra: Milestone  # optional, long track only
    short: Track
    long: Track

    @property
    def product(self) -> Product:
        return self.program.product

    def plan(self, track: Track) -> Plan:
        return track.plan


def curriculum(*, unlock_in_order: bool = True) -> Curriculum:
    program = ProgramFactory(unlock_in_order=unlock_in_order)
    learning = PhaseFactory(program=program, title="Learning", order=0)
    project_phase = PhaseFactory(program=program, title="Project", order=1)
    warmup = sittable_test()
    quiz = sittable_test(pass_mark_percent=Decimal("60"))
    first = MilestoneFactory(phase=learning, title="Warm up", order=0, target_week=1)
    MilestoneTest.objects.create(milestone=first, test=warmup)
    second = MilestoneFactory(phase=learning, title="Quiz", order=1, target_week=2)
    MilestoneTest.objects.create(milestone=second, test=quiz)
    project = MilestoneFactory(
        phase=project_phase, title="Project", order=0, target_week=4, requires_review=True
    )
    extra = MilestoneFactory(
        phase=project_phase,
        title="Stretch goal",
        order=1,
        target_week=6,
        requires_review=True,
        is_required=False,
    )
    short = TrackFactory(program=program, plan__name="1 month", plan__order=0)
    long = TrackFactory(
        program=program, plan__name="3 months", plan__order=1, plan__validity_days=90
    )
    for milestone in (first, second, project):
        TrackMilestone.objects.create(track=short, milestone=milestone)
    for milestone, week in ((first, None), (second, 3), (project, None), (extra, None)):
        TrackMilestone.objects.create(track=long, milestone=milestone, target_week=week)
    return Curriculum(program, quiz, warmup, first, second, project, extra, short, long)


def enrol(user, track: Track, *, days_ago: int = 0) -> Enrollment:
    starts = timezone.now() - timedelta(days=days_ago)
    return EnrollmentFactory(user=user, plan=track.plan, starts_at=starts)


def sit(user, test: Test, *, correct: bool = True):
    """A scored sitting: every answer right (or every one wrong)."""
    session, _ = sessions.session_start(user=user, test_slug=test.slug)
    paper = Paper.from_json(session.paper)
    for seq, question in enumerate(paper.questions, start=1):
        right = sorted(question.correct_choice_ids)
        wrong = [c.id for c in question.choices if c.id not in question.correct_choice_ids]
        answer = {"choices": right if correct else wrong[:1]}
        sessions.response_save(
            user=user, session_id=session.id, question_id=question.id, answer=answer, seq=seq
        )
    return sessions.session_submit(user=user, session_id=session.id)
