"""API fuzzing: schemathesis against a running Examforge, as a learner and as staff.

    make fuzz                                   # a fresh live stack (tests/live.py), then this
    python tests/live.py -- .venv/bin/python scripts/fuzz.py     # the same, by hand
    LIVE_URL=http://127.0.0.1:8000 python scripts/fuzz.py        # any running server

The schema is the server's own (``/api/schema/``). Two runs, one per role, each with the
checks not_a_server_error, status_code_conformance, content_type_conformance and
response_schema_conformance, in every phase schemathesis 4 has: the schema's examples,
coverage (boundary and invalid values), random fuzzing, and stateful sequences over the
links schemathesis infers from the schema (drf-spectacular writes no OpenAPI links).

One answer is not the app's and so not in its schema: a request line longer than the HTTP
server reads (gunicorn's ``limit_request_line``, 4094 bytes) gets 414 as a small HTML
page before the app sees it. The fuzzer's copy of the schema adds that answer to every
operation with path or query parameters (``with_http_server_answers``); the schema
clients generate from stays what Examforge itself answers.

Who is who:
- learner: a fresh account registered through ``POST /auth/register/`` (not the demo
  learner, whose password is the schema's example for password change);
- staff: the demo superuser ``seed_demo`` creates (``FUZZ_STAFF_EMAIL`` /
  ``FUZZ_STAFF_PASSWORD`` to use another), logged in through ``POST /auth/token/``.
The learner registers before anything is fuzzed (registration allows 10 an hour per
address, and the runs use them up); the staff logs in just before its run, so its access
token (10 minutes) outlives the run. Logging out, revoking devices or changing passwords
during a run does not stop the access tokens: they are checked by signature only.

Nothing is excluded: throttled endpoints answer 429 (documented), staff operations
answer a learner 403 (documented). Knobs (environment): FUZZ_SEED (default 20261123),
FUZZ_MAX_EXAMPLES (25 per operation and batch), FUZZ_MAX_TIME (seconds per role, 180),
FUZZ_ROLES ("learner,staff"), FUZZ_ARGS (more ``st run`` options, e.g.
``--include-path-regex /orders/``). Reports (JUnit, NDJSON, a pytest file that replays
each failure) go to artifacts/fuzz/<role>/. Exit status: non-zero if any run failed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "fuzz"
ST = ROOT / ".venv" / "bin" / "st"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
DEMO_STAFF = ("admin@examforge.local", "examforge-admin-demo")  # accounts/demo.py
SEED = os.environ.get("FUZZ_SEED", "20261123")


@dataclass
class Outcome:
    role: str
    returncode: int
    seconds: float
    operations: str = "?"
    cases: str = "?"
    failures: str = "0"
    links: str = "?"


def _post(client: httpx.Client, path: str, body: dict, *, patience: float = 90) -> dict:
    """POST with JSON; waits out a 429 (the auth throttles are per minute) once."""
    deadline = time.monotonic() + patience
    while True:
        response = client.post(path, json=body)
        if response.status_code != 429 or time.monotonic() > deadline:
            break
        wait = float(response.headers.get("Retry-After", "5"))
        print(f"  {path} throttled; waiting {wait:.0f} s", flush=True)
        time.sleep(min(wait, max(deadline - time.monotonic(), 0)) + 0.5)
    if response.status_code not in (200, 201):
        raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
    return response.json()


def learner_token(client: httpx.Client) -> str:
    email = f"fuzz-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": secrets.token_urlsafe(18), "full_name": "Fuzz Learner"}
    return _post(client, "/api/v1/auth/register/", body)["access"]


def staff_token(client: httpx.Client) -> str:
    email = os.environ.get("FUZZ_STAFF_EMAIL", DEMO_STAFF[0])
    password = os.environ.get("FUZZ_STAFF_PASSWORD", DEMO_STAFF[1])
    data = _post(client, "/api/v1/auth/token/", {"email": email, "password": password})
    me = client.get("/api/v1/auth/me/", headers={"Authorization": f"Bearer {data['access']}"})
    if not me.json().get("is_staff"):
        raise SystemExit(f"{email} is not a staff account")
    return data["access"]


HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
URI_TOO_LONG = {
    "description": "URI too long: answered by the HTTP server (gunicorn), as HTML.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


def with_http_server_answers(schema: dict) -> dict:
    """The schema plus the HTTP server's own 414 on every operation with parameters."""
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            parameters = operation.get("parameters", [])
            if any(p.get("in") in ("path", "query") for p in parameters):
                operation.setdefault("responses", {}).setdefault("414", URI_TOO_LONG)
    return schema


def _count(pattern: str, text: str, default: str = "?") -> str:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else default


def run(role: str, url: str, token: str, schema: Path) -> Outcome:
    reports = ARTIFACTS / role
    reports.mkdir(parents=True, exist_ok=True)
    argv = [
        str(ST),
        "run",
        str(schema),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("FUZZ_MAX_EXAMPLES", "25"),
        "--seed",
        SEED,
        "--max-time",
        os.environ.get("FUZZ_MAX_TIME", "180"),
        "--workers",
        "1",  # one stream of requests: a finding replays from the seed
        "--generation-database",
        "none",  # no examples carried over from earlier runs: the seed alone decides
        "--request-timeout",
        "30",
        "--report",
        "junit,ndjson,pytest",
        "--report-dir",
        str(reports),
        "--no-color",
        *shlex.split(os.environ.get("FUZZ_ARGS", "")),
    ]
    print(f"\n=== fuzz as {role}", flush=True)
    started = time.monotonic()
    log = reports / "output.txt"
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, cwd=reports, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout or ():
            sys.stdout.write(line)
            out.write(line)
        returncode = process.wait()
    text = log.read_text()
    return Outcome(
        role=role,
        returncode=returncode,
        seconds=time.monotonic() - started,
        operations=_count(r"^\s*Tested:\s*(\d+)", text),
        cases=_count(r"^\s*(\d+) generated", text),
        failures=_count(r"found (\d+) unique failures?", text, "0"),
        links=_count(r"API Links:\s*(\d+ covered / \d+)", text),
    )


def main() -> int:
    url = os.environ.get("LIVE_URL", "").rstrip("/")
    if not url:
        print(__doc__)
        return 2
    roles = [r.strip() for r in os.environ.get("FUZZ_ROLES", "learner,staff").split(",") if r]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with httpx.Client(base_url=url, timeout=30) as client:
        schema = ARTIFACTS / "openapi.json"
        response = client.get("/api/schema/", params={"format": "json"})
        response.raise_for_status()
        schema.write_text(json.dumps(with_http_server_answers(response.json())))
        # Registration first: the staff run's fuzzing spends the hourly registrations.
        tokens = {"learner": learner_token(client)} if "learner" in roles else {}
        outcomes = []
        for role in roles:
            token = tokens.get(role) or staff_token(client)
            outcomes.append(run(role, url, token, schema))

    print(f"\n=== fuzz summary (seed {SEED})")
    print(f"{'role':8} {'operations':>10} {'cases':>8} {'failures':>8} {'links':>14} {'time':>7}")
    for o in outcomes:
        print(
            f"{o.role:8} {o.operations:>10} {o.cases:>8} {o.failures:>8} {o.links:>14} "
            f"{o.seconds:>6.0f}s"
        )
    print(f"reports: {ARTIFACTS.relative_to(ROOT)}/<role>/")
    return 1 if any(o.returncode for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
