"""Item calibration: the MML/EM fit (pure), storing parameters, cold-start priors, and
``calibrate_items`` end to end over real scored sittings."""

import importlib
import threading
from datetime import timedelta

import numpy as np
import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from sessions_app import services as session_services
from sessions_app import tasks as session_tasks
from sessions_app.services import LOCK_NAME, calibrate_items
from testengine import services
from testengine.irt_fit import ResponseData, fit_items, responses_from_matrix
from testengine.models import Question
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import sittable_test
from tests.testengine.factories import make_question

# --- the fit (no database) -----------------------------------------------------------------------


def _simulate(seed, *, persons=1000, items=30, c=None):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(persons)
    a = np.exp(rng.normal(0.0, 0.3, items))
    b = rng.normal(0.0, 1.0, items)
    floor = np.zeros(items) if c is None else np.full(items, c)
    p = floor + (1 - floor) / (1 + np.exp(-a * (theta[:, None] - b)))
    return (rng.random((persons, items)) < p).astype(float), a, b


def test_the_fit_recovers_known_difficulties_and_discriminations():
    matrix, a, b = _simulate(7)

    result = fit_items(responses_from_matrix(matrix))

    assert result.converged
    assert not result.rasch.any()
    assert np.corrcoef(result.b, b)[0, 1] >= 0.95
    assert np.corrcoef(result.a, a)[0, 1] >= 0.7
    assert np.sqrt(np.mean((result.b - b) ** 2)) < 0.3
    assert result.responses.tolist() == [1000] * 30


def test_items_with_thin_data_are_fitted_as_rasch_items():
    matrix, _, b = _simulate(11, persons=600, items=12)
    matrix[200:, :4] = np.nan  # the first four items: 200 responses each

    result = fit_items(responses_from_matrix(matrix), rasch_below=300)

    assert result.rasch.tolist() == [True] * 4 + [False] * 8
    assert result.a[:4].tolist() == [1.0] * 4
    assert (result.a[4:] != 1.0).all()
    assert result.responses.tolist() == [200] * 4 + [600] * 8
    assert np.corrcoef(result.b, b)[0, 1] >= 0.9


def test_missing_responses_are_masked_not_counted_wrong():
    matrix, _, b = _simulate(3, persons=1200, items=20)
    rng = np.random.default_rng(4)
    hidden = rng.random(matrix.shape) < 0.4
    with_nan = np.where(hidden, np.nan, matrix)
    # A masked array whose hidden cells hold zeros: the zeros must not be read.
    masked = np.ma.MaskedArray(np.where(hidden, 0.0, matrix), mask=hidden)

    from_nan = fit_items(responses_from_matrix(with_nan))
    from_mask = fit_items(responses_from_matrix(masked))
    as_wrong = fit_items(responses_from_matrix(np.where(hidden, 0.0, matrix)))

    assert np.allclose(from_nan.b, from_mask.b)
    assert np.allclose(from_nan.a, from_mask.a)
    assert from_nan.responses.sum() == (~hidden).sum()
    assert np.corrcoef(from_nan.b, b)[0, 1] >= 0.95
    # Counting them wrong would make every item look much harder.
    assert as_wrong.b.mean() - from_nan.b.mean() > 0.5


def test_dense_and_sparse_sums_give_the_same_fit():
    matrix, _, _ = _simulate(5, persons=300, items=10)
    matrix[np.random.default_rng(6).random(matrix.shape) < 0.3] = np.nan
    data = responses_from_matrix(matrix)

    dense = fit_items(data, method="dense", rasch_below=150)
    sparse = fit_items(data, method="sparse", rasch_below=150)

    assert np.allclose(dense.a, sparse.a)
    assert np.allclose(dense.b, sparse.b)
    assert dense.iterations == sparse.iterations


def test_a_fixed_guessing_floor_is_held_and_b_recovered():
    matrix, _, b = _simulate(9, persons=2000, items=20, c=0.25)

    result = fit_items(responses_from_matrix(matrix), guessing=np.full(20, 0.25))

    assert result.c.tolist() == [0.25] * 20
    assert np.corrcoef(result.b, b)[0, 1] >= 0.9


@pytest.mark.parametrize(
    ("persons", "items", "correct", "message"),
    [
        ([0, 0], [1, 1], [True, False], "one response"),
        ([0], [5], [True], "out of range"),
        ([0, 1], [0], [True], "same length"),
    ],
)
def test_bad_response_data_is_refused(persons, items, correct, message):
    data = ResponseData(
        persons=np.array(persons),
        items=np.array(items),
        correct=np.array(correct),
        n_persons=2,
        n_items=2,
    )

    with pytest.raises(ValueError, match=message):
        fit_items(data)


# --- storing and priors --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_service_stores_fits_and_keeps_items_below_the_minimum():
    enough = make_question(difficulty="hard")
    thin = make_question(difficulty="easy")
    recalibrated_c = make_question()
    at = timezone.now() - timedelta(hours=1)

    stored = services.question_calibration_store(
        fits=[
            services.ItemFit(question_id=enough.pk, a=1.23456, b=0.5, c=0.25, responses=250),
            services.ItemFit(question_id=thin.pk, a=2.0, b=2.0, c=0.25, responses=199),
            services.ItemFit(question_id=recalibrated_c.pk, a=1.5, b=0.1, c=0.0, responses=900),
            services.ItemFit(question_id=10**9, a=1.0, b=0.0, c=0.0, responses=900),
        ],
        min_responses=200,
        at=at,
    )

    assert stored == services.CalibrationStored(calibrated=1, below_minimum=1, skipped=2)
    enough.refresh_from_db()
    assert (enough.irt_a, enough.irt_b, enough.irt_c) == (1.2346, 0.5, 0.25)
    assert (enough.irt_source, enough.irt_responses, enough.irt_calibrated_at) == (
        "calibrated",
        250,
        at,
    )
    for question, prior in ((thin, (1.0, -1.0, 0.25)), (recalibrated_c, (1.0, 0.0, 0.25))):
        question.refresh_from_db()
        assert (question.irt_a, question.irt_b, question.irt_c) == prior
        assert (question.irt_source, question.irt_responses, question.irt_calibrated_at) == (
            "prior",
            0,
            None,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("type", "difficulty", "choices", "prior"),
    [
        ("single", "hard", None, (1.0, 1.0, 0.25)),
        ("true_false", "easy", None, (1.0, -1.0, 0.5)),
        ("single", "medium", [("A", True), ("B", False), ("C", False)], (1.0, 0.0, 0.3333)),
        ("multiple", "easy", None, (1.0, -1.0, 0.0)),
        ("numeric", "hard", None, (1.0, 1.0, 0.0)),
    ],
)
def test_priors_on_create(type, difficulty, choices, prior):
    question = make_question(type=type, difficulty=difficulty, choices=choices)

    assert (question.irt_a, question.irt_b, question.irt_c) == prior
    assert (question.irt_source, question.irt_responses, question.irt_calibrated_at) == (
        "prior",
        0,
        None,
    )


def _update(question, **changes):
    question = Question.objects.get(pk=question.pk)
    data = services.question_data_from(question)  # sends the stored a, b, c back
    fields = {"irt_a", "irt_b", "irt_c", "difficulty", "choices"}
    data = data.__class__(**{**data.__dict__, **{k: v for k, v in changes.items() if k in fields}})
    services.question_update(question=question, data=data)
    question.refresh_from_db()
    return question


@pytest.mark.django_db
def test_a_difficulty_or_choice_change_moves_the_prior_of_a_never_calibrated_question():
    question = make_question(difficulty="easy")

    question = _update(question, difficulty="hard")
    assert (question.irt_a, question.irt_b, question.irt_c) == (1.0, 1.0, 0.25)

    three = tuple(
        services.ChoiceData(body_md=text, is_correct=ok)
        for text, ok in (("A", True), ("B", False), ("C", False))
    )
    question = _update(question, choices=three)
    assert (question.irt_a, question.irt_b, question.irt_c) == (1.0, 1.0, 0.3333)


@pytest.mark.django_db
def test_parameters_staff_typed_survive_a_difficulty_change():
    question = make_question(difficulty="easy", irt_b=-0.4, irt_a=1.7)

    question = _update(question, difficulty="hard")

    assert (question.irt_a, question.irt_b, question.irt_c) == (1.7, -0.4, 0.25)


@pytest.mark.django_db
def test_calibrated_parameters_survive_edits_and_a_typed_override_makes_a_prior_again():
    question = make_question(difficulty="easy")
    services.question_calibration_store(
        fits=[services.ItemFit(question_id=question.pk, a=0.8, b=0.3, c=0.25, responses=400)],
        min_responses=200,
    )

    question = _update(question, difficulty="hard")
    assert (question.irt_a, question.irt_b, question.irt_source) == (0.8, 0.3, "calibrated")
    assert question.irt_responses == 400

    question = _update(question, irt_b=1.5)
    assert (question.irt_a, question.irt_b, question.irt_c) == (0.8, 1.5, 0.25)
    assert (question.irt_source, question.irt_responses, question.irt_calibrated_at) == (
        "prior",
        0,
        None,
    )


@pytest.mark.django_db
def test_the_data_migration_sets_priors_only_where_parameters_look_like_one():
    stale = make_question(difficulty="hard")
    typed = make_question(difficulty="hard", irt_b=0.7)
    Question.objects.filter(pk=stale.pk).update(irt_b=-1.0, irt_c=0.0)  # stale prior
    migration = importlib.import_module("testengine.migrations.0006_question_irt_priors")

    migration.set_priors(django_apps, None)

    stale.refresh_from_db()
    typed.refresh_from_db()
    assert (stale.irt_a, stale.irt_b, stale.irt_c) == (1.0, 1.0, 0.25)
    assert (typed.irt_a, typed.irt_b, typed.irt_c) == (1.0, 0.7, 0.25)


# --- calibrate_items over real sittings ------------------------------------------------------


# Which of the four questions (ordered easiest first) each of 20 learners gets right: more
# learners know the easy ones; not a perfect Guttman pattern, so the fit is finite.
_PATTERN = [
    *[(1, 1, 1, 1)] * 3,
    *[(1, 1, 1, 0)] * 4,
    (1, 1, 0, 1),
    *[(1, 1, 0, 0)] * 4,
    (1, 0, 1, 0),
    *[(1, 0, 0, 0)] * 3,
    (0, 1, 0, 0),
    *[(0, 0, 0, 0)] * 2,
    (0, 0, 0, 1),
]


def _sit(test, learner, right_by_question):
    session, _ = session_services.session_start(user=learner, test_slug=test.slug)
    for question in Paper.from_json(session.paper).questions:
        right = right_by_question[question.id]
        if right is None:
            continue  # left unanswered: counts as not right
        choice = next(c.id for c in question.choices if c.is_correct == right)
        session_services.response_save(
            user=learner,
            session_id=session.id,
            question_id=question.id,
            answer={"choices": [choice]},
            seq=1,
        )
    return session_services.session_submit(user=learner, session_id=session.id)


@pytest.fixture
def sat(db):
    """A four-question test sat by 20 learners; the questions from easiest to hardest."""
    test = sittable_test(questions=4, draw=4)
    questions = sorted(
        Question.objects.filter(status="published", topic__sectionrule__section__test=test),
        key=lambda q: q.pk,
    )
    learners = [UserFactory() for _ in _PATTERN]
    for learner, row in zip(learners, _PATTERN, strict=True):
        answers = {q.pk: bool(right) for q, right in zip(questions, row, strict=True)}
        if row == (0, 0, 0, 0):
            answers[questions[3].pk] = None  # one learner leaves the hardest one blank
        _sit(test, learner, answers)
    return test, questions, learners


def _parameters(questions):
    return [
        Question.objects.values_list(
            "irt_a", "irt_b", "irt_c", "irt_source", "irt_responses", "irt_calibrated_at"
        ).get(pk=q.pk)
        for q in questions
    ]


def test_the_command_calibrates_from_scored_sittings_and_repeats_the_same_values(sat, capsys):
    test, questions, learners = sat
    # A second sitting by a learner who now gets everything right does not count again.
    _sit(test, learners[-1], {q.pk: True for q in questions})
    make_question()  # never sat: untouched

    call_command("calibrate_items", "--test", test.slug, "--min-responses", "20")

    out = capsys.readouterr().out
    assert out.startswith("calibrated 4 questions (0 2PL, 4 Rasch) from 80 responses in 20 ")
    first = _parameters(questions)
    assert [row[3:5] for row in first] == [("calibrated", 20)] * 4
    assert [row[0] for row in first] == [1.0] * 4  # 20 < CALIBRATION_RASCH_BELOW: Rasch
    assert [row[2] for row in first] == [0.25] * 4  # c held at the prior
    difficulties = [row[1] for row in first]
    assert difficulties == sorted(difficulties)  # easiest first, as the learners found
    assert difficulties[0] < -0.5
    assert difficulties[3] > 0.5
    assert Question.objects.filter(irt_source="calibrated").count() == 4

    call_command("calibrate_items", "--min-responses", "20")  # again, every test

    again = _parameters(questions)
    assert [row[:5] for row in again] == [row[:5] for row in first]
    assert again[0][5] > first[0][5]  # a new date, the same values


def test_items_below_the_minimum_keep_their_priors(sat, capsys):
    _, questions, _ = sat
    before = _parameters(questions)

    call_command("calibrate_items", "--min-responses", "21")

    assert _parameters(questions) == before
    out = capsys.readouterr().out
    assert out.startswith("calibrated 0 questions (0 2PL, 0 Rasch) from 80 responses")
    assert "; 4 below the minimum kept their parameters;" in out


def test_the_default_minimum_is_the_setting(sat, settings):
    _, questions, _ = sat
    settings.CALIBRATION_MIN_RESPONSES = 20
    settings.CALIBRATION_RASCH_BELOW = 10  # so these four are fitted 2PL

    report = calibrate_items()

    assert (report.ran, report.calibrated, report.fitted, report.rasch) == (True, 4, 4, 0)
    assert (report.below_minimum, report.sittings, report.responses) == (0, 20, 80)
    rows = _parameters(questions)
    assert all(row[0] != 1.0 for row in rows)
    assert [row[1] for row in rows] == sorted(row[1] for row in rows)


def test_the_task_calls_the_same_service(sat):
    _, questions, _ = sat

    result = session_tasks.calibrate_item_parameters.call(min_responses=20)

    assert (result["ran"], result["calibrated"]) == (True, 4)
    assert {row[3] for row in _parameters(questions)} == {"calibrated"}


def test_a_second_run_while_one_holds_the_lock_does_nothing(sat):
    _, questions, _ = sat
    before = _parameters(questions)
    holding, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [LOCK_NAME])
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert holding.wait(10)
        report = calibrate_items(min_responses=20)
    finally:
        release.set()
        thread.join()

    assert report.ran is False
    assert _parameters(questions) == before
    assert calibrate_items(min_responses=20).calibrated == 4  # once the lock is free


def test_the_command_refuses_an_unknown_test_and_a_bad_minimum(db):
    with pytest.raises(CommandError, match="No test"):
        call_command("calibrate_items", "--test", "nope")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("calibrate_items", "--min-responses", "0")


# --- admin ----------------------------------------------------------------------------------


def test_the_question_admin_shows_the_parameters_beside_the_statistics(sat, client):
    _, questions, _ = sat
    calibrate_items(min_responses=20)
    call_command("update_item_statistics")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"/admin/testengine/question/{questions[0].pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    question = Question.objects.get(pk=questions[0].pk)
    assert "Item statistics" in html
    assert "IRT parameters" in html
    assert "Calibrated from responses" in html
    assert f"<th>b (difficulty)</th><td>{question.irt_b:.3f}</td>" in html
    assert "<th>Responses fitted</th><td>20</td>" in html
