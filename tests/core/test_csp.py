"""Content-Security-Policy on our HTML pages; the API docs still load under it."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_swagger_ui_loads_its_assets_under_the_policy(client, settings):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    policy = _policy(page)
    assert "'unsafe-inline'" not in policy["script-src"]
    html = page.content.decode()
    assert "<script>" not in html  # no inline script: the start-up script has its own URL
    *assets, start_up = re.findall(r'<script src="([^"]+)"', html)
    assets += re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert start_up.startswith("/api/docs/?script")
    assert len(assets) == 3
    for url in assets:
        assert url.startswith(settings.STATIC_URL), url  # same origin: 'self' allows it
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url  # the sidecar's file
    assert client.get("/api/docs/?script")["Content-Type"].startswith("application/javascript")
    assert client.get("/api/schema/").status_code == 200


def test_redoc_loads_under_the_policy(client, settings):
    page = client.get("/api/redoc/")

    assert page.status_code == 200
    policy = _policy(page)
    html = page.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    nonces = {f"'nonce-{n}'" for n in re.findall(r'nonce="([^"]+)"', "".join(inline))}
    assert len(nonces) == len(inline)  # every inline script carries the response's nonce
    assert nonces <= set(policy["script-src"])
    assert "blob:" in policy["worker-src"]  # ReDoc's web worker
    for url in re.findall(r'<script src="([^"]+)"', html):
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url


def test_the_admin_and_the_landing_page_have_the_policy(client):
    for url in ("/", "/admin/login/"):
        policy = _policy(client.get(url))

        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
