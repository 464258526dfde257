"""The programs back office: curriculum pages, the review queue, revoking certificates."""

from __future__ import annotations

import pytest

from programs import services
from programs.models import Certificate, ProjectSubmission
from tests.accounts.factories import StaffFactory, UserFactory
from tests.programs.factories import curriculum, enrol, sit

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/admin/programs/projectsubmission/"
CERTIFICATES = "/admin/programs/certificate/"


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def _waiting(c=None):
    c = c or curriculum(unlock_in_order=False)
    learner = UserFactory()
    enrol(learner, c.short)
    submission = services.submission_create(
        user=learner, product_slug=c.product.slug, milestone_id=c.project.pk, url="https://x.dev"
    )
    return c, learner, submission


def test_every_programs_page_renders(admin_client):
    c, _, submission = _waiting()
    pages = [
        "/admin/programs/program/",
        f"/admin/programs/program/{c.program.pk}/change/",
        "/admin/programs/program/add/",
        "/admin/programs/milestone/",
        f"/admin/programs/milestone/{c.project.pk}/change/",
        "/admin/programs/track/",
        f"/admin/programs/track/{c.long.pk}/change/",
        SUBMISSIONS,
        f"{SUBMISSIONS}?queue=all",
        f"{SUBMISSIONS}{submission.pk}/change/",
        f"{SUBMISSIONS}{submission.pk}/review/",
        CERTIFICATES,
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_the_queue_lists_waiting_submissions_and_accepting_completes_the_milestone(
    admin_client, superuser, django_capture_on_commit_callbacks
):
    c, learner, submission = _waiting()
    queue = admin_client.get(SUBMISSIONS)
    assert submission in queue.context["cl"].queryset

    response = admin_client.post(
        f"{SUBMISSIONS}{submission.pk}/review/", {"accept": "Accept", "comment": "Nice"}
    )

    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.reviewed_by) == ("accepted", superuser)
    assert submission not in admin_client.get(SUBMISSIONS).context["cl"].queryset
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, c.warmup)
        sit(learner, c.quiz)
    assert Certificate.objects.filter(user=learner).exists()  # the refresh after scoring


def test_asking_for_changes_needs_a_comment_and_a_second_review_is_refused(admin_client):
    _, _, submission = _waiting()
    url = f"{SUBMISSIONS}{submission.pk}/review/"

    empty = admin_client.post(url, {"changes": "Request changes", "comment": ""})
    submission.refresh_from_db()
    assert submission.status == ProjectSubmission.Status.SUBMITTED
    assert any("Say what needs to change" in str(m) for m in empty.context["messages"])

    admin_client.post(url, {"changes": "Request changes", "comment": "Add a README"})
    second = admin_client.post(url, {"accept": "Accept"}, follow=True)

    submission.refresh_from_db()
    assert (submission.status, submission.review_comment) == ("changes_requested", "Add a README")
    assert any("already been reviewed" in str(m) for m in second.context["messages"])


def test_staff_without_the_permission_cannot_review(client):
    _, _, submission = _waiting()
    client.force_login(StaffFactory())
    response = client.post(f"{SUBMISSIONS}{submission.pk}/review/", {"accept": "Accept"})
    assert response.status_code == 403
    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_revoking_a_certificate_from_the_admin(admin_client, superuser):
    c = curriculum()
    enrollment = enrol(UserFactory(), c.short)
    certificate = services.certificate_issue(
        enrollment=enrollment, track=c.short, at=enrollment.starts_at
    )
    url = f"{CERTIFICATES}{certificate.pk}/revoke/"

    found = admin_client.get(CERTIFICATES, {"q": certificate.code})
    blank = admin_client.post(url, {"reason": ""})
    done = admin_client.post(url, {"reason": "Issued by mistake"})

    assert list(found.context["cl"].queryset) == [certificate]
    assert blank.status_code == 200  # the form asks for a reason
    assert done.status_code == 302
    certificate.refresh_from_db()
    assert (certificate.revoke_reason, certificate.revoked_by) == ("Issued by mistake", superuser)


def test_a_track_takes_only_its_programs_plans_and_milestones(admin_client):
    from django.core.exceptions import ValidationError

    from programs.models import Track, TrackMilestone
    from tests.catalogue.factories import PlanFactory

    c, other = curriculum(), curriculum()
    foreign_plan = PlanFactory(product=other.product)

    with pytest.raises(ValidationError) as wrong_plan:
        Track(program=c.program, plan=foreign_plan).full_clean()
    with pytest.raises(ValidationError) as wrong_milestone:
        TrackMilestone(track=c.short, milestone=other.first).full_clean()

    assert "plan" in wrong_plan.value.message_dict
    assert "milestone" in wrong_milestone.value.message_dict
