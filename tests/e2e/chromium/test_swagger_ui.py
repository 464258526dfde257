"""Swagger UI at /api/docs/ in Chromium: it renders every operation from our own static
files, "Authorize" takes a learner's JWT, and "Try it out" runs an authenticated request;
nothing is fetched from anywhere but 127.0.0.1 and the Content-Security-Policy holds."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.chromium.conftest import enrollments, register_learner

FREE_PRODUCT = "backend-diagnostic"  # seed_demo's free product
ENROLLMENTS = "/api/v1/me/enrollments/"


def _operation(page, method: str, path: str):
    return page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])").first


def test_swagger_ui_authorize_and_try_it_out(page, shot, watch, live, http):
    learner = register_learner(http)
    product = http.get(f"/api/v1/catalogue/products/{FREE_PRODUCT}/").json()
    enrolled = http.post(
        f"/api/v1/catalogue/products/{FREE_PRODUCT}/enroll/",
        json={"plan": product["plans"][0]["id"]},
        headers=learner.headers,
    )
    assert enrolled.status_code == 201, enrolled.text
    schema = http.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    operation_count = sum(
        method in {"get", "post", "put", "patch", "delete"}
        for item in schema.json()["paths"].values()
        for method in item
    )

    # --- the page renders every operation of the schema
    page.goto("/api/docs/")
    expect(page.locator(".info .title")).to_contain_text("Examforge API")
    expect(page.locator(".opblock")).to_have_count(operation_count)
    shot(page, "rendered")

    # --- without a token, "Try it out" on my enrollments is refused
    operation = _operation(page, "get", ENROLLMENTS)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    watch.expect_error(f"status of 401 (Unauthorized) [{live.url}{ENROLLMENTS}]")
    with page.expect_response(lambda r: ENROLLMENTS in r.url) as refused:
        operation.locator("button.execute").click()
    assert refused.value.status == 401
    expect(
        operation.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("401")
    shot(page, "unauthorized")

    # --- Authorize with the learner's access token
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input[type=text]").first.fill(learner.access)
    shot(page, "authorize-dialog")
    dialog.get_by_role("button", name="Apply credentials").click()
    expect(dialog.get_by_role("button", name="Remove authorization")).to_have_text("Logout")
    shot(page, "authorized")
    dialog.locator("button.btn-done").click()

    # --- Execute again: 200 with the learner's own enrollment in the body
    with page.expect_response(lambda r: ENROLLMENTS in r.url) as answered:
        operation.locator("button.execute").click()
    response = answered.value
    assert response.status == 200
    assert response.request.headers["authorization"] == f"Bearer {learner.access}"
    expect(
        operation.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("200")
    body = operation.locator(".live-responses-table .response-col_description pre").first
    expect(body).to_contain_text(FREE_PRODUCT)
    shot(page, "executed")
    (mine,) = enrollments(http, learner)
    assert mine["product"]["slug"] == FREE_PRODUCT
    assert mine["id"] in body.inner_text()

    # --- every request stayed on 127.0.0.1: the assets are ours, not a CDN's
    assert watch.outside() == []
    paths = {request.split(live.url, 1)[-1].split("?")[0] for request in watch.requests}
    assert "/api/schema/" in paths
    assert ENROLLMENTS in paths
    assert any(path.startswith("/static/drf_spectacular_sidecar/") for path in paths)
    assert watch.csp_violations() == []
