from io import StringIO

import pytest

from accounts import demo as accounts_demo
from catalogue import demo as catalogue_demo
from sessions_app import demo as sessions_demo
from sessions_app import selectors
from sessions_app.models import ExamSession
from testengine import demo as testengine_demo

pytestmark = pytest.mark.django_db


def test_demo_sittings_are_seeded_once_and_ranked():
    for module in (accounts_demo, testengine_demo, catalogue_demo):
        module.seed(StringIO())

    first, second = StringIO(), StringIO()
    sessions_demo.seed(first)
    sessions_demo.seed(second)

    assert "5 submitted on postgresql-diagnostic (5 new)" in first.getvalue()
    assert "(0 new)" in second.getvalue()
    sittings = ExamSession.objects.filter(status="submitted")
    assert sittings.count() == 5
    assert len({s.score for s in sittings}) > 1  # different learners, different scores
    mine = sittings.get(user__email=accounts_demo.DEMO_LEARNER["email"])
    ranked = selectors.standing(test_id=mine.test_id, score=mine.score)
    assert ranked.candidates == 5
    assert ranked.rank is not None
