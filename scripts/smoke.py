"""Smoke test of a running Examforge: health, docs, and an auth round trip.

Usage: python scripts/smoke.py http://127.0.0.1:8765
Used by .ci/run against gunicorn with production settings (HTTPS is signalled with
X-Forwarded-Proto, as a load balancer would).
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid

HEADERS = {"X-Forwarded-Proto": "https", "Host": "localhost"}


def call(base: str, method: str, path: str, body=None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {**HEADERS, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, raw, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def check(label: str, condition: bool, detail: object = "") -> None:
    print(f"{'ok  ' if condition else 'FAIL'} {label}")
    if not condition:
        print(f"     {detail}")
        raise SystemExit(1)


def main(base: str) -> None:
    status, body, _ = call(base, "GET", "/healthz")
    check("/healthz answers 200", status == 200, body)
    status, body, _ = call(base, "GET", "/readyz")
    check("/readyz: database and cache ok", status == 200 and b'"cache": "ok"' in body, body)
    status, body, headers = call(base, "GET", "/api/docs/")
    check("Swagger UI is served", status == 200 and b"swagger" in body.lower(), status)
    check("HSTS is on in production", "Strict-Transport-Security" in headers, headers)
    status, body, _ = call(base, "GET", "/api/schema/")
    check("OpenAPI schema is served", status == 200 and b"/api/v1/auth/token/" in body, status)

    email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
    status, body, _ = call(
        base,
        "POST",
        "/api/v1/auth/register/",
        {"email": email, "password": "smoke-test-passphrase"},
    )
    check("register → 201 with tokens", status == 201 and b'"refresh"' in body, body)
    tokens = json.loads(body)
    status, body, _ = call(base, "GET", "/api/v1/auth/me/", token=tokens["access"])
    check("me with the access token", status == 200 and email.encode() in body, body)
    status, body, _ = call(
        base, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
    )
    check("refresh rotates", status == 200, body)
    status, body, _ = call(
        base, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
    )
    check("the rotated refresh token is refused", status == 401, body)
    status, body, _ = call(base, "GET", "/api/v1/nope/")
    check(
        "unknown API URL → JSON 404",
        status == 404 and b'"code":"not_found"' in body.replace(b" ", b""),
        body,
    )
    print("smoke test passed")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
