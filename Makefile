# Examforge — developer entry points. Quick start: `make run`, `make test`.
# Without DATABASE_URL every target that needs a database starts the embedded PostgreSQL
# (scripts/devdb.py, data in .pgdata/) for as long as it runs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
# Two install stamps, named by the requirements they were made from: `make run` needs only
# the runtime and the embedded PostgreSQL (requirements-local.txt); the dev targets add the
# tools (requirements-dev.txt, which includes it). Either order installs each set once.
sum = $(shell cat $(1) | cksum | cut -d' ' -f1)
STAMP_LOCAL := $(VENV)/.installed-local-$(call sum,requirements.txt requirements-local.txt)
STAMP_DEV   := $(VENV)/.installed-dev-$(call sum,requirements.txt requirements-local.txt requirements-dev.txt)
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

WITH_DB := $(if $(DATABASE_URL),,$(PY) scripts/devdb.py exec --)

.PHONY: install install-local run test e2e test-browser lint typecheck format check-migrations schema http-file models-diagram bench bench-engine bench-import bench-catalogue bench-sessions bench-calibration bench-adaptive bench-metrics bench-mixed bench-start bench-mock bench-pg bench-finalize fuzz faults contract clean db-stop

# A new venv gets a current pip straight from the host's pip (ensurepip's older one takes
# several times as long to resolve these requirements); ensurepip when the host has none.
# --no-compile: Python compiles the modules it imports, not all 12,000 files up front.
$(STAMP_LOCAL): requirements.txt requirements-local.txt
	@test -x $(VENV)/bin/pip || { $(PYTHON) -m venv --without-pip $(VENV) && \
	  { $(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check --upgrade pip || \
	    { $(PY) -m ensurepip --default-pip && $(PIP) --upgrade pip; }; }; }
	$(PIP) --no-compile -r requirements-local.txt
	@rm -f $(VENV)/.installed-local-*
	@touch $@

$(STAMP_DEV): $(STAMP_LOCAL) requirements-dev.txt
	$(PIP) --no-compile -r requirements-dev.txt
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

install-local: $(STAMP_LOCAL)  ## what `make run` needs: the runtime and the embedded PostgreSQL

install: $(STAMP_DEV)  ## that plus the development and test tools

run: install-local  ## set up, load demo data and serve on http://$(HOST):$(PORT)
	$(WITH_DB) env HOST=$(HOST) PORT=$(PORT) sh scripts/run.sh

test: install  ## the whole suite on PostgreSQL
	$(WITH_DB) $(PY) -m pytest $(PYTEST_ARGS)

e2e: install  ## only the end-to-end journeys (tests/e2e) against a live gunicorn stack
	$(WITH_DB) $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

test-browser: install  ## only the browser tests (Playwright + Debian's chromium), required
	$(WITH_DB) env BROWSER_TESTS=required $(PY) -m pytest tests/e2e/chromium $(PYTEST_ARGS)

lint: install  ## ruff check and format, the app boundaries (lint-imports), then mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

typecheck: install  ## mypy with django-stubs over the app code (config: pyproject.toml [tool.mypy]; no database)
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-migrations: install
	$(WITH_DB) $(PY) manage.py makemigrations --check --dry-run

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file openapi.yaml

http-file: install  ## docs/examforge.http (REST Client / JetBrains) from the OpenAPI schema
	$(PY) manage.py spectacular --file openapi.yaml
	$(PY) scripts/http_from_openapi.py openapi.yaml docs/examforge.http

models-diagram: install  ## the Mermaid data-model diagram in docs/architecture.md (no database)
	$(PY) scripts/models_diagram.py docs/architecture.md

fuzz: install  ## schemathesis against a fresh live stack (gunicorn, production settings), as a learner and as staff
	$(WITH_DB) $(PY) tests/live.py -- $(PY) scripts/fuzz.py

contract: install  ## clients generated from the live schema (Python, TypeScript) type-check and carry a learner through
	$(WITH_DB) $(PY) tests/live.py -- $(PY) contract/run.py

faults: install  ## PostgreSQL restarts and stops under gunicorn (production settings, DB_POOL) and db_worker; its own embedded PostgreSQL
	$(PY) scripts/faults.py

bench: bench-engine bench-import bench-catalogue bench-sessions bench-mixed bench-metrics bench-calibration bench-adaptive bench-start bench-pg bench-finalize  ## every benchmark but bench-mock (30+ min); figures go in docs/benchmarks.md

bench-engine: install  ## generate_paper on a 100,000-question bank (own database)
	$(WITH_DB) $(PY) scripts/bench_engine.py

bench-catalogue: install  ## the public product list over 5,000 products
	$(WITH_DB) $(PY) scripts/bench_catalogue.py

bench-import: install  ## import a 10,000-question CSV
	$(WITH_DB) sh -c '$(PY) manage.py migrate --noinput -v0 && $(PY) scripts/bench_import.py'

bench-sessions: install  ## autosave under load: 100 learners against gunicorn (own database)
	$(WITH_DB) $(PY) scripts/bench_sessions.py

bench-start: install  ## CPU per test start (app + PostgreSQL), fixed and random papers, in-process (own database)
	$(WITH_DB) $(PY) scripts/bench_start.py

bench-finalize: install  ## the clock's end: the expiry sweep over 10,000 sittings of a 100-question mock, 1 and 2 processes (own database)
	$(WITH_DB) $(PY) scripts/bench_finalize.py

bench-mock: install  ## the Sunday mock: 10,000 learners start, save for 10 min, are finalized (wrk; STACK=2: HAProxy + PgBouncer, kill -9)
	$(WITH_DB) $(PY) scripts/bench_mock.py --stack $(or $(STACK),1)

bench-pg: install  ## PostgreSQL's ceiling for the autosave: pgbench with the app's own statements, prepared and simple
	$(WITH_DB) $(PY) scripts/bench_pg.py

bench-mixed: install  ## mixed workload (70 % browsing, 25 % saves, 5 % starts/submits) and capacity
	$(WITH_DB) $(PY) scripts/bench_mixed.py

bench-metrics: install  ## CPU per request of the Prometheus metrics, off vs on (in-process A/B)
	$(WITH_DB) $(PY) scripts/bench_metrics.py

bench-calibration: install  ## item calibration recovers known parameters (no database)
	$(PY) scripts/bench_calibration.py

bench-adaptive: install  ## simulated adaptive tests against random tests and catsim (no database)
	$(PY) scripts/bench_adaptive.py

db-stop:
	$(PY) scripts/devdb.py stop

clean: db-stop
	rm -rf .pgdata staticfiles .pytest_cache var
