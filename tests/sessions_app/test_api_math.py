"""TeX in a question reaches the learner as MathML: in the paper and in the review."""

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db

INLINE = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
BLOCK = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'


def test_the_paper_and_the_review_show_the_questions_math_as_mathml():
    test = sittable_test(
        questions=1,
        draw=1,
        question={
            "body": "How many moles of $H_2O$ does $$2H_2 + O_2 \\rightarrow 2H_2O$$ give?",
            "choices": [("$2$", True), ("$\\frac{1}{2}$", False)],
            "explanation_md": "Two, read from the coefficient: $n(H_2O) = 2$.",
        },
        solution_policy="after_submit",
    )
    client = APIClient()
    client.force_authenticate(UserFactory())
    session_id = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    base = f"/api/v1/sessions/{session_id}"

    paper = client.get(f"{base}/questions/").json()["questions"][0]
    client.post(f"{base}/submit/")
    review = client.get(f"{base}/review/").json()["questions"][0]

    for shown in (paper, review):
        assert shown["body_html"].startswith(f"<p>How many moles of {INLINE}")
        assert BLOCK in shown["body_html"]
        assert "$" not in shown["body_html"]
        assert sorted(c["body_html"][:80] for c in shown["choices"]) == [
            f"<p>{INLINE}<mrow><mfrac>"[:80],
            f"<p>{INLINE}<mrow><mn>2</mn></mrow></math></p>"[:80],
        ]
    assert review["explanation_html"].startswith(f"<p>Two, read from the coefficient: {INLINE}")
