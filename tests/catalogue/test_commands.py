from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalogue.models import Enrollment
from tests.catalogue.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_refresh_drops_expired_enrollments_from_popularity():
    live = EnrollmentFactory()
    expired = EnrollmentFactory(plan=live.plan)
    Enrollment.objects.filter(pk=expired.pk).update(
        starts_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(days=10),
    )
    live.product.refresh_from_db()
    assert live.product.live_enrollments == 2  # stale: nothing was written when it lapsed

    out = StringIO()
    call_command("catalogue_refresh", stdout=out)

    live.product.refresh_from_db()
    assert live.product.live_enrollments == 1
    assert "refreshed 1 products" in out.getvalue()
