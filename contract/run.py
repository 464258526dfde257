"""The API contract, checked against a running Examforge: clients generated from the live
schema must type-check and carry a learner from registration to invoice.

    make contract                                  # a fresh live stack (tests/live.py), then this
    LIVE_URL=http://127.0.0.1:8000 python contract/run.py          # any running server

Steps (each fails the run):
1. fetch ``/api/schema/`` from the server into contract/generated/openapi.json;
2. generate the Python client with openapi-python-client (contract/openapi-python-client.yaml)
   into contract/generated/python/examforge_client: any generator warning fails;
3. ``mypy --strict`` over the client and contract/journey.py (contract/mypy.ini);
4. run the Python journey against the server;
5. ``npm ci``, then openapi-typescript (contract/generated/ts/schema.ts), ``tsc --strict``
   over contract/journey.ts, and run it with node.

``CONTRACT_SKIP_TS=1`` leaves out step 5 (a machine without node). Everything generated goes
to contract/generated/ (git-ignored); timings per step are printed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

CONTRACT = Path(__file__).resolve().parent
ROOT = CONTRACT.parent
GENERATED = CONTRACT / "generated"
PYTHON_OUT = GENERATED / "python" / "examforge_client"
VENV_BIN = ROOT / ".venv" / "bin"
TIMINGS: list[tuple[str, float]] = []


class StepFailed(Exception):
    pass


def timed(name: str):
    def wrap(function):
        def run(*args, **kwargs):
            print(f"\n--- contract: {name}", flush=True)
            started = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                TIMINGS.append((name, time.monotonic() - started))

        return run

    return wrap


def sh(*argv: str | Path, cwd: Path = CONTRACT, env: dict[str, str] | None = None) -> str:
    """Run a command, echo its output; a non-zero exit fails the step."""
    result = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).rstrip()
    if output:
        print(output, flush=True)
    if result.returncode:
        raise StepFailed(f"{Path(str(argv[0])).name} exited {result.returncode}")
    return output


@timed("fetch the live schema")
def fetch_schema(url: str) -> Path:
    GENERATED.mkdir(exist_ok=True)
    response = httpx.get(f"{url}/api/schema/", params={"format": "json"}, timeout=60)
    response.raise_for_status()
    schema = response.json()
    path = GENERATED / "openapi.json"
    path.write_text(json.dumps(schema, indent=1))
    operations = sum(len(item) for item in schema["paths"].values())
    print(f"{schema['info']['title']} {schema['info']['version']}: {operations} operations")
    return path


@timed("generate the Python client (openapi-python-client, no warning allowed)")
def generate_python(schema: Path, out: Path = PYTHON_OUT) -> None:
    from openapi_python_client import generate
    from openapi_python_client.config import Config, ConfigFile, MetaType

    # The generator's post hooks (ruff) run from PATH: the project's own ruff.
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    config = Config.from_sources(
        ConfigFile.load_from_path(CONTRACT / "openapi-python-client.yaml"),
        MetaType.NONE,
        schema,
        "utf-8",
        overwrite=True,
        output_path=out,
    )
    errors = generate(config=config)
    for error in errors:
        print(f"{error.header}\n  {error.detail or ''}")
    modules = sum(1 for _ in out.rglob("*.py"))
    print(f"{modules} modules, {len(errors)} generator warnings or errors")
    if errors:
        raise StepFailed(f"openapi-python-client reported {len(errors)} problem(s)")


@timed("mypy --strict (generated client + contract/journey.py)")
def typecheck_python() -> None:
    sh(
        VENV_BIN / "mypy",
        "--config-file",
        CONTRACT / "mypy.ini",
        "--cache-dir",
        GENERATED / ".mypy_cache",
        PYTHON_OUT,
        CONTRACT / "journey.py",
    )


@timed("the learner journey through the Python client")
def journey_python(url: str) -> None:
    sh(
        VENV_BIN / "python",
        CONTRACT / "journey.py",
        env={"LIVE_URL": url, "PYTHONPATH": str(PYTHON_OUT.parent)},
    )


@timed("TypeScript: npm ci, openapi-typescript, tsc --strict, node")
def typescript(url: str, schema: Path) -> None:
    if not shutil.which("node") or not shutil.which("npm"):
        raise StepFailed("node and npm are needed (Debian: apt-get install nodejs npm)")
    sh("node", "--version")
    sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    out = GENERATED / "ts"
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = CONTRACT / "node_modules" / ".bin"
    # Properties with a default are optional in a request (a save's marked_for_review):
    # openapi-typescript's default (--default-non-nullable) would make them required.
    generated = sh(
        bin_dir / "openapi-typescript",
        schema,
        "--default-non-nullable=false",
        "--output",
        out / "schema.ts",
    )
    if "warn" in generated.lower():
        raise StepFailed("openapi-typescript warned")
    sh(bin_dir / "tsc", "--strict", "--project", CONTRACT / "tsconfig.json")
    sh("node", GENERATED / "js" / "journey.js", env={"LIVE_URL": url})


def main() -> int:
    url = os.environ.get("LIVE_URL", "").rstrip("/")
    if not url:
        print(__doc__)
        return 2
    started = time.monotonic()
    failed = ""
    try:
        schema = fetch_schema(url)
        shutil.rmtree(GENERATED / "python", ignore_errors=True)
        generate_python(schema)
        typecheck_python()
        journey_python(url)
        if os.environ.get("CONTRACT_SKIP_TS") != "1":
            typescript(url, schema)
    except StepFailed as exc:
        failed = str(exc)
    print("\n=== contract summary")
    for name, seconds in TIMINGS:
        print(f"{seconds:6.1f}s  {name}")
    print(f"{time.monotonic() - started:6.1f}s  in all")
    if failed:
        print(f"contract: FAILED ({failed})")
        return 1
    print("contract: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
