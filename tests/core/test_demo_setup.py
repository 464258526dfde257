"""``manage.py demo_setup`` (``make run``): the database, the demo data and the banner in one
process."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_LEARNER
from accounts.models import User


@pytest.mark.django_db
def test_demo_setup_seeds_the_demo_and_ends_with_the_banner(settings):
    settings.DEBUG = True
    out = StringIO()

    call_command("demo_setup", "--url", "http://127.0.0.1:8765", stdout=out)

    output = out.getvalue()
    assert User.objects.filter(email=DEMO_LEARNER["email"]).exists()
    assert output.index("demo data: learning ready") < output.index("Examforge is starting")
    assert output.rstrip().endswith(
        "Ctrl-C stops the server, its background worker and the embedded PostgreSQL."
    )
    assert re.search(r"Health\s+http://127\.0\.0\.1:8765/healthz\n", output)
