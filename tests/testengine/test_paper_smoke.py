import pytest

from testengine.paper import Paper, generate_paper
from testengine.scoring import score
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db


def test_a_random_paper_is_reproducible_and_scores_full_marks_for_the_key():
    topic = TopicFactory()
    for _ in range(20):
        make_question(topic=topic)
    test = TestFactory()
    section = SectionFactory(test=test)
    SectionRuleFactory(section=section, topic=topic, count=8)

    paper = generate_paper(test, seed=7)
    again = generate_paper(test, seed=7)
    key = {q.id: {"choices": sorted(q.correct_choice_ids)} for q in paper.questions}
    result = score(paper, key)

    assert paper == again
    assert len({q.id for q in paper.questions}) == 8
    assert result.score == result.max_score == 8
    assert Paper.from_json(paper.to_json()) == paper
