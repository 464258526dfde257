"""/favicon.ico: browsers ask every page's host for it (the admin's pages name no icon)."""

from __future__ import annotations

from django.conf import settings


def test_the_favicon_is_served_from_the_root(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    body = b"".join(response.streaming_content)
    assert body == (settings.WHITENOISE_ROOT / "favicon.ico").read_bytes()
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in response["Cache-Control"]


def test_only_the_root_folder_is_served_there(client, db):
    # The project's files beside the public folder stay private.
    assert client.get("/manage.py").status_code == 404
    assert client.get("/core/public/favicon.ico").status_code == 404
    assert client.get("/favicon.ico/").status_code == 404
