"""Journey 3: the back office through the real Django admin, over HTTP, as a browser posts
its forms (login with CSRF, add forms with inline rows, changelist actions).

The demo superuser creates two staff accounts, an editor (only the "Content editors"
group) and a finance clerk (only "Finance"). The editor adds a topic, imports questions
from a CSV on the admin's import page, builds a random-mode test, checks its rules (the
"Rule availability" report: a rule the bank cannot fill is refused at publish) and
publishes it. The superuser (the catalogue has no staff group) publishes a product with
two plans holding the test. A learner buys it through the API and the checkout page. The
finance clerk finds the order in the admin and refunds it in full; the learner's access
is gone (their API says so)."""

from __future__ import annotations

import csv
import io
import re
import uuid

import httpx

from accounts.demo import DEMO_STAFF
from tests.e2e.browser import Browser, form, messages, text
from tests.e2e.clients import (
    PASSWORD,
    App,
    assert_error,
    pay_on_checkout_page,
    unique_email,
)

QUESTIONS = 8  # imported; the test's rule asks for RULE_COUNT of them
RULE_COUNT = 5
CSV_COLUMNS = [
    "external_id",
    "topic",
    "type",
    "body",
    "explanation",
    "difficulty",
    "status",
    "tags",
    "marks",
    "negative_marks",
    "choices",
    "correct",
    "numeric_answer",
    "numeric_tolerance",
    "tolerance_kind",
    "accepted_answers",
]


def _admin(live) -> Browser:
    return Browser(httpx.Client(base_url=live.url, timeout=30))


def _log_in(live, email: str, password: str) -> Browser:
    browser = _admin(live)
    page = browser.get("/admin/")
    assert browser.url.startswith("/admin/login/"), "the admin needs a login"
    login = form(page.text, has="password")
    assert login.get("csrfmiddlewaretoken")
    done = browser.submit(login.fill(username=email, password=password))
    assert done.status_code == 200
    assert browser.url == "/admin/", text(done.text)[:500]
    return browser


def _save(browser: Browser, page_form, button: str = "_save") -> httpx.Response:
    response = browser.submit(page_form, button=(button, "Save"))
    assert response.status_code == 200, response.text[:2000]
    # Django's form errors (not the availability report, which uses an errorlist too).
    if "Please correct the error" in response.text:
        errors = re.findall(r'(?s)<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text)
        raise AssertionError([text(e) for e in errors])
    return response


def _object_id(url: str) -> str:
    match = re.search(r"/(\d+|[0-9a-f-]{36})/change/", url)
    assert match, url
    return match.group(1)


def _action(browser: Browser, changelist: str, action: str, ids: list[str]) -> list[str]:
    """Tick rows of a changelist and run an action, as the action bar does."""
    page = browser.get(changelist)
    assert page.status_code == 200
    bar = form(page.text, has="action")
    bar.set("action", action).set("_selected_action", ids)
    done = browser.submit(bar, button=("index", "0"))
    assert done.status_code == 200
    return messages(done.text)


def _staff_user(admin: Browser, email: str, group: str) -> None:
    """The superuser adds a staff account in one group (the user add, then change form)."""
    page = admin.get("/admin/accounts/user/add/")
    add = form(page.text, has="password1").fill(
        email=email, full_name=group + " Staff", password1=PASSWORD, password2=PASSWORD
    )
    page = _save(admin, add)
    change = form(page.text, has="is_staff")
    change.set("is_staff", True).set("groups", change.selects["groups"].value_for(group))
    _save(admin, change)


def _questions_csv(topic: str, tag: str) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for n in range(1, QUESTIONS + 1):
        writer.writerow(
            {
                "external_id": f"{tag}-{n}",
                "topic": topic,
                "type": "single",
                "body": f"What is {n} + {n}? ({tag})",
                "explanation": f"{n} + {n} = {2 * n}.",
                "difficulty": "easy",
                "status": "published",
                "tags": "e2e|arithmetic",
                "marks": "4",
                "negative_marks": "1",
                "choices": f"{2 * n}|{2 * n + 1}|{n}",
                "correct": "1",
            }
        )
    return out.getvalue().encode()


def test_staff_publish_sell_and_refund(live, http):
    tag = uuid.uuid4().hex[:8]
    admin = _log_in(live, DEMO_STAFF["email"], DEMO_STAFF["password"])

    # --- the superuser makes an editor and a finance clerk -------------------------------------
    editor_email, finance_email = unique_email("editor"), unique_email("finance")
    _staff_user(admin, editor_email, "Content editors")
    _staff_user(admin, finance_email, "Finance")
    bad_login = _admin(live)
    page = bad_login.get("/admin/login/")
    refused = bad_login.submit(
        form(page.text, has="password").fill(username=editor_email, password="not-the-password")
    )
    assert bad_login.url.startswith("/admin/login/"), "a wrong password stays on the login"
    assert 'class="errornote"' in refused.text
    bad_login.get("/admin/")
    assert bad_login.url.startswith("/admin/login/"), "and is not logged in"

    # --- the editor: topic, CSV import, a random test, its rules, publish ---------------------
    editor = _log_in(live, editor_email, PASSWORD)
    assert editor.client.get("/admin/catalogue/product/add/").status_code == 403
    assert editor.client.get("/admin/payments/order/").status_code == 403

    page = editor.get("/admin/testengine/topic/add/")
    topic_slug = f"e2e-arithmetic-{tag}"
    _save(editor, form(page.text, has="slug").fill(name=f"E2E arithmetic {tag}", slug=topic_slug))
    ((topic_id,),) = live.sql("SELECT id FROM testengine_topic WHERE slug = %s", [topic_slug])

    page = editor.get("/admin/testengine/question/import/")
    importer = form(page.text, has="file")
    # A broken file first: every bad row is listed and nothing is saved.
    broken = _questions_csv(topic_slug, tag).replace(b",single,", b",essay,", 2)
    rejected = editor.submit(importer, files={"file": ("bank.csv", broken, "text/csv")})
    assert rejected.status_code == 200
    table = re.search(r'(?s)<table id="import-errors">.*?</table>', rejected.text)
    assert table, text(rejected.text)[:1000]
    bad_rows = re.findall(r"<tr><td>(\d+)</td><td>type</td>", table.group(0))
    assert bad_rows == ["2", "3"], text(table.group(0))
    assert live.sql(
        "SELECT count(*) FROM testengine_question WHERE external_id LIKE %s", [f"{tag}-%"]
    ) == [(0,)]
    # A dry run saves nothing either.
    importer = form(rejected.text, has="file").set("dry_run", True)
    dry = editor.submit(importer, files={"file": ("bank.csv", _questions_csv(topic_slug, tag))})
    assert dry.status_code == 200
    assert f"{QUESTIONS} questions would be imported. Nothing was saved." in text(dry.text)
    assert live.sql(
        "SELECT count(*) FROM testengine_question WHERE external_id LIKE %s", [f"{tag}-%"]
    ) == [(0,)]
    importer = form(dry.text, has="file").set("dry_run", False)
    done = editor.submit(importer, files={"file": ("bank.csv", _questions_csv(topic_slug, tag))})
    assert editor.url.startswith("/admin/testengine/question/")
    assert f"success: Imported {QUESTIONS} questions." in messages(done.text)
    assert live.sql(
        "SELECT count(*), count(*) FILTER (WHERE status = 'published') FROM testengine_question "
        "WHERE external_id LIKE %s AND topic_id = %s",
        [f"{tag}-%", topic_id],
    ) == [(QUESTIONS, QUESTIONS)]

    test_slug = f"e2e-arithmetic-test-{tag}"
    page = editor.get("/admin/testengine/test/add/")
    new_test = form(page.text, has="mode").fill(
        title=f"E2E arithmetic test {tag}",
        slug=test_slug,
        mode="random",
        duration_seconds=600,
        max_attempts=2,
        pass_mark_percent=50,
    )
    new_test.add_inline_row("sections", title="Arithmetic", order=0)
    page = _save(editor, new_test, "_continue")
    test_id = _object_id(editor.url)
    ((section_id,),) = live.sql("SELECT id FROM testengine_section WHERE test_id = %s", [test_id])

    # A rule asking for more than the bank holds: the check says so, publishing is refused.
    page = editor.get(f"/admin/testengine/section/{section_id}/change/")
    section = form(page.text, has="_save")
    rules = _inline(section, "rule")
    topic_choice = _autocomplete(editor, "testengine", "sectionrule", "topic", topic_slug)
    assert topic_choice == str(topic_id)
    section.set(f"{rules}-0-topic", topic_choice).set(f"{rules}-0-count", QUESTIONS + 2)
    _save(editor, section, "_continue")
    page = editor.get(f"/admin/testengine/test/{test_id}/change/")
    report = text(page.text)
    assert "The bank cannot fill this test." in report
    assert "short by 2" in report
    refused = _action(editor, "/admin/testengine/test/", "publish", [test_id])
    assert any(m.startswith("error:") and "was not published" in m for m in refused), refused
    assert live.sql("SELECT is_published FROM testengine_test WHERE id = %s", [test_id]) == [
        (False,)
    ]

    page = editor.get(f"/admin/testengine/section/{section_id}/change/")
    section = form(page.text, has="_save")
    section.set(f"{rules}-0-count", RULE_COUNT)
    _save(editor, section, "_continue")
    page = editor.get(f"/admin/testengine/test/{test_id}/change/")
    report = text(page.text)
    assert "Every rule can be filled." in report
    assert re.search(rf"{RULE_COUNT}\s+{QUESTIONS}\s+ok", report), report
    preview = editor.get(f"/admin/testengine/test/{test_id}/preview/")
    assert preview.status_code == 200
    assert len(re.findall(rf"\({tag}\)", preview.text)) == RULE_COUNT, "a sample paper"
    published = _action(editor, "/admin/testengine/test/", "publish", [test_id])
    assert "success: Published 1 test(s)." in published
    assert live.sql("SELECT is_published FROM testengine_test WHERE id = %s", [test_id]) == [
        (True,)
    ]

    # --- the superuser: a product with two plans, published ------------------------------------
    product_slug = f"e2e-arithmetic-series-{tag}"
    page = admin.get("/admin/catalogue/product/add/")
    product = form(page.text, has="slug")
    product.fill(
        title=f"E2E Arithmetic Series {tag}",
        slug=product_slug,
        kind="test_series",
        category=_autocomplete(admin, "catalogue", "product", "category", "Backend"),
        summary="Sums, for the end-to-end journey.",
        description_md="Two plans, **one** test.",
    )
    plans = _inline(product, "plans")
    product.fill(
        **{
            f"{plans}-0-name": "1 month",
            f"{plans}-0-price_paise": 29_900,
            f"{plans}-0-list_price_paise": 39_900,
            f"{plans}-0-validity_days": 30,
        }
    )
    product.add_inline_row(plans, name="Lifetime", price_paise=59_900, is_lifetime=True)
    tests = _inline(product, "tests")
    test_choice = _autocomplete(admin, "catalogue", "producttest", "test", test_slug)
    assert test_choice == test_id
    product.set(f"{tests}-0-test", test_choice)
    _save(admin, product, "_continue")
    product_id = _object_id(admin.url)
    assert live.sql("SELECT is_published FROM catalogue_product WHERE id = %s", [product_id]) == [
        (False,)
    ], "a new product is a draft"
    assert http.get(f"/api/v1/catalogue/products/{product_slug}/").status_code == 404
    published = _action(admin, "/admin/catalogue/product/", "publish", [product_id])
    assert any(m.startswith("success:") for m in published), published
    assert live.sql("SELECT is_published FROM catalogue_product WHERE id = %s", [product_id]) == [
        (True,)
    ]

    # --- a learner buys it ----------------------------------------------------------------------
    learner_email = unique_email("buyer")
    learner, _ = App.register(live.url, learner_email, "Paying Learner")
    listed = learner.ok("GET", "catalogue/products/", params={"q": tag})["results"]
    assert [p["slug"] for p in listed] == [product_slug]
    detail = learner.ok("GET", f"catalogue/products/{product_slug}/")
    plans = sorted(detail["plans"], key=lambda p: p["price_paise"])
    assert [(p["name"], p["price_paise"]) for p in plans] == [
        ("1 month", 29_900),
        ("Lifetime", 59_900),
    ]
    assert [t["slug"] for t in detail["tests"]] == [test_slug]
    assert_error(learner.post(f"tests/{test_slug}/sessions/"), 403, "no_access")
    order = learner.ok(
        "POST",
        "orders/",
        201,
        json={"plan": plans[0]["id"]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert order["total_paise"] == 29_900
    pay_on_checkout_page(live.url, order["checkout_url"])
    assert learner.ok("GET", f"orders/{order['id']}/")["status"] == "paid"
    sitting = learner.ok("POST", f"tests/{test_slug}/sessions/", 201)
    assert sitting["question_count"] == RULE_COUNT, "the paper follows the editor's rule"
    live_now = learner.ok("GET", "me/enrollments/", params={"live": "true"})["results"]
    assert [e["product"]["slug"] for e in live_now] == [product_slug]

    # --- the finance clerk finds the order and refunds it ----------------------------------------
    finance = _log_in(live, finance_email, PASSWORD)
    assert finance.client.get("/admin/testengine/question/import/").status_code == 403
    orders = finance.get("/admin/payments/order/", params={"q": learner_email})
    assert order["id"] in orders.text
    assert "₹299" in text(orders.text)
    page = finance.get(f"/admin/payments/order/{order['id']}/change/")
    assert page.status_code == 200
    shown = text(page.text)
    assert learner_email in shown
    assert "Paid" in shown
    refund_url = f"/admin/payments/order/{order['id']}/refund/"
    assert f'href="{refund_url}"' in page.text, "a paid order offers Refund…"
    page = finance.get(refund_url)
    refund = form(page.text, has="reason")
    # Too much is refused, nothing moves.
    over = finance.submit(refund.fill(amount="9999.00", reason="Too much"))
    assert over.status_code == 200
    assert live.sql("SELECT status FROM payments_order WHERE id = %s", [order["id"]]) == [("paid",)]
    refund = form(over.text, has="reason").fill(amount="", reason="Learner asked (e2e)")
    done = finance.submit(refund)
    assert finance.url == f"/admin/payments/order/{order['id']}/change/"
    assert any(m.startswith("success: Refund of ₹299") for m in messages(done.text)), messages(
        done.text
    )

    # --- access is gone --------------------------------------------------------------------------
    assert live.sql(
        "SELECT o.status, o.refunded_paise, r.status, r.amount_paise, e.revoked_at IS NOT NULL "
        "FROM payments_order o JOIN payments_refund r ON r.order_id = o.id "
        "JOIN catalogue_enrollment e ON e.id = o.enrollment_id WHERE o.id = %s",
        [order["id"]],
    ) == [("refunded", 29_900, "processed", 29_900, True)]
    mine = learner.ok("GET", f"orders/{order['id']}/")
    assert mine["status"] == "refunded"
    assert mine["refunded_paise"] == 29_900
    assert learner.ok("GET", "me/enrollments/", params={"live": "true"})["results"] == []
    assert learner.ok("GET", f"catalogue/products/{product_slug}/")["ownership"]["owned"] is False
    # Starting (or resuming) the test is refused now.
    assert_error(learner.post(f"tests/{test_slug}/sessions/"), 403, "no_access")
    listed_tests = {t["slug"]: t for t in learner.ok("GET", "tests/")["results"]}
    assert test_slug not in listed_tests or listed_tests[test_slug]["can_start"] is False


def _autocomplete(browser: Browser, app: str, model: str, field: str, term: str) -> str:
    """What the admin's autocomplete widget asks when staff type ``term`` into a field;
    the one match's id."""
    answer = browser.client.get(
        "/admin/autocomplete/",
        params={"app_label": app, "model_name": model, "field_name": field, "term": term},
    )
    assert answer.status_code == 200, answer.text[:500]
    results = answer.json()["results"]
    assert len(results) >= 1, (term, results)
    return results[0]["id"]


def _inline(page_form, model: str) -> str:
    """The prefix of an inline formset (``plans``, ``tests``, ``product_tests`` …)."""
    prefixes = sorted(
        {k.removesuffix("-TOTAL_FORMS") for k, _ in page_form.fields if k.endswith("-TOTAL_FORMS")}
    )
    matches = [p for p in prefixes if model in p]
    assert len(matches) == 1, (model, prefixes)
    return matches[0]
