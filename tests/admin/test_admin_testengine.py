"""The back office for the question bank and tests: every save goes through the services,
a wrong question cannot be saved, a published test stays fillable."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from testengine import services
from testengine.forms import ListField
from testengine.models import (
    Choice,
    Question,
    QuestionStatistics,
    Section,
    SectionRule,
    Test,
    Topic,
)
from tests.accounts.factories import StaffFactory
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

QUESTIONS = "/admin/testengine/question/"
QUESTION_ADD = "/admin/testengine/question/add/"
TESTS = "/admin/testengine/test/"
TEST_ADD = "/admin/testengine/test/add/"
TOPICS = "/admin/testengine/topic/"
TOPIC_ADD = "/admin/testengine/topic/add/"
USERS = "/admin/accounts/user/"
FOUR_CHOICES = [("Three", False), ("Four", True), ("Five", False), ("Twenty-two", False)]


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, email="boss@examforge.local")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def topic(db):
    return TopicFactory(name="Arithmetic", slug="arithmetic")


def _change_url(obj) -> str:
    return f"/admin/testengine/{obj._meta.model_name}/{obj.pk}/change/"


def _question_post(
    *,
    topic: Topic,
    type: str = "single",
    body: str = "What is *2 + 2*?",
    choices: list[tuple[str, bool]] | None = None,
    existing: list[Choice] | None = None,
    question: Question | None = None,
    **fields: str,
) -> dict[str, str]:
    """The add/change form as the browser posts it. ``existing`` rows (with their ids)
    come first, as the admin renders them; ``choices`` are new rows after them."""
    existing = existing or []
    new = choices or []
    data = {
        "type": type,
        "topic": str(topic.pk),
        "status": "draft",
        "difficulty": "medium",
        "tags": "",
        "external_id": "",
        "body_md": body,
        "explanation_md": "",
        "marks": "1",
        "negative_marks": "0",
        "numeric_answer": "",
        "numeric_tolerance": "0",
        "tolerance_kind": "absolute",
        "accepted_answers": "",
        "irt_a": "",
        "irt_b": "",
        "irt_c": "",
        "choices-TOTAL_FORMS": str(len(existing) + len(new)),
        "choices-INITIAL_FORMS": str(len(existing)),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "10",
        "_save": "Save",
    }
    rows = [(c.body_md, c.is_correct, c.pk) for c in existing] + [(t, ok, None) for t, ok in new]
    for index, (text, correct, pk) in enumerate(rows):
        data[f"choices-{index}-body_md"] = text
        data[f"choices-{index}-order"] = str(index)
        if correct:
            data[f"choices-{index}-is_correct"] = "on"
        if pk is not None:
            data[f"choices-{index}-id"] = str(pk)
            data[f"choices-{index}-question"] = str(question.pk)
    data.update(fields)
    return data


def _edit_post(question: Question, **fields: str) -> dict[str, str]:
    """The change form of a saved question, as rendered, with ``fields`` changed."""
    question.refresh_from_db()
    data = _question_post(
        topic=question.topic,
        type=question.type,
        body=question.body_md,
        existing=list(question.choices.all()),
        question=question,
        status=question.status,
        difficulty=question.difficulty,
        irt_a=str(question.irt_a),
        irt_b=str(question.irt_b),
        irt_c=str(question.irt_c),
    )
    data.update(fields)
    return data


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _form_errors(response) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


def _inline_errors(response) -> list[str]:
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    return list(formset.non_form_errors())


# --- pages render with a bounded number of queries ------------------------------------------


def _thirty_of_each() -> None:
    """30 topics in a three-level tree, 30 questions (half with statistics), 30 tests."""
    subject = TopicFactory(name="Mathematics")
    chapters = [TopicFactory(parent=subject) for _ in range(4)]
    topics = [TopicFactory(parent=chapters[index % 4]) for index in range(25)]
    for index in range(30):
        question = make_question(topic=topics[index % 25], tags=(f"tag-{index % 4}",))
        if index % 2:
            QuestionStatistics.objects.create(
                question=question, responses=10, facility=0.5, computed_at=timezone.now()
            )
    for _ in range(30):
        SectionFactory.create_batch(2, test=TestFactory())


@pytest.mark.parametrize(
    ("url", "max_queries"),
    [
        # session, user, two counts, the page (statistics and topics joined), the topic
        # and tag filters' choices
        (QUESTIONS, 7),
        # session, user, two counts, the page (sections counted in it)
        (TESTS, 5),
        # session, user, two counts, the page (two ancestors and questions counted in it)
        (TOPICS, 5),
    ],
)
def test_changelists_render_with_a_bounded_number_of_queries(
    admin_client, django_assert_max_num_queries, url, max_queries
):
    _thirty_of_each()

    with django_assert_max_num_queries(max_queries):
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_the_question_changelist_shows_statistics_or_a_dash(admin_client, topic):
    with_stats = make_question(topic=topic, body="Measured question")
    make_question(topic=topic, body="Fresh question")
    QuestionStatistics.objects.create(
        question=with_stats,
        responses=120,
        facility=0.625,
        discrimination=0.41,
        computed_at=timezone.now(),
    )

    response = admin_client.get(QUESTIONS)

    page = response.content.decode()
    assert '<td class="field-responses">120</td>' in page
    assert '<td class="field-facility">0.62</td>' in page
    assert '<td class="field-discrimination">0.41</td>' in page
    assert '<td class="field-responses">—</td>' in page


def test_the_tag_and_statistics_filters_narrow_the_list(admin_client, topic):
    tagged = make_question(topic=topic, tags=("kinematics", "jee"))
    other = make_question(topic=topic, tags=("optics",))
    QuestionStatistics.objects.create(question=other, responses=3, computed_at=timezone.now())

    by_tag = admin_client.get(QUESTIONS, {"tag": "kinematics"})
    measured = admin_client.get(QUESTIONS, {"has_statistics": "yes"})
    unmeasured = admin_client.get(QUESTIONS, {"has_statistics": "no"})

    assert [q.pk for q in by_tag.context["cl"].result_list] == [tagged.pk]
    assert [q.pk for q in measured.context["cl"].result_list] == [other.pk]
    assert [q.pk for q in unmeasured.context["cl"].result_list] == [tagged.pk]
    (tag_filter,) = [
        spec
        for spec in by_tag.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "tag"
    ]
    assert [value for value, _label in tag_filter.lookup_choices] == ["jee", "kinematics", "optics"]


def test_search_finds_questions_by_body_and_external_id(admin_client, topic):
    by_body = make_question(topic=topic, body="Which gas do plants absorb?")
    by_id = make_question(topic=topic, external_id="NCERT-7-12")

    body_hit = admin_client.get(QUESTIONS, {"q": "plants absorb"})
    id_hit = admin_client.get(QUESTIONS, {"q": "NCERT-7-12"})

    assert [q.pk for q in body_hit.context["cl"].result_list] == [by_body.pk]
    assert [q.pk for q in id_hit.context["cl"].result_list] == [by_id.pk]


@pytest.mark.parametrize("url", [QUESTION_ADD, TEST_ADD, TOPIC_ADD])
def test_add_pages_render(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 200


def test_change_pages_render(admin_client, topic):
    question = make_question(topic=topic)
    QuestionStatistics.objects.create(
        question=question, responses=7, facility=0.25, computed_at=timezone.now()
    )
    section = SectionFactory()
    SectionRuleFactory(section=section, topic=topic, count=1)
    fixed = SectionFactory(test=TestFactory(mode=Test.Mode.FIXED))
    SectionQuestionFactory(section=fixed, question=question)

    for obj in (question, topic, section.test, section, fixed):
        response = admin_client.get(_change_url(obj))
        assert response.status_code == 200, obj
    question_page = admin_client.get(_change_url(question)).content.decode()
    assert "<em>the</em>" in question_page  # the body preview
    assert "<th>Facility</th><td>0.25</td>" in question_page


def test_the_question_preview_shows_tex_as_mathml(admin_client, topic):
    question = make_question(topic=topic, body="Solve $x^2 = 4$.", explanation_md="$$x = \\pm 2$$")

    page = admin_client.get(_change_url(question)).content.decode()

    assert (
        '<div class="question-preview"><p>Solve '
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msup>'
    ) in page
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in page


def test_the_add_page_refuses_invalid_tex_with_its_position(admin_client, topic):
    response = admin_client.post(
        QUESTION_ADD,
        _question_post(topic=topic, body="Solve\n$\\fracc{1}{2}$", choices=FOUR_CHOICES),
    )

    assert response.status_code == 200
    assert _form_errors(response)["body_md"] == ["Line 2, column 2: unknown command \\fracc."]
    assert Question.objects.count() == 0


# --- questions: saving through the service -------------------------------------------------


def test_the_add_page_saves_a_single_choice_question_with_its_choices(
    admin_client, superuser, topic
):
    response = admin_client.post(
        QUESTION_ADD,
        _question_post(topic=topic, choices=FOUR_CHOICES, tags="Mental Maths, basics"),
    )

    assert response.status_code == 302, _form_errors(response)
    question = Question.objects.get()
    assert question.body_md == "What is *2 + 2*?"
    assert question.body_html == "<p>What is <em>2 + 2</em>?</p>"
    assert question.version == 1
    assert question.created_by == superuser
    assert question.tags == ["mental-maths", "basics"]
    # the service's cold-start estimate: 1 / 4 chance of guessing
    assert (question.irt_a, question.irt_b, question.irt_c) == (1.0, 0.0, 0.25)
    assert [(c.body_md, c.body_html, c.is_correct, c.order) for c in question.choices.all()] == [
        ("Three", "<p>Three</p>", False, 0),
        ("Four", "<p>Four</p>", True, 1),
        ("Five", "<p>Five</p>", False, 2),
        ("Twenty-two", "<p>Twenty-two</p>", False, 3),
    ]
    assert response["Location"] == QUESTIONS


def test_the_add_page_saves_a_numeric_question_without_choices(admin_client, topic):
    response = admin_client.post(
        QUESTION_ADD,
        _question_post(
            topic=topic,
            type="numeric",
            body="g in m/s²?",
            numeric_answer="9.81",
            numeric_tolerance="0.05",
        ),
    )

    assert response.status_code == 302, _form_errors(response)
    question = Question.objects.get()
    assert (question.type, question.numeric_answer) == ("numeric", Decimal("9.810000"))
    assert question.choices.count() == 0


def test_the_add_page_saves_a_text_question_with_one_answer_per_line(admin_client, topic):
    response = admin_client.post(
        QUESTION_ADD,
        _question_post(
            topic=topic,
            type="text",
            body="Name the database.",
            accepted_answers="PostgreSQL\r\n  postgres  \r\n\r\n",
        ),
    )

    assert response.status_code == 302, _form_errors(response)
    assert Question.objects.get().accepted_answers == ["PostgreSQL", "postgres"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"choices": [("Four", True), ("4", True), ("Five", False)]},
            "choices",
            "A single-choice question has exactly one correct choice (2 marked).",
        ),
        (
            {"choices": [("Four", False), ("Five", False), ("Six", False)]},
            "choices",
            "A single-choice question has exactly one correct choice (0 marked).",
        ),
        (
            {"type": "multiple", "choices": [("Four", False), ("Five", False)]},
            "choices",
            "Mark at least one choice correct.",
        ),
        (
            {"type": "numeric", "body": "How many?"},
            "numeric_answer",
            "A numeric question needs its answer.",
        ),
        (
            {"type": "text", "body": "Name it.", "accepted_answers": "  \r\n"},
            "accepted_answers",
            "A short-text question needs at least one accepted answer.",
        ),
        (
            {"body": "Hi <script>alert(1)</script>", "choices": FOUR_CHOICES},
            "body_md",
            "Remove the HTML that could run code ('<script'); use Markdown.",
        ),
        (
            {
                "type": "numeric",
                "body": "How many?",
                "choices": FOUR_CHOICES,
                "numeric_answer": "4",
            },
            "choices",
            "Only choice questions have choices.",
        ),
    ],
    ids=[
        "single-two-correct",
        "single-none-correct",
        "multiple-none-correct",
        "numeric-no-answer",
        "text-no-answers",
        "script-in-body",
        "numeric-with-choices",
    ],
)
def test_a_wrong_question_is_shown_again_with_the_error_and_nothing_is_saved(
    admin_client, topic, changes, field, message
):
    response = admin_client.post(QUESTION_ADD, _question_post(topic=topic, **changes))

    assert response.status_code == 200
    if field == "choices":
        assert _inline_errors(response) == [message]
        assert _form_errors(response) == {}
    else:
        assert _form_errors(response) == {field: [message]}
    assert message in html.unescape(response.content.decode())
    assert Question.objects.count() == 0
    assert Choice.objects.count() == 0


def test_a_duplicate_external_id_is_a_field_error(admin_client, topic):
    make_question(topic=topic, external_id="JEE-1")

    response = admin_client.post(
        QUESTION_ADD, _question_post(topic=topic, choices=FOUR_CHOICES, external_id="JEE-1")
    )

    assert response.status_code == 200
    assert list(_form_errors(response)) == ["external_id"]
    assert Question.objects.count() == 1


def test_editing_the_body_bumps_the_version_and_keeps_the_choices(admin_client, topic):
    question = make_question(topic=topic, status=Question.Status.DRAFT)
    choice_ids = [c.pk for c in question.choices.all()]

    response = admin_client.post(
        _change_url(question), _edit_post(question, body_md="What is **6 × 7**?")
    )

    assert response.status_code == 302, _form_errors(response)
    question.refresh_from_db()
    assert question.version == 2
    assert question.body_html == "<p>What is <strong>6 × 7</strong>?</p>"
    assert [c.pk for c in question.choices.all()] == choice_ids


def test_editing_only_the_difficulty_keeps_the_version(admin_client, topic):
    question = make_question(topic=topic)

    response = admin_client.post(_change_url(question), _edit_post(question, difficulty="hard"))

    assert response.status_code == 302, _form_errors(response)
    question.refresh_from_db()
    assert (question.difficulty, question.version) == ("hard", 1)


def test_deleting_and_adding_choices_on_the_change_page(admin_client, topic):
    question = make_question(topic=topic)
    alpha, beta, gamma, delta = question.choices.all()
    data = _edit_post(question)
    data["choices-3-DELETE"] = "on"  # delta goes
    data.update(
        {
            "choices-TOTAL_FORMS": "5",
            "choices-4-body_md": "Epsilon",
            "choices-4-order": "9",
        }
    )

    response = admin_client.post(_change_url(question), data)

    assert response.status_code == 302, (_form_errors(response), _inline_errors(response))
    question.refresh_from_db()
    assert [c.body_md for c in question.choices.all()] == ["Alpha", "Beta", "Gamma", "Epsilon"]
    assert [c.pk for c in question.choices.all()][:3] == [alpha.pk, beta.pk, gamma.pk]
    assert not Choice.objects.filter(pk=delta.pk).exists()
    assert question.version == 2


def test_an_edit_that_breaks_the_question_changes_nothing(admin_client, topic):
    question = make_question(topic=topic)
    data = _edit_post(question, body_md="A new body")
    data["choices-1-is_correct"] = "on"  # now two correct answers

    response = admin_client.post(_change_url(question), data)

    assert response.status_code == 200
    assert _inline_errors(response) == [
        "A single-choice question has exactly one correct choice (2 marked)."
    ]
    question.refresh_from_db()
    assert question.body_md.startswith("Question ")
    assert question.version == 1
    assert [c.is_correct for c in question.choices.all()] == [True, False, False, False]


# --- questions: the free practice pool ------------------------------------------------------


def test_the_free_practice_pool_actions_keep_published_tests_fillable(admin_client, topic):
    questions = [make_question(topic=topic) for _ in range(4)]
    test = TestFactory()
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=3)
    services.test_publish(test=test)

    moved = admin_client.post(
        QUESTIONS,
        {"action": "add_to_free_practice", "_selected_action": [str(questions[0].pk)]},
        follow=True,
    )
    refused = admin_client.post(
        QUESTIONS,
        {"action": "add_to_free_practice", "_selected_action": [str(questions[1].pk)]},
        follow=True,
    )
    back = admin_client.post(
        QUESTIONS,
        {"action": "remove_from_free_practice", "_selected_action": [str(questions[0].pk)]},
        follow=True,
    )

    assert _messages(moved) == ["Moved 1 question(s) into the free practice pool."]
    assert _messages(refused)[0].startswith(
        "This change would leave published tests unable to build a paper."
    )
    assert _messages(back) == ["Moved 1 question(s) out of the free practice pool."]
    assert not Question.objects.filter(free_practice=True).exists()
    filtered = admin_client.get(QUESTIONS, {"free_practice__exact": "1"})
    assert filtered.status_code == 200


# --- questions: bulk status actions ----------------------------------------------------------


def test_bulk_publish_and_retire(admin_client, topic):
    drafts = [make_question(topic=topic, status=Question.Status.DRAFT) for _ in range(3)]
    untouched = make_question(topic=topic, status=Question.Status.DRAFT)

    published = admin_client.post(
        QUESTIONS,
        {"action": "publish_selected", "_selected_action": [str(q.pk) for q in drafts]},
        follow=True,
    )
    retired = admin_client.post(
        QUESTIONS,
        {"action": "retire_selected", "_selected_action": [str(drafts[0].pk)]},
        follow=True,
    )

    assert _messages(published) == ["Published 3 question(s)."]
    assert _messages(retired) == ["Retired 1 question(s)."]
    statuses = dict(Question.objects.values_list("pk", "status"))
    assert statuses == {
        drafts[0].pk: "retired",
        drafts[1].pk: "published",
        drafts[2].pk: "published",
        untouched.pk: "draft",
    }
    assert Question.objects.get(pk=drafts[1].pk).published_at is not None


def test_move_to_draft_counts_only_questions_that_changed(admin_client, topic):
    published = make_question(topic=topic)
    draft = make_question(topic=topic, status=Question.Status.DRAFT)

    response = admin_client.post(
        QUESTIONS,
        {"action": "move_to_draft", "_selected_action": [str(published.pk), str(draft.pk)]},
        follow=True,
    )

    assert _messages(response) == ["Moved to draft 1 question(s)."]
    assert set(Question.objects.values_list("status", flat=True)) == {"draft"}


# --- topics ----------------------------------------------------------------------------------


def test_the_topic_list_shows_the_path_and_question_counts(admin_client):
    physics = TopicFactory(name="Physics")
    mechanics = TopicFactory(name="Mechanics", parent=physics)
    kinematics = TopicFactory(name="Kinematics", parent=mechanics)
    projectiles = TopicFactory(name="Projectiles", parent=kinematics)
    make_question(topic=kinematics)
    make_question(topic=kinematics)

    response = admin_client.get(TOPICS, {"q": "Kinematics"})

    page = response.content.decode()
    assert '<td class="field-path">Physics › Mechanics › Kinematics</td>' in page
    assert '<td class="field-question_count">2</td>' in page
    deep = admin_client.get(TOPICS, {"q": "Projectiles"}).content.decode()
    assert '<td class="field-path">… › Mechanics › Kinematics › Projectiles</td>' in deep
    assert projectiles.pk


def test_the_topic_add_page_saves_through_the_service(admin_client, topic):
    response = admin_client.post(
        TOPIC_ADD,
        {"name": " Fractions ", "slug": "fractions", "parent": str(topic.pk), "order": "0"},
    )

    assert response.status_code == 302, _form_errors(response)
    created = Topic.objects.get(slug="fractions")
    assert (created.name, created.parent) == ("Fractions", topic)


def test_a_topic_cannot_move_under_its_own_subtopic(admin_client, topic):
    child = TopicFactory(name="Fractions", parent=topic)

    response = admin_client.post(
        _change_url(topic),
        {"name": topic.name, "slug": topic.slug, "parent": str(child.pk), "order": "0"},
    )

    assert response.status_code == 200
    assert _form_errors(response) == {
        "parent": ["A topic cannot sit under itself or its own subtopic."]
    }
    topic.refresh_from_db()
    assert topic.parent is None


# --- tests: availability, preview, publishing -----------------------------------------------


@pytest.fixture
def bank(topic):
    """Three published questions in the topic, one draft, one retired."""
    published = [make_question(topic=topic) for _ in range(3)]
    make_question(topic=topic, status=Question.Status.DRAFT)
    make_question(topic=topic, status=Question.Status.RETIRED)
    return published


@pytest.fixture
def short_test(topic, bank):
    """Needs 5 questions of the topic; the bank has 3 published ones."""
    test = TestFactory(title="Short test", slug="short-test")
    section = SectionFactory(test=test, title="Arithmetic part")
    SectionRuleFactory(section=section, topic=topic, count=5)
    return test


@pytest.fixture
def fillable_test(topic, bank):
    test = TestFactory(title="Fillable test", slug="fillable-test")
    section = SectionFactory(test=test, title="Warm-up")
    SectionRuleFactory(section=section, topic=topic, count=2)
    return test


def test_the_test_page_shows_how_many_questions_each_rule_can_draw(admin_client, short_test):
    response = admin_client.get(_change_url(short_test))

    page = response.content.decode()
    assert (
        '<tr class="short"><td>Arithmetic part</td><td>5 from Arithmetic</td>'
        "<td>5</td><td>3</td><td>short by 2</td></tr>"
    ) in page
    assert "The bank cannot fill this test." in page


def test_the_test_page_shows_problems_with_escaped_titles(admin_client, topic, bank):
    test = TestFactory(title="Empty test")
    SectionFactory(test=test, title="<b>Bold</b> part")

    page = admin_client.get(_change_url(test)).content.decode()

    assert "Section “&lt;b&gt;Bold&lt;/b&gt; part” has no rules." in page
    assert "<b>Bold</b> part" not in page


def test_a_fillable_test_reads_ok(admin_client, fillable_test):
    page = admin_client.get(_change_url(fillable_test)).content.decode()

    assert (
        '<tr class="ok"><td>Warm-up</td><td>2 from Arithmetic</td>'
        "<td>2</td><td>3</td><td>ok</td></tr>"
    ) in page
    assert "Every rule can be filled." in page


def test_the_preview_renders_a_sample_paper_with_the_answer_key(admin_client, fillable_test):
    url = f"/admin/testengine/test/{fillable_test.pk}/preview/"

    response = admin_client.get(url, {"seed": "7"})
    again = admin_client.get(url, {"seed": "7"})

    assert response.status_code == 200
    paper = response.context["paper"]
    assert len(paper.questions) == 2
    page = response.content.decode()
    for question in paper.questions:
        assert question.body_html in page  # rendered, not escaped
    assert page.count('<li class="correct">') == 2
    assert [q.id for q in again.context["paper"].questions] == [q.id for q in paper.questions]


def test_the_preview_of_an_unfillable_test_says_why(admin_client, short_test):
    response = admin_client.get(f"/admin/testengine/test/{short_test.pk}/preview/")

    assert response.status_code == 200
    assert response.context["paper"] is None
    section = short_test.sections.get()
    expected = f"Section {section.pk}: not enough published questions match (3 of 5)."
    assert response.context["problem"] == expected
    assert expected in response.content.decode()


def test_the_publish_action_refuses_an_unfillable_test(admin_client, short_test):
    response = admin_client.post(
        TESTS, {"action": "publish", "_selected_action": [str(short_test.pk)]}, follow=True
    )

    assert _messages(response) == [
        "“Short test” was not published: Section “Arithmetic part”: 5 from Arithmetic needs 5, "
        "3 available."
    ]
    short_test.refresh_from_db()
    assert (short_test.is_published, short_test.published_at) == (False, None)


def test_the_publish_action_publishes_a_fillable_test_and_unpublish_reverts(
    admin_client, fillable_test, short_test
):
    published = admin_client.post(
        TESTS,
        {"action": "publish", "_selected_action": [str(fillable_test.pk), str(short_test.pk)]},
        follow=True,
    )

    assert len(_messages(published)) == 2
    assert "Published 1 test(s)." in _messages(published)
    assert set(Test.objects.filter(is_published=True)) == {fillable_test}

    admin_client.post(TESTS, {"action": "unpublish", "_selected_action": [str(fillable_test.pk)]})

    fillable_test.refresh_from_db()
    assert fillable_test.is_published is False


def _test_post(test: Test, sections: list[Section], **fields: str) -> dict[str, str]:
    data = {
        "title": test.title,
        "slug": test.slug,
        "mode": test.mode,
        "instructions_md": test.instructions_md,
        "duration_seconds": str(test.duration_seconds),
        "available_from_0": "",
        "available_from_1": "",
        "available_until_0": "",
        "available_until_1": "",
        "max_attempts": "",
        "min_gap_seconds": "0",
        "attempt_policy": "highest",
        "navigation": "free",
        "pass_mark_percent": "",
        "solution_policy": "after_submit",
        "on_time_up": "submit",
        "adaptive_config": "{}",
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(len(sections)),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, section in enumerate(sections):
        data.update(
            {
                f"sections-{index}-id": str(section.pk),
                f"sections-{index}-test": str(test.pk),
                f"sections-{index}-title": section.title,
                f"sections-{index}-order": str(section.order),
                f"sections-{index}-duration_seconds": "",
                f"sections-{index}-marking": section.marking,
                f"sections-{index}-correct_marks": "",
                f"sections-{index}-wrong_penalty": "0",
                f"sections-{index}-unattempted_marks": "0",
                f"sections-{index}-negative_fraction": "0",
            }
        )
    data.update(fields)
    return data


def test_the_test_add_page_saves_through_the_service_with_a_section(admin_client, superuser):
    data = _test_post(
        Test(title="Mock 1", slug="mock-1", mode="random", duration_seconds=1800),
        [],
        instructions_md="Read **carefully**.",
    )
    data.update(
        {
            "sections-TOTAL_FORMS": "1",
            "sections-INITIAL_FORMS": "0",
            "sections-0-title": "Part A",
            "sections-0-order": "0",
            "sections-0-marking": "fixed",
            "sections-0-correct_marks": "4",
            "sections-0-wrong_penalty": "1",
            "sections-0-unattempted_marks": "0",
            "sections-0-negative_fraction": "0",
        }
    )

    response = admin_client.post(TEST_ADD, data)

    assert response.status_code == 302, _form_errors(response)
    test = Test.objects.get(slug="mock-1")
    assert test.instructions_html == "<p>Read <strong>carefully</strong>.</p>"
    assert (test.created_by, test.is_published) == (superuser, False)
    assert list(test.sections.values_list("title", "marking", "correct_marks")) == [
        ("Part A", "fixed", Decimal("4.00"))
    ]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"instructions_md": "<script>x</script>"}, "instructions_md", None),
        ({"duration_seconds": "0"}, "duration_seconds", "The test needs a positive duration."),
        ({"pass_mark_percent": "120"}, "pass_mark_percent", None),
        (
            {
                "available_from_0": "2030-01-02",
                "available_from_1": "10:00",
                "available_until_0": "2030-01-01",
                "available_until_1": "10:00",
            },
            "available_until",
            "The window must close after it opens.",
        ),
    ],
)
def test_a_wrong_test_is_a_field_error_and_changes_nothing(
    admin_client, fillable_test, fields, field, message
):
    sections = list(fillable_test.sections.all())

    response = admin_client.post(
        _change_url(fillable_test), _test_post(fillable_test, sections, **fields)
    )

    assert response.status_code == 200
    errors = _form_errors(response)
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    fillable_test.refresh_from_db()
    assert fillable_test.duration_seconds == 3600


def test_fixed_marking_without_marks_is_a_field_error_on_the_section_row(
    admin_client, fillable_test
):
    sections = list(fillable_test.sections.all())
    data = _test_post(fillable_test, sections, **{"sections-0-marking": "fixed"})

    response = admin_client.post(_change_url(fillable_test), data)

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.errors[0] == {
        "correct_marks": ["Fixed marking needs the marks for a correct answer."]
    }
    assert Section.objects.get().marking == "question"


def test_a_published_test_cannot_lose_its_only_section(admin_client, fillable_test):
    services.test_publish(test=fillable_test)
    sections = list(fillable_test.sections.all())
    data = _test_post(fillable_test, sections, **{"sections-0-DELETE": "on", "title": "Renamed"})

    response = admin_client.post(_change_url(fillable_test), data, follow=True)

    assert _messages(response) == [
        "Nothing was saved. A published test must stay fillable; this change breaks it "
        "(unpublish it first to rework it). rules: The test has no sections."
    ]
    fillable_test.refresh_from_db()
    assert (fillable_test.title, fillable_test.is_published) == ("Fillable test", True)
    assert fillable_test.sections.count() == 1


def test_editing_a_published_test_that_stays_fillable_saves(admin_client, fillable_test):
    services.test_publish(test=fillable_test)
    sections = list(fillable_test.sections.all())

    response = admin_client.post(
        _change_url(fillable_test), _test_post(fillable_test, sections, title="Renamed")
    )

    assert response.status_code == 302, _form_errors(response)
    fillable_test.refresh_from_db()
    assert (fillable_test.title, fillable_test.is_published) == ("Renamed", True)


def _section_post(section: Section, rules: list[SectionRule], **fields: str) -> dict[str, str]:
    data = {
        "title": section.title,
        "order": str(section.order),
        "instructions": "",
        "duration_seconds": "",
        "marking": section.marking,
        "correct_marks": "",
        "wrong_penalty": "0",
        "unattempted_marks": "0",
        "negative_fraction": "0",
        "rules-TOTAL_FORMS": str(len(rules)),
        "rules-INITIAL_FORMS": str(len(rules)),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, rule in enumerate(rules):
        data.update(
            {
                f"rules-{index}-id": str(rule.pk),
                f"rules-{index}-section": str(section.pk),
                f"rules-{index}-topic": str(rule.topic_id or ""),
                f"rules-{index}-include_subtopics": "on" if rule.include_subtopics else "",
                f"rules-{index}-difficulty": rule.difficulty,
                f"rules-{index}-question_type": rule.question_type,
                f"rules-{index}-tags": ", ".join(rule.tags),
                f"rules-{index}-count": str(rule.count),
                f"rules-{index}-order": str(rule.order),
            }
        )
    data.update(fields)
    return data


def test_the_section_page_shows_its_rules_availability_and_saves_rule_changes(
    admin_client, fillable_test
):
    section = fillable_test.sections.get()
    rule = section.rules.get()

    page = admin_client.get(_change_url(section)).content.decode()
    response = admin_client.post(
        _change_url(section), _section_post(section, [rule], **{"rules-0-count": "3"})
    )

    assert "<td>2</td><td>3</td><td>ok</td>" in page
    assert response.status_code == 302, _form_errors(response)
    rule.refresh_from_db()
    assert rule.count == 3


def test_the_section_page_saves_with_the_blank_extra_rule_row_a_browser_sends(
    admin_client, fillable_test
):
    """The page renders one blank "add a rule" row; a browser posts it untouched (tags
    empty, include_subtopics ticked, order 0) and it must be ignored, not validated."""
    section = fillable_test.sections.get()
    rule = section.rules.get()
    blank = {
        "rules-1-id": "",
        "rules-1-section": str(section.pk),
        "rules-1-topic": "",
        "rules-1-include_subtopics": "on",
        "rules-1-difficulty": "",
        "rules-1-question_type": "",
        "rules-1-tags": "",
        "rules-1-count": "",
        "rules-1-order": "0",
    }
    data = _section_post(section, [rule], **{"rules-0-count": "3", **blank})
    data["rules-TOTAL_FORMS"] = "2"

    response = admin_client.post(_change_url(section), data)

    assert response.status_code == 302, _form_errors(response) or _inline_errors(response)
    rule.refresh_from_db()
    assert rule.count == 3
    assert section.rules.count() == 1


def test_a_list_field_left_empty_is_unchanged():
    field = ListField(separator=r",", joiner=", ")
    assert not field.has_changed(None, "")
    assert not field.has_changed([], " , ")
    assert not field.has_changed(["a", "b"], "a, b")
    assert field.has_changed(["a"], "a, b")
    assert field.has_changed(None, "a")


def test_a_rule_change_that_starves_a_published_test_is_rolled_back(admin_client, fillable_test):
    services.test_publish(test=fillable_test)
    section = fillable_test.sections.get()
    rule = section.rules.get()

    response = admin_client.post(
        _change_url(section),
        _section_post(section, [rule], title="Renamed", **{"rules-0-count": "4"}),
        follow=True,
    )

    assert _messages(response) == [
        "Nothing was saved. A published test must stay fillable; this change breaks it "
        "(unpublish it first to rework it). rules: Section “Renamed”: 4 from Arithmetic needs 4, "
        "3 available."
    ]
    rule.refresh_from_db()
    section.refresh_from_db()
    assert (rule.count, section.title) == (2, "Warm-up")


# --- staff groups ----------------------------------------------------------------------------


def test_the_staff_groups_exist_with_their_permissions(db):
    editors = Group.objects.get(name="Content editors")
    finance = Group.objects.get(name="Finance")

    editor_perms = {f"{p.content_type.app_label}.{p.codename}" for p in editors.permissions.all()}
    assert "testengine.add_question" in editor_perms
    assert "testengine.delete_sectionrule" in editor_perms
    assert "testengine.view_questionstatistics" in editor_perms
    assert "testengine.change_questionstatistics" not in editor_perms
    assert len(editor_perms) == 7 * 4 + 1
    finance_perms = {f"{p.content_type.app_label}.{p.codename}" for p in finance.permissions.all()}
    assert "accounts.view_user" in finance_perms
    assert not any(perm.startswith("testengine.") for perm in finance_perms)


def test_a_content_editor_can_add_questions_but_not_see_users(client, topic):
    editor = StaffFactory(email="editor@examforge.local")
    editor.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(editor)

    add_page = client.get(QUESTION_ADD)
    saved = client.post(QUESTION_ADD, _question_post(topic=topic, choices=FOUR_CHOICES))
    users = client.get(USERS)

    assert add_page.status_code == 200
    assert saved.status_code == 302
    assert Question.objects.get().created_by == editor
    assert users.status_code == 403


def test_finance_staff_can_view_users_but_not_questions(db, client):
    clerk = StaffFactory(email="finance@examforge.local")
    clerk.groups.add(Group.objects.get(name="Finance"))
    client.force_login(clerk)

    assert client.get(USERS).status_code == 200
    assert client.get(QUESTIONS).status_code == 403
