"""A learner's journey written only against the Python client generated from the live schema
(``examforge_client``, made by contract/run.py): if the schema and the server disagree, or
the schema cannot describe what an app does, this stops type-checking or stops passing.

    register → browse the catalogue → enroll in a free product → sit its test (autosaves,
    a batch save, a resume) → submit → result → review → leaderboard → order a paid plan
    with a demo coupon → pay on the checkout page → invoice PDF → log out

Only the checkout page uses raw HTTP (contract/checkout_page.py): a real app opens it in a
webview. Run by ``make contract`` against a fresh live stack with the demo data
(``seed_demo``); by hand: ``LIVE_URL=… PYTHONPATH=contract/generated/python python
contract/journey.py``.
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from http import HTTPStatus
from typing import TypeVar

from checkout_page import pay_on_checkout_page
from examforge_client import AuthenticatedClient, Client
from examforge_client.api.auth import (
    auth_logout_create,
    auth_me_retrieve,
    auth_register_create,
    auth_token_refresh_create,
)
from examforge_client.api.catalogue import (
    catalogue_categories_list,
    catalogue_products_enroll_create,
    catalogue_products_list,
    catalogue_products_retrieve,
    me_enrollments_list,
)
from examforge_client.api.payments import (
    coupons_preview_create,
    orders_create,
    orders_invoice_retrieve,
    orders_retrieve,
)
from examforge_client.api.results import (
    sessions_result_retrieve,
    sessions_review_retrieve,
    tests_leaderboard_retrieve,
)
from examforge_client.api.sessions import (
    sessions_questions_retrieve,
    sessions_responses_create,
    sessions_responses_update,
    sessions_retrieve,
    sessions_submit_create,
    tests_sessions_create,
)
from examforge_client.models import (
    AnswerOutcomeEnum,
    AuthResponse,
    BatchItemRequest,
    BatchRequest,
    BatchResult,
    CategoryTree,
    ChoicesAnswer,
    ChoicesAnswerRequest,
    CouponPreviewRequest,
    Enrollment,
    EnrollRequest,
    Error,
    Leaderboard,
    Order,
    OrderRequest,
    OrderStatusEnum,
    PaginatedEnrollmentList,
    PaginatedProductSummaryList,
    ProductDetail,
    QuestionTypeEnum,
    Quote,
    RefreshRequest,
    RegisterRequest,
    ResponseSaveRequest,
    Result,
    Review,
    SavedResponse,
    SessionDetail,
    SessionStatusEnum,
    SittingPaper,
    SubmitReasonEnum,
    SubmitSummary,
    User,
)
from examforge_client.types import File, Response

FREE_PRODUCT = "backend-diagnostic"  # seed_demo: free, with the PostgreSQL diagnostic
FREE_TEST = "postgresql-diagnostic"
PAID_PRODUCT = "django-test-series"
COUPON = "WELCOME10"  # seed_demo: 10 % off, at most ₹500, once per learner

T = TypeVar("T")
P = TypeVar("P")


def ok(kind: type[T], response: Response[P], status: HTTPStatus = HTTPStatus.OK) -> T:
    """The parsed body of ``response``, which must have ``status`` and be a ``kind``."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        raise AssertionError(
            f"expected {status.value} {kind.__name__}, got {response.status_code.value}: "
            f"{response.content[:400]!r}"
        )
    return parsed


def step(text: str) -> None:
    print(f"  ✓ {text}", flush=True)


def choice_answer(choice_id: int) -> ChoicesAnswerRequest:
    return ChoicesAnswerRequest(choices=[choice_id])


def main() -> None:
    base_url = os.environ["LIVE_URL"].rstrip("/")
    anonymous = Client(base_url=base_url, timeout=None)
    auth = register(anonymous)
    app = AuthenticatedClient(base_url=base_url, token=auth.access, timeout=None)
    me = ok(User, auth_me_retrieve.sync_detailed(client=app))
    assert me.id == auth.user.id
    browse_and_enroll(anonymous, app)
    session, paper, answers = sit_the_test(app)
    read_the_results(app, session, paper, answers)
    buy_with_a_coupon(app, base_url)
    log_out(app, anonymous, auth.refresh)
    print("contract journey (Python client): passed", flush=True)


def register(anonymous: Client) -> AuthResponse:
    email = f"contract-{uuid.uuid4().hex[:10]}@example.com"
    body = RegisterRequest(email=email, password=uuid.uuid4().hex, full_name="Contract")
    auth = ok(
        AuthResponse,
        auth_register_create.sync_detailed(client=anonymous, body=body),
        HTTPStatus.CREATED,
    )
    assert auth.user.email == email
    step(f"registered {email}")
    return auth


def browse_and_enroll(anonymous: Client, app: AuthenticatedClient) -> None:
    tree = catalogue_categories_list.sync(client=anonymous)
    assert isinstance(tree, list)
    assert all(isinstance(node, CategoryTree) for node in tree)
    listed = catalogue_products_list.sync_detailed(client=anonymous, free=True)
    free = ok(PaginatedProductSummaryList, listed)
    assert FREE_PRODUCT in [p.slug for p in free.results]
    assert all(p.is_free for p in free.results)
    product = ok(ProductDetail, catalogue_products_retrieve.sync_detailed(FREE_PRODUCT, client=app))
    assert product.ownership is not None
    assert product.ownership.owned is False
    assert FREE_TEST in [t.slug for t in product.tests]
    (free_plan,) = [p for p in product.plans if p.price_paise == 0]
    step(f"catalogue: {len(tree)} top categories, {free.count} free products")

    enrollment = ok(
        Enrollment,
        catalogue_products_enroll_create.sync_detailed(
            FREE_PRODUCT, client=app, body=EnrollRequest(plan=free_plan.id)
        ),
        HTTPStatus.CREATED,
    )
    assert enrollment.is_live
    assert FREE_TEST in [t.slug for t in enrollment.tests]
    step(f"enrolled in {FREE_PRODUCT} ({enrollment.source})")


def sit_the_test(app: AuthenticatedClient) -> tuple[SessionDetail, SittingPaper, dict[int, int]]:
    """Start, save answers one by one and in a batch, resume; the answers given by question."""
    session = ok(
        SessionDetail,
        tests_sessions_create.sync_detailed(FREE_TEST, client=app),
        HTTPStatus.CREATED,
    )
    assert session.status == SessionStatusEnum.IN_PROGRESS
    assert session.remaining_seconds > 0
    sid = session.id
    paper = ok(SittingPaper, sessions_questions_retrieve.sync_detailed(sid, client=app))
    assert paper.session == session.id
    assert len(paper.questions) == paper.question_count == session.question_count
    choosable = [
        q
        for q in paper.questions
        if q.type_ in (QuestionTypeEnum.SINGLE, QuestionTypeEnum.TRUE_FALSE) and q.choices
    ]
    assert len(choosable) >= 4, "the diagnostic has single-answer questions"
    answers: dict[int, int] = {}
    for seq, question in enumerate(choosable[:3], start=1):
        choice = question.choices[seq % len(question.choices)].id
        saved = ok(
            SavedResponse,
            sessions_responses_update.sync_detailed(
                sid, question.id, client=app, body=_save(choice, seq)
            ),
        )
        assert saved.applied
        assert saved.answer == ChoicesAnswer(choices=[choice])
        answers[question.id] = choice
    last = choosable[3]
    answer = choice_answer(last.choices[0].id)
    item = BatchItemRequest(question_id=last.id, answer=answer, seq=10, marked_for_review=True)
    batch = sessions_responses_create.sync_detailed(
        sid, client=app, body=BatchRequest(responses=[item])
    )
    assert [r.question_id for r in ok(BatchResult, batch).results] == [last.id]
    answers[last.id] = last.choices[0].id
    stale = sessions_responses_update.sync_detailed(
        sid, choosable[0].id, client=app, body=_save(choosable[0].choices[0].id, seq=0)
    )
    assert ok(SavedResponse, stale).applied is False, "an older save changes nothing"
    step(f"saved {len(answers)} answers (one batch, one stale save ignored)")

    resumed = ok(SessionDetail, sessions_retrieve.sync_detailed(sid, client=app))
    assert resumed.id == session.id
    assert resumed.answered_count == len(answers)
    assert resumed.deadline_at == session.deadline_at
    again = ok(SittingPaper, sessions_questions_retrieve.sync_detailed(sid, client=app))
    on_paper = {q.id: q.answer for q in again.questions if q.answer is not None}
    assert on_paper == {qid: ChoicesAnswer(choices=[c]) for qid, c in answers.items()}
    assert [q.id for q in again.questions if q.marked_for_review] == [last.id]
    restarted = tests_sessions_create.sync_detailed(FREE_TEST, client=app)
    assert ok(SessionDetail, restarted).id == session.id, "starting again resumes"
    step("resumed: the session and the paper hold every saved answer")
    return session, paper, answers


def read_the_results(
    app: AuthenticatedClient, session: SessionDetail, paper: SittingPaper, answers: dict[int, int]
) -> None:
    sid = session.id
    summary = ok(SubmitSummary, sessions_submit_create.sync_detailed(sid, client=app))
    assert summary.status == SessionStatusEnum.SUBMITTED
    assert summary.submit_reason == SubmitReasonEnum.LEARNER
    result = ok(Result, sessions_result_retrieve.sync_detailed(session.id, client=app))
    assert result.score == summary.score
    assert result.unattempted == len(paper.questions) - len(answers)
    outcomes = result.correct + result.wrong + result.partial + result.unattempted
    assert outcomes == len(paper.questions)
    review = ok(Review, sessions_review_retrieve.sync_detailed(session.id, client=app))
    rescored = Decimal(0)  # marks and scores are exact decimal strings (docs/api-guide.md)
    for item in review.questions:
        if item.id not in answers:
            assert item.outcome == AnswerOutcomeEnum.UNATTEMPTED
        elif [answers[item.id]] == item.correct_answer.choices:
            assert item.outcome == AnswerOutcomeEnum.CORRECT
            rescored += Decimal(item.max_marks)
        else:
            assert item.outcome == AnswerOutcomeEnum.WRONG
            rescored -= Decimal(item.negative_marks)
    assert Decimal(result.score) == rescored, "the score is the marks of the answers given"
    board = ok(Leaderboard, tests_leaderboard_retrieve.sync_detailed(FREE_TEST, client=app))
    assert board.me is not None
    assert board.me.is_me
    assert board.me.rank == result.rank
    assert board.candidates == result.candidates
    step(f"submitted: {result.score}/{result.max_score}, rank {result.rank}/{result.candidates}")


def buy_with_a_coupon(app: AuthenticatedClient, base_url: str) -> None:
    paid = ok(ProductDetail, catalogue_products_retrieve.sync_detailed(PAID_PRODUCT, client=app))
    plan = min(paid.plans, key=lambda p: p.price_paise)
    refused = catalogue_products_enroll_create.sync_detailed(
        PAID_PRODUCT, client=app, body=EnrollRequest(plan=plan.id)
    )
    assert ok(Error, refused, HTTPStatus.PAYMENT_REQUIRED).code == "payment_required"
    body = CouponPreviewRequest(plan=plan.id, coupon_code=COUPON)
    quote = ok(Quote, coupons_preview_create.sync_detailed(client=app, body=body))
    assert quote.base_paise == plan.price_paise
    assert quote.total_paise == plan.price_paise - min(plan.price_paise // 10, 50_000)
    order = ok(
        Order,
        orders_create.sync_detailed(
            client=app,
            body=OrderRequest(plan=plan.id, coupon_code=COUPON),
            idempotency_key=str(uuid.uuid4()),
        ),
        HTTPStatus.CREATED,
    )
    assert order.status == OrderStatusEnum.CREATED
    assert order.total_paise == quote.total_paise
    assert order.checkout_url is not None
    pay_on_checkout_page(base_url, order.checkout_url)
    order = ok(Order, orders_retrieve.sync_detailed(order.id, client=app))
    assert order.status == OrderStatusEnum.PAID
    assert order.enrollment is not None
    mine = ok(PaginatedEnrollmentList, me_enrollments_list.sync_detailed(client=app))
    assert {e.product.slug for e in mine.results} == {FREE_PRODUCT, PAID_PRODUCT}
    step(f"paid ₹{order.total_paise / 100:.2f} for {PAID_PRODUCT} with {COUPON}")

    invoice = ok(File, orders_invoice_retrieve.sync_detailed(order.id, client=app))
    pdf = invoice.payload.read()
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    step(f"invoice: a {len(pdf):,}-byte PDF")


def log_out(app: AuthenticatedClient, anonymous: Client, refresh_token: str) -> None:
    body = RefreshRequest(refresh=refresh_token)
    logout = auth_logout_create.sync_detailed(client=app, body=body)
    assert logout.status_code == HTTPStatus.NO_CONTENT, logout.content
    refresh = auth_token_refresh_create.sync_detailed(client=anonymous, body=body)
    assert ok(Error, refresh, HTTPStatus.UNAUTHORIZED).code
    step("logged out: the refresh token no longer works")


def _save(choice: int, seq: int) -> ResponseSaveRequest:
    return ResponseSaveRequest(answer=choice_answer(choice), seq=seq, time_spent_ms=4000)


if __name__ == "__main__":
    main()
