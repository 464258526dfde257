"""The live stack itself: what every journey relies on."""

from __future__ import annotations

import re


def test_stack_serves_the_seeded_demo_with_production_middleware(live, http):
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"] == "ok"

    products = http.get("/api/v1/catalogue/products/")
    assert products.status_code == 200
    assert products.json()["count"] > 0  # seed_demo ran
    # Production middleware: CSP and the security headers are on every response.
    assert "content-security-policy" in http.get("/").headers
    assert products.headers["x-content-type-options"] == "nosniff"


def test_metrics_need_the_token(live, http):
    assert http.get("/metrics").status_code == 401
    wrong = http.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401
    scraped = http.get("/metrics", headers={"Authorization": f"Bearer {live.metrics_token}"})
    assert scraped.status_code == 200
    # Summed over the gunicorn workers (multiprocess mode): core.metrics' series.
    assert "django_http_requests_latency_seconds_by_view_method_bucket{" in scraped.text
    assert "django_db_execute_total{" in scraped.text


def test_pages_with_static_files_render(live, http):
    """The manifest storage serves hashed static files only after collectstatic (as a
    release runs it): without it every admin page and Swagger UI answered 500."""
    login = http.get("/admin/login/")
    assert login.status_code == 200, login.text[:500]
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login.text)
    assert css, "hashed static URLs from the manifest"
    assert http.get(css.group(1)).status_code == 200
    assert http.get("/api/docs/").status_code == 200


def test_phone_login_codes_arrive_as_text_message_files(live, http):
    phone = "+919800011122"
    requested = http.post("/api/v1/auth/otp/request/", json={"phone": phone})
    assert requested.status_code == 202, requested.text
    message = next(text for text in reversed(live.texts()) if text.startswith(f"To: {phone}\n"))
    code = next(word for word in message.split() if word.isdigit() and len(word) == 6)

    verified = http.post("/api/v1/auth/otp/verify/", json={"phone": phone, "code": code})

    assert verified.status_code == 200, verified.text
    assert verified.json()["user"]["phone"] == phone
    assert verified.json()["user"]["phone_verified"] is True
