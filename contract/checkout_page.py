"""The checkout page, as the app's webview shows it: the one part of the journey that is a
web page, not the API, so raw HTTP. Opens the order's signed ``checkout_url`` (no login: the
link is the authorisation), presses the simulated gateway's "Pay" button (a form post with
Django's CSRF token and cookie) and follows the redirect back to the page."""

from __future__ import annotations

import re
from html import unescape

import httpx

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _inputs(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        attrs = dict(ATTRIBUTE.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return fields


def pay_on_checkout_page(base_url: str, checkout_url: str) -> str:
    """Pay on the page; returns the page shown afterwards (it says "Paid")."""
    with httpx.Client(base_url=base_url, timeout=30) as webview:
        page = webview.get(checkout_url)
        assert page.status_code == 200, page.text[:300]
        for attributes, inner in FORM.findall(page.text):
            fields = _inputs(inner)
            if fields.get("outcome") == "pay":
                action = unescape(dict(ATTRIBUTE.findall(attributes))["action"])
                break
        else:
            raise AssertionError("the checkout page has no Pay button")
        assert fields.get("csrfmiddlewaretoken"), "the form carries Django's CSRF token"
        answer = webview.post(action, data=fields)
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        done = webview.get(answer.headers["location"])
        assert done.status_code == 200, done.text[:300]
        assert "Paid" in done.text
        return done.text
