"""End-to-end: the whole app served by gunicorn (+ the task worker) on its own database.

Tests here act only through HTTP, as clients do; ``live.sql`` reads the database for
assertions. The stack is per xdist worker and shared by the tests of a session; each
journey creates the users and data it needs, so journeys never depend on each other.
"""

from __future__ import annotations

import httpx
import pytest

from tests.live import LiveStack


@pytest.fixture(scope="session")
def live():
    running = LiveStack.from_environment()  # under `python tests/live.py -- pytest …`
    if running is not None:
        yield running
        return
    with LiveStack() as stack:
        yield stack


@pytest.fixture
def http(live):
    """A fresh client (own cookies) against the live stack."""
    with httpx.Client(base_url=live.url, timeout=30, follow_redirects=False) as client:
        yield client
