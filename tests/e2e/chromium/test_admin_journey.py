"""Staff journey through the real admin pages, in Chromium: log in, import questions from
a CSV file, build a random-mode test from rules and check them, publish a product with two
plans, then find a learner's paid order and refund it, which revokes the enrollment."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from accounts.demo import DEMO_STAFF
from tests.e2e.chromium.conftest import enrollments, order_create, register_learner
from tests.e2e.clients import pay_on_checkout_page, wait_for

ADMIN = "/admin/"
STAFF = DEMO_STAFF  # seed_demo's superuser


def _csv(rows: list[list[str]]) -> bytes:
    header = "external_id,topic,type,body,difficulty,status,choices,correct,marks"
    lines = [header, *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def test_staff_journey(page, shot, live, http):
    run = uuid.uuid4().hex[:8]
    topic_slug = f"browser-topic-{run}"

    # --- log in: a wrong password is refused, the right one opens the back office
    page.goto(ADMIN)
    assert "/login/" in page.url
    page.fill("#id_username", STAFF["email"])
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("enter the correct email address")
    shot(page, "login-refused")
    page.fill("#id_password", STAFF["password"])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_have_text("Examforge back office")
    shot(page, "back-office")

    # --- a topic for the new questions
    page.goto(f"{ADMIN}testengine/topic/add/")
    page.locator("#id_name").press_sequentially(f"Browser topic {run}")
    # The admin's own script fills the slug from the name as one types (under the CSP).
    assert page.input_value("#id_slug") == topic_slug
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text(f"Browser topic {run}")
    shot(page, "topic-saved")

    # --- import questions from a CSV file: a bad file is refused whole, row by row
    bad = _csv(
        [
            [
                f"{run}-1",
                topic_slug,
                "single",
                "Which is a join?",
                "easy",
                "published",
                "INNER|SELECT|WHERE",
                "1",
                "4",
            ],
            [
                f"{run}-2",
                "no-such-topic",
                "single",
                "Which is a clause?",
                "easy",
                "published",
                "FROM|LEFT",
                "7",
                "4",
            ],
        ]
    )
    page.goto(f"{ADMIN}testengine/question/")
    page.click("text=Import")
    page.set_input_files(
        "#id_file", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.click("input[type=submit][value=Import]")
    expect(page.locator(".errornote")).to_have_text(
        "The file has 2 errors in 1 row; nothing was imported."
    )
    expect(page.locator("#import-errors tbody tr")).to_have_text(
        [
            "3topicUnknown topic 'no-such-topic'.",
            "3correctThere is no choice 7: the row has 2 choices.",
        ]
    )
    shot(page, "import-refused")
    good = _csv(
        [
            [
                f"{run}-{n}",
                topic_slug,
                "single",
                f"Question {n} of {run}?",
                "easy",
                "published",
                "Right|Wrong|Also wrong",
                "1",
                "4",
            ]
            for n in range(1, 5)
        ]
    )
    page.set_input_files(
        "#id_file", files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": good}]
    )
    page.click("input[type=submit][value=Import]")
    expect(page.locator(".messagelist .success")).to_have_text("Imported 4 questions.")
    shot(page, "imported")
    assert live.sql(
        "SELECT count(*) FROM testengine_question q JOIN testengine_topic t ON t.id = q.topic_id "
        "WHERE t.slug = %s AND q.status = 'published'",
        [topic_slug],
    ) == [(4,)]

    # --- a random-mode test with one section
    test_title = f"Browser mock {run}"
    page.goto(f"{ADMIN}testengine/test/add/")
    page.locator("#id_title").press_sequentially(test_title)
    expect(page.locator("#id_slug")).to_have_value(f"browser-mock-{run}")
    page.select_option("#id_mode", "random")
    page.fill("#id_duration_seconds", "1800")
    page.click("text=Add another Section")
    page.fill("#id_sections-0-title", "Part A")
    page.select_option("#id_sections-0-marking", "fixed")
    page.fill("#id_sections-0-correct_marks", "4")
    shot(page, "test-form")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text(test_title)
    shot(page, "test-saved")

    # --- its rule: more questions than the bank has is reported short, then fixed
    page.click(".inline-related a.inlinechangelink")
    expect(page.locator("h1")).to_have_text("Change section")
    page.click("#rules-0 .select2-selection")
    page.fill(".select2-search__field", f"Browser topic {run}")
    page.click(f".select2-results__option:has-text('Browser topic {run}')")
    page.fill("#id_rules-0-count", "5")
    page.click("input[name=_continue]")
    availability = page.locator("table.availability tbody tr")
    expect(availability).to_have_count(1)
    expect(availability.locator("td")).to_have_text(
        ["Part A", re.compile(f"browser-topic-{run}|Browser topic {run}"), "5", "4", "short by 1"]
    )
    shot(page, "rule-short")
    page.fill("#id_rules-0-count", "4")
    page.click("input[name=_continue]")
    expect(availability.locator("td").last).to_have_text("ok")
    shot(page, "rule-ok")

    # --- check the rules on the test's page, then publish it from the list
    page.goto(f"{ADMIN}testengine/test/")
    page.click(f"#result_list a:has-text('{test_title}')")
    expect(page.locator(".availability-verdict")).to_have_text("Every rule can be filled.")
    shot(page, "rules-checked")
    page.click(".breadcrumbs a:has-text('Tests')")
    page.check(f"tr:has-text('{test_title}') input.action-select")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_have_text("Published 1 test(s).")
    shot(page, "test-published")

    # --- a product with two plans and the test, published from the list
    product_title = f"Browser series {run}"
    product_slug = f"browser-series-{run}"
    page.goto(f"{ADMIN}catalogue/product/add/")
    page.select_option("#id_kind", "test_series")
    page.locator("#id_title").press_sequentially(product_title)
    expect(page.locator("#id_slug")).to_have_value(product_slug)
    page.fill("#id_summary", "Made by the browser tests.")
    page.fill("#id_plans-0-name", "Monthly")
    page.fill("#id_plans-0-price_paise", "49900")
    page.fill("#id_plans-0-validity_days", "30")
    page.click("text=Add another Plan")
    page.fill("#id_plans-1-name", "Lifetime")
    page.fill("#id_plans-1-price_paise", "99900")
    page.check("#id_plans-1-is_lifetime")
    page.click("#product_tests-0 .select2-selection")
    page.fill(".select2-search__field", test_title)
    page.click(f".select2-results__option:has-text('{test_title}')")
    shot(page, "product-form")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text(product_title)
    shot(page, "product-saved")
    assert http.get(f"/api/v1/catalogue/products/{product_slug}/").status_code == 404
    page.click(".breadcrumbs a:has-text('Products')")
    page.check(f"tr:has-text('{product_title}') input.action-select")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_have_text("Published 1 product(s).")
    shot(page, "product-published")
    product = http.get(f"/api/v1/catalogue/products/{product_slug}/")
    assert product.status_code == 200, product.text
    plans = {plan["name"]: plan for plan in product.json()["plans"]}
    assert {name: plan["price_paise"] for name, plan in plans.items()} == {
        "Monthly": 49900,
        "Lifetime": 99900,
    }

    # --- a learner buys the monthly plan (API + the checkout page's own form)
    learner = register_learner(http)
    order = order_create(http, learner, plans["Monthly"]["id"])
    pay_on_checkout_page(live.url, order["checkout_url"])
    enrollment = wait_for(
        lambda: [
            e
            for e in enrollments(http, learner, live="true")
            if e["product"]["slug"] == product_slug
        ],
        what="the learner's enrollment",
    )[0]
    assert enrollment["plan"]["name"] == "Monthly"

    # --- staff find the order by the learner's email and refund it
    page.goto(f"{ADMIN}payments/order/")
    page.fill("#searchbar", learner.email)
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Paid")
    shot(page, "order-found")
    rows.first.locator("th a").click()
    expect(page.locator("h2, h1").first).to_be_visible()
    shot(page, "order-page")
    page.click("a:has-text('Refund…')")
    page.click("input[type=submit][value='Yes, refund']")
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    shot(page, "refund-needs-a-reason")
    page.fill("#id_reason", "Browser test: asked for a refund")
    page.click("input[type=submit][value='Yes, refund']")
    expect(page.locator(".messagelist .success")).to_contain_text("the order is refunded")
    shot(page, "refunded")

    # --- the learner's access ends
    revoked = wait_for(
        lambda: [
            e
            for e in enrollments(http, learner)
            if e["product"]["slug"] == product_slug and e["revoked_at"]
        ],
        what="the enrollment to be revoked",
    )[0]
    assert revoked["id"] == enrollment["id"]
    assert revoked["is_live"] is False
    assert enrollments(http, learner, live="true") == []
    assert live.sql("SELECT status FROM payments_order WHERE id = %s", [order["id"]]) == [
        ("refunded",)
    ]
