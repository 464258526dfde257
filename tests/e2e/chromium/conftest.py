"""Browser tests: Playwright for Python driving Debian's Chromium against the live stack.

No browser is downloaded: Playwright launches the system's ``chromium`` (``CHROMIUM`` names
another binary). Without it the tests skip, saying how to install it, except where they
are required (``CI=true`` or ``BROWSER_TESTS=required``): there they fail, so CI can never
pass by skipping them.

Playwright's sync API marks an asyncio loop as running for as long as it is started, and
Django refuses the ORM in a thread with a running loop. So the browser lives for one test
module (``loadfile`` keeps a module on one xdist worker) and is stopped before the next
module's tests run; the tests themselves act through HTTP and the browser only, and read
the stack's database through ``live.sql`` (psycopg, not the ORM).

Every page is watched: each request's host must be 127.0.0.1 (Chromium also resolves no
other name, ``--host-resolver-rules``), and no console error, page error or
Content-Security-Policy violation may occur. Each step is a full-page screenshot in
``artifacts/screenshots/<test>/`` (``BROWSER_SCREENSHOTS`` moves the folder).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.live import ROOT

HERE = Path(__file__).resolve().parent
INSTALL_HINT = "install Debian's chromium: apt-get install chromium"
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or ROOT / "artifacts" / "screenshots")
LOCAL_HOST = "127.0.0.1"
# Chromium's own background traffic is off (Playwright's defaults), and no host name but
# the loopback address resolves: nothing can leave the machine, even by mistake.
CHROMIUM_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
TIMEOUT_MS = 15_000
# Chromium reports a CSP refusal on the console by itself; the listener also reports the
# ones it does not (e.g. report-only), in the same words.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} `
    + `blocked ${event.blockedURI || "inline code"}`);
});
"""


def browser_tests_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("BROWSER_TESTS", "").lower() == "required"
    )


def chromium_path() -> str | None:
    named = os.environ.get("CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _unavailable(reason: str) -> None:
    if browser_tests_required():
        pytest.fail(f"browser tests are required here (CI / BROWSER_TESTS=required): {reason}")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items) -> None:
    """Skip at collection when there is no browser (and none is required), so no live
    stack is started for tests that cannot run."""
    if chromium_path() is not None or browser_tests_required():
        return
    skip = pytest.mark.skip(reason=f"no chromium found; {INSTALL_HINT}")
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser(live) -> Iterator:
    """One Chromium per test module (see the module docstring for why not per session)."""
    executable = chromium_path()
    if executable is None:
        _unavailable(f"no chromium found; {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev.txt installs it
        _unavailable("the playwright package is missing; run make install")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # the loop is gone: the next module's tests may use the ORM again
    else:
        pytest.fail("Playwright left an asyncio loop running; Django's ORM would refuse to work")


@dataclass
class Watch:
    """What the pages of one test did: requests, console errors, page errors."""

    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str, str]] = field(default_factory=list)  # type, text, page
    page_errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # console errors a test provokes

    def expect_error(self, text: str) -> None:
        """A console error the test provokes on purpose (e.g. a refused request)."""
        self.expected.append(text)

    def outside(self) -> list[str]:
        """Requests whose host is not the loopback address (data: and blob: stay local)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != LOCAL_HOST
        ]

    def errors(self) -> list[str]:
        return [
            f"{page}: {text}"
            for kind, text, page in self.console
            if kind == "error" and not any(expected in text for expected in self.expected)
        ]

    def csp_violations(self) -> list[str]:
        return [
            f"{page}: {text}"
            for _, text, page in self.console
            if "content security policy" in text.lower()
        ]


class Screenshots:
    """Full-page screenshots of one test's steps: ``<folder>/<test>/NN-step.png``."""

    def __init__(self, test_name: str) -> None:
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)  # no stale steps from an earlier run
        self.taken: list[Path] = []

    def __call__(self, page, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def shot(request) -> Screenshots:
    return Screenshots(request.node.name)


@pytest.fixture
def page(browser, live, watch, shot, request) -> Iterator:
    """A fresh browser context (own cookies and storage) and a page in it, watched."""
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_LISTENER)
    context.on("request", lambda req: watch.requests.append(req.url))

    def follow(new_page) -> None:
        def console(msg) -> None:
            source = msg.location.get("url") or ""
            text = f"{msg.text} [{source}]" if source else msg.text
            watch.console.append((msg.type, text, new_page.url))

        new_page.on("console", console)
        new_page.on("pageerror", lambda exc: watch.page_errors.append(f"{new_page.url}: {exc}"))

    context.on("page", follow)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot(tab, "failed")
    context.close()
    assert watch.outside() == [], "requests left 127.0.0.1"
    assert watch.page_errors == [], "uncaught errors in the page"
    assert watch.errors() == [], "console errors"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report  # the page fixture screenshots a failed test's last state
    return report


# --- the learner's side, through the API (as the app would) ---------------------------------


@dataclass
class Learner:
    email: str
    password: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def register_learner(http: httpx.Client) -> Learner:
    """A new learner account (one per test: nothing is shared with other journeys)."""
    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    password = f"Browser-{uuid.uuid4().hex}"
    response = http.post(
        "/api/v1/auth/register/",
        json={"email": email, "password": password, "full_name": "Browser Learner"},
    )
    assert response.status_code == 201, response.text
    return Learner(email=email, password=password, access=response.json()["access"])


def order_create(http: httpx.Client, learner: Learner, plan_id: int) -> dict:
    response = http.post(
        "/api/v1/orders/",
        json={"plan": plan_id},
        headers={**learner.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    return response.json()


def enrollments(http: httpx.Client, learner: Learner, **params: str) -> list[dict]:
    response = http.get("/api/v1/me/enrollments/", params=params, headers=learner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["results"] if isinstance(body, dict) else body
