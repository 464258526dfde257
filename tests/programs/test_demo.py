"""seed_demo's program: three tracks sharing milestones, a learner part-way through, a
submission waiting for review, a sample certificate; twice is the same as once."""

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_LEARNER
from programs import selectors
from programs.models import Certificate, Milestone, Program, ProjectSubmission, Track


@pytest.mark.usefixtures("seeded_demo")  # the first seed_demo
def test_the_demo_program_tells_its_story_and_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    program = Program.objects.get()
    tracks = {t.plan.name: t.entries.count() for t in Track.objects.filter(program=program)}
    assert tracks == {"1 month": 5, "2 months": 6, "3 months": 7}
    assert Milestone.objects.filter(phase__program=program).count() == 8  # shared, not copied
    learner = selectors.program_enrollments(user=None).model.objects.get(
        user__email=DEMO_LEARNER["email"], product=program.product
    )
    progress = selectors.progress(enrollment=learner)
    assert 0 < progress.percent < 100
    assert progress.next is not None
    assert ProjectSubmission.objects.filter(status="submitted").count() == 1
    certificate = Certificate.objects.get()
    assert certificate.learner_name == "Ananya Rao"
    assert certificate.track_name == "1 month"
