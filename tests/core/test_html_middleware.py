"""The JSON API skips the middleware only HTML pages need; pages keep all of it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_json_api_answer_carries_fixed_strict_headers_and_no_session(learner_client, client):
    response = learner_client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert "Cookie" not in response.get("Vary", "")
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_an_anonymous_api_error_is_json_with_the_strict_policy(client):
    response = client.post("/api/v1/auth/token/", {}, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


def test_pages_keep_sessions_csrf_and_the_configured_policy(client):
    page = client.get("/admin/login/")

    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert "default-src 'self'" in page["Content-Security-Policy"].split("; ")
    assert page["X-Frame-Options"] == "DENY"
    # Posting the admin form without the CSRF token is still refused.
    csrf_client = type(client)(enforce_csrf_checks=True)
    refused = csrf_client.post("/admin/login/", {"username": "a", "password": "b"})
    assert refused.status_code == 403


def test_the_api_docs_are_a_page_not_the_json_api(client):
    docs = client.get("/api/docs/")

    assert "default-src 'self'" in docs["Content-Security-Policy"].split("; ")


def test_csrf_and_frame_protection_stay_in_the_middleware(settings):
    from django.middleware.clickjacking import XFrameOptionsMiddleware
    from django.middleware.csrf import CsrfViewMiddleware
    from django.utils.module_loading import import_string

    classes = [import_string(path) for path in settings.MIDDLEWARE]

    assert any(issubclass(c, CsrfViewMiddleware) for c in classes)
    assert any(issubclass(c, XFrameOptionsMiddleware) for c in classes)
