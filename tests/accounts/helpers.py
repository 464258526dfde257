"""Small helpers for the auth API tests."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.accounts.factories import DEFAULT_PASSWORD


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD, **extra) -> dict:
    response = client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json", **extra
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(client: APIClient, token: str):
    return client.post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json")
