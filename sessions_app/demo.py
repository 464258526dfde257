"""Demo sittings: a few learners have sat the free PostgreSQL diagnostic, so results,
ranks and the leaderboard show real numbers under ``make run``. The demo learner's own
sitting is among them. Idempotent: learners who already sat it are left alone."""

from __future__ import annotations

import random
from typing import TextIO

from django.contrib.auth import get_user_model

from accounts.demo import DEMO_LEARNER
from sessions_app import services
from sessions_app.models import ExamSession
from testengine.models import Test
from testengine.paper import Paper

TEST_SLUG = "postgresql-diagnostic"
# (email, full name, share of questions answered correctly)
LEARNERS = [
    (DEMO_LEARNER["email"], None, 0.7),
    ("ananya.demo@examforge.local", "Ananya Rao", 0.9),
    ("vikram.demo@examforge.local", "Vikram Singh", 0.6),
    ("meera.demo@examforge.local", "Meera Iyer", 0.5),
    ("rohan.demo@examforge.local", "Rohan Das", 0.3),
]


def demo_answers(paper: Paper, share: float, rng: random.Random) -> dict[int, object]:
    """Answers to ``paper`` of which about ``share`` are right (a demo learner's sitting;
    also programs' demo milestones)."""
    answers: dict[int, object] = {}
    for question in paper.questions:
        right = rng.random() < share
        if question.choices:
            ids = sorted(question.correct_choice_ids)
            wrong = [c.id for c in question.choices if c.id not in question.correct_choice_ids]
            answers[question.id] = {"choices": ids if right or not wrong else [wrong[0]]}
        elif question.type == "numeric":
            value = question.numeric_answer if right else (question.numeric_answer or 0) + 1
            answers[question.id] = {"value": str(value)}
        else:
            answers[question.id] = {"text": question.accepted_answers[0] if right else "no idea"}
    return answers


def seed(out: TextIO) -> None:
    test = Test.objects.filter(slug=TEST_SLUG, is_published=True).first()
    if test is None:
        out.write("demo sittings: skipped (no published PostgreSQL diagnostic)\n")
        return
    users = get_user_model().objects
    rng = random.Random(2026)  # noqa: S311 - reproducible demo data, not security
    created = 0
    for email, name, share in LEARNERS:
        user = users.filter(email=email).first()
        if user is None:
            user = users.create_user(email=email, password=None, full_name=name or "")
        if ExamSession.objects.filter(user=user, test=test).exists():
            continue
        session, _ = services.session_start(user=user, test_slug=TEST_SLUG)
        paper = Paper.from_json(session.paper)
        for seq, (question_id, answer) in enumerate(demo_answers(paper, share, rng).items(), 1):
            services.response_save(
                user=user, session_id=session.id, question_id=question_id, answer=answer, seq=seq
            )
        services.session_submit(user=user, session_id=session.id)
        created += 1
    total = ExamSession.objects.filter(test=test, status="submitted").count()
    out.write(f"demo sittings: {total} submitted on {TEST_SLUG} ({created} new)\n")
