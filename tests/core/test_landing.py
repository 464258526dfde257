"""The landing page: where a visitor finds the docs, the admin and the health checks."""

import re

import pytest

HREF = re.compile(r"""\bhref\s*=\s*["']([^"']*)["']""")


@pytest.mark.django_db
def test_the_landing_page_links_the_docs_the_admin_and_the_health_check(client):
    response = client.get("/")

    assert response.status_code == 200
    links = set(HREF.findall(response.content.decode()))
    assert links == {
        "/api/docs/",
        "/api/redoc/",
        "/api/schema/",
        "/admin/",
        "/healthz",
        "/readyz",
    }


@pytest.mark.django_db
def test_every_link_on_the_landing_page_answers(client, admin_user):
    client.force_login(admin_user)
    links = HREF.findall(client.get("/").content.decode())

    statuses = {link: client.get(link).status_code for link in links}

    assert statuses == dict.fromkeys(links, 200)


@pytest.mark.django_db
def test_the_landing_page_mentions_demo_accounts_only_in_debug(client, settings):
    settings.DEBUG = False
    production = client.get("/").content.decode()
    settings.DEBUG = True
    development = client.get("/").content.decode()

    assert "Demo accounts" not in production
    assert "Demo accounts are printed by" in development
