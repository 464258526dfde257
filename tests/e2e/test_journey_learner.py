"""Journey 1: a new learner registers, finds a test series, buys it with a coupon on the
web checkout page (Razorpay's webhooks arriving twice and out of order), sits its quiz
with autosaves, a dropped connection and a second device, submits, and reads the result,
the review and the leaderboard. Everything through HTTP; the database only for asserts
(and, playing Razorpay, for the simulated gateway's own record of the payment)."""

from __future__ import annotations

import json
import socket
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

from tests.e2e.clients import (
    PASSWORD,
    App,
    assert_error,
    new_event_id,
    pay_on_checkout_page,
    post_webhook,
    razorpay_event,
    unique_email,
    wait_for,
)

PRODUCT = "django-test-series"
QUIZ = "django-fundamentals-quiz"
COUPON = "WELCOME10"  # seed_demo: 10 % off, at most ₹500, once per learner


def test_learner_buys_sits_and_reviews(live, http):
    # --- register and log in ---------------------------------------------------------------
    email = unique_email("learner")
    _, user = App.register(live.url, email, "Journey Learner")
    assert user["email"] == email
    assert user["is_staff"] is False

    again = http.post(
        "/api/v1/auth/register/",
        json={"email": email.upper(), "password": PASSWORD, "full_name": "Twin"},
    )
    assert "email" in assert_error(again, 400, "invalid")["fields"]
    weak = http.post(
        "/api/v1/auth/register/", json={"email": unique_email("weak"), "password": "12345678"}
    )
    assert "password" in assert_error(weak, 400, "invalid")["fields"]
    wrong = http.post("/api/v1/auth/token/", json={"email": email, "password": "not-it-at-all"})
    assert_error(wrong, 401, "invalid_credentials")

    app = App.login(live.url, email)  # the learner's laptop
    assert app.ok("GET", "auth/me/")["email"] == email
    assert_error(http.get("/api/v1/orders/"), 401, "not_authenticated")

    # --- browse and search the catalogue ---------------------------------------------------
    tree = app.ok("GET", "catalogue/categories/")
    assert any(c["slug"] == "backend" for c in _walk(tree))
    found = app.ok("GET", "catalogue/products/", params={"q": "django"})["results"]
    assert PRODUCT in [p["slug"] for p in found]
    prefix = app.ok("GET", "catalogue/products/", params={"q": "postg"})["results"]
    assert "postgresql-test-series" in [p["slug"] for p in prefix], "prefix search"
    in_backend = app.ok("GET", "catalogue/products/", params={"category": "backend"})["results"]
    assert PRODUCT in [p["slug"] for p in in_backend]
    by_price = app.ok("GET", "catalogue/products/", params={"ordering": "price"})["results"]
    prices = [p["price_from_paise"] for p in by_price]
    assert prices == sorted(prices)
    bad = app.get("catalogue/products/", params={"ordering": "cheapest-first"})
    assert "ordering" in assert_error(bad, 400, "invalid")["fields"]
    assert "nestjs-test-series" not in [p["slug"] for p in by_price], "drafts are hidden"

    product = app.ok("GET", f"catalogue/products/{PRODUCT}/")
    assert product["ownership"]["owned"] is False
    assert QUIZ in [t["slug"] for t in product["tests"]]
    assert "questions" not in json.dumps(product["tests"]), "tests never list questions"
    plan = min(product["plans"], key=lambda p: p["price_paise"])
    assert plan["price_paise"] > 0
    assert_error(app.post(f"tests/{QUIZ}/sessions/"), 403, "no_access")
    enroll = app.post(f"catalogue/products/{PRODUCT}/enroll/", json={"plan": plan["id"]})
    assert_error(enroll, 402, "payment_required")

    # --- price with the coupon, order, checkout page ---------------------------------------
    assert_error(
        app.post("coupons/preview/", json={"plan": plan["id"], "coupon_code": "NOPE-NOPE"}),
        400,
        "coupon_invalid",
    )
    quote = app.ok("POST", "coupons/preview/", json={"plan": plan["id"], "coupon_code": COUPON})
    base = plan["price_paise"]
    discount = min(base // 10, 50_000)
    assert quote["base_paise"] == base
    assert quote["discount_paise"] == discount
    assert quote["total_paise"] == base - discount

    key = str(uuid.uuid4())
    body = {"plan": plan["id"], "coupon_code": COUPON, "total_paise": 100}  # ignored
    order = app.ok("POST", "orders/", 201, json=body, headers={"Idempotency-Key": key})
    assert order["status"] == "created"
    assert order["total_paise"] == quote["total_paise"], "the server prices the order"
    assert order["checkout"]["amount"] == quote["total_paise"]
    retried = app.ok("POST", "orders/", 200, json=body, headers={"Idempotency-Key": key})
    assert retried["id"] == order["id"], "a retried create is the same order"
    other = {"plan": plan["id"]}  # no coupon: another request
    assert_error(
        app.post("orders/", json=other, headers={"Idempotency-Key": key}),
        409,
        "idempotency_key_reused",
    )
    assert_error(
        app.post(
            f"orders/{order['id']}/verify/",
            json={
                "razorpay_order_id": order["checkout"]["order_id"],
                "razorpay_payment_id": "pay_Forged00000000",
                "razorpay_signature": "0" * 64,
            },
        ),
        400,
        "signature_invalid",
    )
    tampered = order["checkout_url"].replace("token=", "token=x")
    assert http.get(tampered).status_code == 404, "the signed link is the only authorisation"

    browser = pay_on_checkout_page(live.url, order["checkout_url"])
    page = browser.page.text
    assert "Paid" in page
    assert "₹" in page
    assert f"{quote['total_paise'] // 100}.{quote['total_paise'] % 100:02d}" in page

    # --- Razorpay's webhooks: twice each, order.paid before payment.captured -------------------
    gateway_order = order["checkout"]["order_id"]
    # Playing Razorpay: its record of the payment (the simulated gateway's own store).
    ((payment,),) = live.sql(
        "SELECT data FROM payments_gatewayrecord WHERE kind = 'payment' AND parent = %s",
        [gateway_order],
    )
    assert payment["status"] == "captured"
    assert payment["amount"] == quote["total_paise"]
    paid = razorpay_event(
        "order.paid", payment=payment, order_id=gateway_order, receipt=order["id"]
    )
    captured = razorpay_event(
        "payment.captured", payment=payment, order_id=gateway_order, receipt=order["id"]
    )
    paid_id, captured_id = new_event_id(), new_event_id()

    forged = post_webhook(http, paid, new_event_id(), tamper=True)
    assert_error(forged, 400, "signature_invalid")
    wrong_secret = post_webhook(http, paid, new_event_id(), secret="not-the-webhook-secret")
    assert_error(wrong_secret, 400, "signature_invalid")
    for envelope, event_id in ((paid, paid_id), (captured, captured_id)) * 2:
        answer = post_webhook(http, envelope, event_id)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": "processed"}

    # The simulated gateway's own webhooks (payment.captured, order.paid) come through the
    # task worker: wait until both are in.
    def worker_events():
        rows = live.sql(
            "SELECT event_id, outcome FROM payments_webhookevent "
            "WHERE order_id = %s AND event_id NOT IN (%s, %s)",
            [order["id"], paid_id, captured_id],
        )
        return rows if len(rows) >= 2 else None

    assert {outcome for _, outcome in wait_for(worker_events, what="worker webhooks")} == {
        "processed"
    }

    # Exactly one of everything, at the server's price.
    (row,) = live.sql(
        "SELECT status, total_paise, discount_paise, enrollment_id, needs_review "
        "FROM payments_order WHERE id = %s",
        [order["id"]],
    )
    assert row == ("paid", quote["total_paise"], discount, row[3], False)
    payments = live.sql(
        "SELECT gateway_payment_id, status, amount_paise FROM payments_payment WHERE order_id = %s",
        [order["id"]],
    )
    assert payments == [(payment["id"], "captured", quote["total_paise"])]
    enrollments = live.sql(
        "SELECT e.id, e.source, e.revoked_at FROM catalogue_enrollment e "
        "JOIN accounts_user u ON u.id = e.user_id JOIN catalogue_product p ON p.id = e.product_id "
        "WHERE u.email = %s AND p.slug = %s",
        [email, PRODUCT],
    )
    assert enrollments == [(row[3], "purchase", None)]
    assert live.sql(
        "SELECT count(*) FROM payments_couponredemption WHERE order_id = %s", [order["id"]]
    ) == [(1,)]
    assert live.sql(
        "SELECT count(*), sum(total_paise) FROM payments_invoice WHERE order_id = %s",
        [order["id"]],
    ) == [(1, quote["total_paise"])]
    stored = dict(
        live.sql(
            "SELECT event_id, count(*) FROM payments_webhookevent "
            "WHERE event_id IN (%s, %s) GROUP BY event_id",
            [paid_id, captured_id],
        )
    )
    assert stored == {paid_id: 1, captured_id: 1}, "a redelivery is stored once"
    rejected = live.sql(
        "SELECT count(*) FROM payments_webhookevent WHERE outcome = 'rejected' "
        "AND event_id IS NULL AND body LIKE %s",
        [f"%{gateway_order}%"],
    )
    assert rejected == [(2,)], "forged deliveries are kept, rejected, and change nothing"

    mine = app.ok("GET", f"orders/{order['id']}/")
    assert mine["status"] == "paid"
    assert mine["enrollment"] == str(row[3])
    assert mine["checkout"] is None
    live_enrollments = app.ok("GET", "me/enrollments/", params={"live": "true"})["results"]
    assert [e["product"]["slug"] for e in live_enrollments] == [PRODUCT]
    invoice_mail = wait_for(
        lambda: [m for m in live.mails() if f"To: {email}" in m], what="the invoice email"
    )
    assert len(invoice_mail) == 1
    assert "invoice" in invoice_mail[0].lower()

    # --- sit the quiz -----------------------------------------------------------------------
    listed = {t["slug"]: t for t in app.ok("GET", "tests/")["results"]}
    assert listed[QUIZ]["can_start"] is True
    session = app.ok("POST", f"tests/{QUIZ}/sessions/", 201)
    sid = session["id"]
    assert session["status"] == "in_progress"
    assert session["remaining_seconds"] > 0
    assert app.ok("POST", f"tests/{QUIZ}/sessions/")["id"] == sid, "start again = resume"
    paper = app.ok("GET", f"sessions/{sid}/questions/")
    questions = paper["questions"]
    assert len(questions) == paper["question_count"] == session["question_count"]
    assert "is_correct" not in json.dumps(questions)
    assert "explanation" not in json.dumps(paper)
    single = [q for q in questions if q["type"] in ("single", "true_false")]
    assert len(single) >= 6

    answers: dict[int, dict] = {}
    for seq, question in enumerate(single[:4], start=1):
        choice = question["choices"][seq % len(question["choices"])]["id"]
        saved = app.ok(
            "PUT",
            f"sessions/{sid}/responses/{question['id']}/",
            json={"answer": {"choices": [choice]}, "seq": seq, "time_spent_ms": 5000},
        )
        assert saved["applied"] is True
        assert saved["answer"] == {"choices": [choice]}
        answers[question["id"]] = {"choices": [choice]}
    batch = [
        {
            "question_id": q["id"],
            "answer": {"choices": [q["choices"][0]["id"]]},
            "seq": 10,
            "marked_for_review": True,
        }
        for q in single[4:5]
    ]
    assert app.ok("POST", f"sessions/{sid}/responses/", json={"responses": batch})
    answers.update({item["question_id"]: item["answer"] for item in batch})

    # Bad saves: a choice of another question, an unknown field, a question not on the paper.
    first = single[0]
    foreign = single[1]["choices"][0]["id"]
    url = f"sessions/{sid}/responses/{first['id']}/"
    assert_error(app.put(url, json={"answer": {"choices": [foreign]}, "seq": 50}), 400, "invalid")
    assert_error(app.put(url, json={"answer": None, "seq": 51, "score": 99}), 400, "invalid")
    off_paper = max(q["id"] for q in questions) + 10_000
    not_there = app.put(f"sessions/{sid}/responses/{off_paper}/", json={"answer": None, "seq": 1})
    assert not_there.status_code in (400, 404), not_there.text
    assert not_there.json()["code"] in ("invalid", "not_found")
    assert app.ok("GET", f"sessions/{sid}/questions/")["questions"][0]["answer"] == answers.get(
        questions[0]["id"]
    ), "refused saves change nothing"

    # A dropped connection: the save reaches the server, the answer never reaches the app.
    dropped = single[5]
    save = {"answer": {"choices": [dropped["choices"][1]["id"]]}, "seq": 100}
    _send_and_hang_up(
        live.url, app.access, f"/api/v1/sessions/{sid}/responses/{dropped['id']}/", save
    )
    stored_seq = wait_for(
        lambda: live.sql(
            "SELECT seq FROM sessions_app_sessionresponse "
            "WHERE session_id = %s AND question_id = %s",
            [sid, dropped["id"]],
        ),
        what="the dropped save",
    )
    assert stored_seq == [(100,)]
    retry = app.ok("PUT", f"sessions/{sid}/responses/{dropped['id']}/", json=save)
    assert retry["applied"] is False
    assert retry["answer"] == save["answer"]
    assert retry["seq"] == 100
    stale = {"answer": {"choices": [dropped["choices"][0]["id"]]}, "seq": 99}
    older = app.ok("PUT", f"sessions/{sid}/responses/{dropped['id']}/", json=stale)
    assert older["applied"] is False
    assert older["answer"] == save["answer"], "an older save changes nothing"
    answers[dropped["id"]] = save["answer"]
    counts = live.sql(
        "SELECT count(*), count(DISTINCT question_id) FROM sessions_app_sessionresponse "
        "WHERE session_id = %s",
        [sid],
    )
    assert counts == [(len(answers), len(answers))], "one row per question, no duplicate"

    # --- resume on a second device -----------------------------------------------------------
    tablet = App.login(live.url, email)
    devices = tablet.ok("GET", "auth/devices/")
    assert len(devices["results"] if isinstance(devices, dict) else devices) >= 3
    resumed = tablet.ok("POST", f"tests/{QUIZ}/sessions/")
    assert resumed["id"] == sid
    assert resumed["deadline_at"] == session["deadline_at"]
    assert 0 < resumed["remaining_seconds"] <= session["remaining_seconds"]
    assert resumed["answered_count"] == len(answers)
    on_tablet = {
        q["id"]: q["answer"] for q in tablet.ok("GET", f"sessions/{sid}/questions/")["questions"]
    }
    assert {qid: a for qid, a in on_tablet.items() if a is not None} == answers
    marked = [e for e in resumed["palette"] if e["state"] == "answered_marked_for_review"]
    assert [e["question_id"] for e in marked] == [item["question_id"] for item in batch]
    assert_error(tablet.get(f"sessions/{sid}/review/"), 409, "session_not_submitted")

    stranger = App.register(live.url, unique_email("stranger"), "Someone Else")[0]
    assert_error(stranger.get(f"sessions/{sid}/"), 404, "not_found")
    assert_error(stranger.put(url, json={"answer": None, "seq": 999}), 404, "not_found")

    # --- submit (once), then no more saves ---------------------------------------------------
    summary = tablet.ok("POST", f"sessions/{sid}/submit/")
    assert summary["status"] == "submitted"
    assert summary["submit_reason"] == "learner"
    assert app.ok("POST", f"sessions/{sid}/submit/") == summary, "a second submit: same result"
    late = app.put(url, json={"answer": {"choices": [first["choices"][0]["id"]]}, "seq": 500})
    assert_error(late, 409, "session_closed")

    # --- result, review (solutions after submit), leaderboard ----------------------------------
    result = app.ok("GET", f"sessions/{sid}/result/")
    assert result["score"] == summary["score"]
    assert result["correct"] + result["wrong"] + result["partial"] + result["unattempted"] == len(
        questions
    )
    assert result["unattempted"] == len(questions) - len(answers)
    assert 1 <= result["rank"] <= result["candidates"]
    review = app.ok("GET", f"sessions/{sid}/review/")
    rescored = Decimal(0)
    for item in review["questions"]:
        assert item["answer"] == answers.get(item["id"])
        assert item["correct_answer"] is not None
        assert "explanation_html" in item
        if item["answer"] is None:
            assert item["outcome"] == "unattempted"
        elif item["answer"]["choices"] == item["correct_answer"]["choices"]:
            assert item["outcome"] == "correct"
            rescored += Decimal(item["max_marks"])
        else:
            assert item["outcome"] == "wrong"
            rescored -= Decimal(item["negative_marks"])
    assert Decimal(result["score"]) == rescored, "the score is the marks of the answers given"

    board = app.ok("GET", f"tests/{QUIZ}/leaderboard/")
    assert board["me"]["rank"] == result["rank"]
    assert board["me"]["is_me"] is True
    assert board["candidates"] == result["candidates"]
    better = [e for e in board["top"] if Decimal(e["score"]) > Decimal(result["score"])]
    if board["candidates"] <= len(board["top"]):
        assert result["rank"] == len(better) + 1
    assert "email" not in json.dumps(board), "display names only"


def _walk(tree):
    for node in tree:
        yield node
        yield from _walk(node.get("children") or [])


def _send_and_hang_up(base_url: str, token: str, path: str, body: dict) -> None:
    """Write a whole PUT request and close the socket before the answer comes back."""
    address = urlsplit(base_url)
    payload = json.dumps(body).encode()
    request = (
        f"PUT {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
