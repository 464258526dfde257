"""Progress through a program: tracks, due dates, unlocking in order, tests passed by real
scored sittings, staff sign-off, and the certificate issued once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from catalogue import services as catalogue_services
from programs import selectors, services
from programs.errors import AlreadyReviewed, ProgramInvalid
from programs.models import Certificate, MilestoneCompletion, ProjectSubmission
from tests.accounts.factories import StaffFactory, UserFactory
from tests.programs.factories import curriculum, enrol, sit

pytestmark = pytest.mark.django_db


def _states(progress) -> dict[str, str]:
    return {m.milestone.title: m.state for m in progress.milestones}


def _accept(user, c, staff, *, milestone=None):
    milestone = milestone or c.project
    submission = services.submission_create(
        user=user, product_slug=c.product.slug, milestone_id=milestone.pk, url="https://x.dev/p"
    )
    return services.submission_review(submission_id=submission.pk, accept=True, by=staff)


def test_each_track_has_its_own_milestones_and_due_dates_from_the_enrollment_start():
    c = curriculum()
    learner = UserFactory()
    short = enrol(learner, c.short, days_ago=10)
    other = UserFactory()
    long = enrol(other, c.long, days_ago=0)

    short_progress = selectors.progress(enrollment=short)
    long_progress = selectors.progress(enrollment=long)

    assert [m.milestone.title for m in short_progress.milestones] == ["Warm up", "Quiz", "Project"]
    assert [m.milestone.title for m in long_progress.milestones] == [
        "Warm up",
        "Quiz",
        "Project",
        "Stretch goal",
    ]
    quiz_short, quiz_long = short_progress.milestones[1], long_progress.milestones[1]
    assert (quiz_short.target_week, quiz_long.target_week) == (2, 3)  # the track's override
    assert quiz_short.due_at == short.starts_at + timedelta(weeks=2)
    assert quiz_long.due_at == long.starts_at + timedelta(weeks=3)
    # the optional stretch goal does not count towards the percentage
    assert [m.milestone.title for m in long_progress.required] == ["Warm up", "Quiz", "Project"]


def test_milestones_unlock_in_order_and_a_passing_sitting_completes_one(
    django_capture_on_commit_callbacks,
):
    c = curriculum()
    learner = UserFactory()
    enrollment = enrol(learner, c.short)
    assert _states(selectors.progress(enrollment=enrollment)) == {
        "Warm up": "open",
        "Quiz": "locked",
        "Project": "locked",
    }

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup, correct=False)  # no pass mark: any scored sitting passes

    progress = selectors.progress(enrollment=enrollment)
    assert _states(progress) == {"Warm up": "done", "Quiz": "open", "Project": "locked"}
    assert progress.percent == 33
    assert progress.next.milestone == c.second


def test_a_failing_sitting_leaves_the_milestone_open_and_a_later_pass_completes_it(
    django_capture_on_commit_callbacks,
):
    c = curriculum()
    learner = UserFactory()
    enrollment = enrol(learner, c.short)
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup)
        sit(learner, c.quiz, correct=False)  # 0 % < 60 %

    quiz = selectors.progress(enrollment=enrollment).milestones[1]
    assert quiz.state == "open"
    assert (quiz.tests[0].passed, quiz.tests[0].best_percentage) == (False, 0)

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.quiz)

    quiz = selectors.progress(enrollment=enrollment).milestones[1]
    assert quiz.state == "done"
    assert quiz.tests[0].best_percentage == 100


def test_a_test_passed_before_its_milestone_unlocked_counts_once_it_unlocks(
    django_capture_on_commit_callbacks,
):
    c = curriculum()
    learner = UserFactory()
    enrollment = enrol(learner, c.short)
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.quiz)  # the quiz milestone is still locked
    assert MilestoneCompletion.objects.filter(user=learner).count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup)

    assert _states(selectors.progress(enrollment=enrollment))["Quiz"] == "done"


def test_without_unlocking_in_order_every_milestone_is_open():
    c = curriculum(unlock_in_order=False)
    enrollment = enrol(UserFactory(), c.short)

    states = _states(selectors.progress(enrollment=enrollment))

    assert set(states.values()) == {"open"}


def test_sign_off_submitted_changes_requested_resubmitted_and_accepted():
    c = curriculum(unlock_in_order=False)
    learner, staff = UserFactory(), StaffFactory()
    enrollment = enrol(learner, c.short)

    first = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev/1"
    )
    assert _states(selectors.progress(enrollment=enrollment))["Project"] == "submitted"
    services.submission_review(
        submission_id=first.pk, accept=False, comment="Add tests, please.", by=staff
    )
    state = selectors.progress(enrollment=enrollment).milestones[2]
    assert (state.state, state.submission.review_comment) == ("open", "Add tests, please.")

    second = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev/2"
    )
    services.submission_review(submission_id=second.pk, accept=True, by=staff)

    state = selectors.progress(enrollment=enrollment).milestones[2]
    assert state.state == "done"
    assert state.submission.pk == second.pk
    first.refresh_from_db()
    assert first.status == ProjectSubmission.Status.CHANGES_REQUESTED


def test_reviewing_twice_or_asking_for_changes_without_a_comment_changes_nothing():
    c = curriculum(unlock_in_order=False)
    learner, staff = UserFactory(), StaffFactory()
    enrol(learner, c.short)
    submission = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev/1"
    )

    with pytest.raises(ProgramInvalid) as no_comment:
        services.submission_review(submission_id=submission.pk, accept=False, by=staff)
    services.submission_review(submission_id=submission.pk, accept=True, by=staff)
    with pytest.raises(AlreadyReviewed):
        services.submission_review(
            submission_id=submission.pk, accept=False, comment="Changed my mind", by=staff
        )

    assert "comment" in no_comment.value.fields
    submission.refresh_from_db()
    assert (submission.status, submission.review_comment) == ("accepted", "")


def test_the_certificate_is_issued_once_when_every_required_milestone_is_done(
    django_capture_on_commit_callbacks,
):
    c = curriculum()
    learner, staff = UserFactory(full_name="Ananya Rao"), StaffFactory()
    enrollment = enrol(learner, c.long)
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup)
        sit(learner, c.quiz)
    assert not Certificate.objects.exists()

    _accept(learner, c, staff)  # the optional stretch goal is not needed
    services.progress_refresh(enrollment=enrollment)
    services.progress_refresh(enrollment=enrollment)

    certificate = Certificate.objects.get()
    assert (certificate.user, certificate.track) == (learner, c.long)
    assert certificate.learner_name == "Ananya Rao"
    assert certificate.track_name == "3 months"
    assert certificate.program_title == c.product.title
    assert selectors.normalise_code(certificate.code)  # a well-formed code
    assert selectors.progress(enrollment=enrollment).percent == 100


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_issue_one_certificate():
    c = curriculum(unlock_in_order=False)
    learner, staff = UserFactory(), StaffFactory()
    enrollment = enrol(learner, c.short)
    sit(learner, c.warmup)
    sit(learner, c.quiz)
    submission = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev/p"
    )
    ProjectSubmission.objects.filter(pk=submission.pk).update(
        status="accepted", reviewed_by=staff, reviewed_at=submission.created_at
    )
    barrier, errors = threading.Barrier(2), []

    def refresh() -> None:
        try:
            barrier.wait()
            services.progress_refresh(enrollment=enrollment)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Certificate.objects.filter(user=learner).count() == 1
    assert MilestoneCompletion.objects.filter(user=learner).count() == 3


def test_moving_to_a_longer_track_keeps_what_was_done(django_capture_on_commit_callbacks):
    c = curriculum()
    learner, staff = UserFactory(), StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = catalogue_services.enrollment_grant(
            user=learner, product=c.product, by=staff, plan=c.short.plan
        )
        sit(learner, c.warmup)
    assert _states(selectors.progress(enrollment=enrollment))["Warm up"] == "done"

    with django_capture_on_commit_callbacks(execute=True):
        enrollment = catalogue_services.enrollment_grant(
            user=learner, product=c.product, by=staff, plan=c.long.plan
        )

    progress = selectors.progress(enrollment=enrollment)
    assert progress.track == c.long
    assert _states(progress) == {
        "Warm up": "done",
        "Quiz": "open",
        "Project": "locked",
        "Stretch goal": "locked",
    }


def test_a_new_enrollment_records_tests_passed_before_buying(django_capture_on_commit_callbacks):
    c = curriculum()
    learner, staff = UserFactory(), StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup)  # e.g. the free diagnostic, sat before buying the program
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = catalogue_services.enrollment_grant(
            user=learner, product=c.product, by=staff, plan=c.short.plan
        )

    assert _states(selectors.progress(enrollment=enrollment))["Warm up"] == "done"


def test_progress_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    c = curriculum()
    learner = UserFactory()
    enrollment = enrol(learner, c.long)
    sit(learner, c.warmup)
    services.progress_refresh(enrollment=enrollment)

    with django_assert_max_num_queries(6):
        progress = selectors.progress(enrollment=enrollment)

    assert len(progress.milestones) == 4
