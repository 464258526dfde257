"""The demo program: the Backend Engineering Internship Program's curriculum (a learning
phase of tests, a project phase with staff sign-off) and its three tracks sharing
milestones; the demo learner part-way through the 3-month track, Vikram's project proposal
waiting in the review queue, and Ananya's certificate for the 1-month track. Everything
goes through the services (sittings are really sat and scored). Idempotent."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.demo import DEMO_LEARNER, DEMO_STAFF
from catalogue.demo import DJANGO_QUIZ, MOCK_TEST, PG_DIAGNOSTIC, PROGRAM, SECURITY_DRILL
from catalogue.models import Enrollment, Product
from catalogue.services import enrollment_grant
from programs import services
from programs.models import (
    Certificate,
    Milestone,
    MilestoneTest,
    Phase,
    Program,
    ProjectSubmission,
    Track,
    TrackMilestone,
)
from sessions_app import services as sessions
from sessions_app import timing
from sessions_app.demo import demo_answers
from sessions_app.models import ExamSession
from testengine.models import Test
from testengine.paper import Paper

if TYPE_CHECKING:
    from accounts.models import User

# key: (phase, title, Markdown, default week, sign-off, tests)
MILESTONES = {
    "diagnostic": (
        "Learning",
        "Where you stand: the PostgreSQL diagnostic",
        "Sit the free diagnostic once; any score completes it — it tells you and your "
        "mentor where to start.",
        1,
        False,
        [PG_DIAGNOSTIC],
    ),
    "django": (
        "Learning",
        "Django fundamentals",
        "Models, the ORM, views and DRF serializers. Pass the quiz with 60 % or more.",
        2,
        False,
        [DJANGO_QUIZ],
    ),
    "security": (
        "Learning",
        "Web security drill",
        "Authentication, injection, CSRF and secrets, one question at a time.",
        3,
        False,
        [SECURITY_DRILL],
    ),
    "mock": (
        "Learning",
        "Full mock test",
        "The 2-hour, 100-question backend mock test in four timed sections. Pass mark 40 %.",
        4,
        False,
        [MOCK_TEST],
    ),
    "mini": (
        "Project",
        "Mini project: a CRUD API",
        "Build a small REST API with Django REST framework and tests; submit the repository link.",
        4,
        True,
        [],
    ),
    "proposal": (
        "Project",
        "Project proposal",
        "One page: the service you will build, its data model and API, and how you will "
        "test it. Submit a link to the document.",
        6,
        True,
        [],
    ),
    "build": (
        "Project",
        "Build the service",
        "Implement the proposal: PostgreSQL, tests in CI, OpenAPI docs. Submit the repository.",
        8,
        True,
        [],
    ),
    "ship": (
        "Project",
        "Deploy, load-test and present",
        "Deploy it, measure it under load and record a 10-minute walkthrough. Submit the links.",
        12,
        True,
        [],
    ),
}
# plan name → milestones in order with this track's week (None: the milestone's own)
TRACKS: dict[str, list[tuple[str, int | None]]] = {
    "1 month": [
        ("diagnostic", None),
        ("django", None),
        ("security", None),
        ("mock", None),
        ("mini", None),
    ],
    "2 months": [
        ("diagnostic", None),
        ("django", None),
        ("security", 3),
        ("mock", 5),
        ("proposal", None),
        ("build", None),
    ],
    "3 months": [
        ("diagnostic", None),
        ("django", 3),
        ("security", 5),
        ("mock", 7),
        ("proposal", 8),
        ("build", 10),
        ("ship", None),
    ],
}


def _curriculum(product: Product) -> Program:
    program, _ = Program.objects.get_or_create(product=product, defaults={"unlock_in_order": True})
    if program.phases.exists():
        return program
    phases = {
        title: Phase.objects.create(program=program, title=title, order=order, description=text)
        for order, (title, text) in enumerate(
            [
                ("Learning", "Tests on the four interview areas, in order."),
                ("Project", "Build something real; a mentor signs each step off."),
            ]
        )
    }
    milestones = {}
    for order, (key, (phase, title, text, week, review, tests)) in enumerate(MILESTONES.items()):
        milestone = services.milestone_save(
            milestone=Milestone(
                phase=phases[phase],
                title=title,
                description_md=text,
                order=order,
                target_week=week,
                requires_review=review,
            )
        )
        for position, slug in enumerate(tests):
            MilestoneTest.objects.create(
                milestone=milestone, test=Test.objects.get(slug=slug), order=position
            )
        milestones[key] = milestone
    plans = {plan.name: plan for plan in product.plans.all()}
    for name, entries in TRACKS.items():
        if name not in plans:
            continue
        track = Track.objects.create(program=program, plan=plans[name])
        TrackMilestone.objects.bulk_create(
            TrackMilestone(track=track, milestone=milestones[key], target_week=week)
            for key, week in entries
        )
    return program


def _learner(email: str, name: str) -> User:
    users = get_user_model().objects
    return users.filter(email=email).first() or users.create_user(
        email=email, password=None, full_name=name
    )


def _enrol(
    user: User, product: Product, plan_name: str, staff: User, *, days_ago: int
) -> Enrollment:
    enrollment = Enrollment.objects.filter(
        user=user, product=product, revoked_at__isnull=True
    ).first()
    if enrollment is None:
        plan = product.plans.get(name=plan_name)
        enrollment = enrollment_grant(user=user, product=product, by=staff, plan=plan)
        # The demo story started a while ago: due dates count from here.
        started = timezone.now() - timedelta(days=days_ago)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            starts_at=started,
            expires_at=started + timedelta(days=plan.validity_days or 365),
        )
        enrollment.refresh_from_db()
    return enrollment


def _sit(user: User, slug: str, share: float, rng: random.Random) -> None:
    """A scored sitting of ``slug`` unless the learner already has one (sectionally timed
    tests are sat section by section, as a learner would)."""
    if ExamSession.objects.filter(user=user, test__slug=slug, status="submitted").exists():
        return
    session, _ = sessions.session_start(user=user, test_slug=slug)
    paper = Paper.from_json(session.paper)
    answers = demo_answers(paper, share, rng)
    seq = 0
    for section in paper.sections:
        for question in section.questions:
            seq += 1
            sessions.response_save(
                user=user,
                session_id=session.id,
                question_id=question.id,
                answer=answers[question.id],
                seq=seq,
            )
        if section is not paper.sections[-1] and timing.is_sectional(session.paper):
            sessions.section_advance(user=user, session_id=session.id, section_id=section.id)
    sessions.session_submit(user=user, session_id=session.id)


def _submit_and_review(
    user: User, product: Product, key_title: str, url: str, staff: User, *, accept: bool | None
) -> None:
    milestone = Milestone.objects.get(phase__program__product=product, title=key_title)
    if ProjectSubmission.objects.filter(user=user, milestone=milestone).exists():
        return
    submission = services.submission_create(
        user=user, product_slug=product.slug, milestone_id=milestone.pk, url=url
    )
    if accept is not None:
        services.submission_review(
            submission_id=submission.pk,
            accept=accept,
            comment="Clean, tested and documented. Well done." if accept else "",
            by=staff,
        )


def seed(out: TextIO) -> None:
    product = Product.objects.filter(slug=PROGRAM).first()
    tests = [PG_DIAGNOSTIC, DJANGO_QUIZ, SECURITY_DRILL, MOCK_TEST]
    if product is None or Test.objects.filter(slug__in=tests, is_published=True).count() != 4:
        out.write("demo program: skipped (no internship program or its tests)\n")
        return
    _curriculum(product)
    users = get_user_model().objects
    staff: User = users.filter(email=DEMO_STAFF["email"]).first()  # type: ignore[assignment]  # seeded by accounts
    rng = random.Random(7)  # noqa: S311 - reproducible demo data, not security

    learner = users.filter(email=DEMO_LEARNER["email"]).first()
    if learner is not None:  # part-way through the 3-month track
        enrollment = _enrol(learner, product, "3 months", staff, days_ago=20)
        _sit(learner, PG_DIAGNOSTIC, 0.7, rng)
        _sit(learner, DJANGO_QUIZ, 0.9, rng)
        services.progress_refresh(enrollment=enrollment)

    vikram = _learner("vikram.demo@examforge.local", "Vikram Singh")  # waits for review
    enrollment = _enrol(vikram, product, "2 months", staff, days_ago=40)
    for slug in (PG_DIAGNOSTIC, DJANGO_QUIZ, SECURITY_DRILL, MOCK_TEST):
        _sit(vikram, slug, 0.95, rng)
    services.progress_refresh(enrollment=enrollment)
    _submit_and_review(
        vikram,
        product,
        "Project proposal",
        "https://docs.example.dev/vikram/url-shortener-proposal",
        staff,
        accept=None,
    )

    ananya = _learner("ananya.demo@examforge.local", "Ananya Rao")  # finished the 1-month track
    enrollment = _enrol(ananya, product, "1 month", staff, days_ago=26)
    for slug in (PG_DIAGNOSTIC, DJANGO_QUIZ, SECURITY_DRILL, MOCK_TEST):
        _sit(ananya, slug, 0.95, rng)
    services.progress_refresh(enrollment=enrollment)
    _submit_and_review(
        ananya,
        product,
        "Mini project: a CRUD API",
        "https://github.com/ananya-rao/bookshelf-api",
        staff,
        accept=True,
    )
    certificate = Certificate.objects.filter(user=ananya, track__plan=enrollment.plan_id).first()
    out.write(
        f"demo program: {product.title} — 3 tracks; the demo learner is part-way through "
        f"(GET /api/v1/me/programs/{product.slug}/); 1 project waiting for review; "
        + (
            f"sample certificate /certificates/{certificate.code}/\n"
            if certificate
            else "no certificate yet\n"
        )
    )
