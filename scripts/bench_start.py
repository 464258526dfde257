"""What starting a sitting costs: CPU per ``POST /api/v1/tests/{slug}/sessions/``, in-process.

A Sunday mock opens with thousands of learners pressing Start within a minute, so the
figure that matters is the CPU one start costs the server — the application process and
its PostgreSQL backend together. This script measures both for N distinct learners (each
starts once: a real first start, never a resume) through the real view, middleware and
authentication (``django.test.Client`` with a bearer token, production settings):

* this process's CPU: ``time.process_time()`` around the requests (the test client's own
  work is included, a small overestimate);
* the PostgreSQL backend's CPU: utime + stime of the backend serving this process's
  connection (``SELECT pg_backend_pid()``, ``/proc/<pid>/stat``) before and after.

Two tests: a fixed 100-question test (two sections, choices shuffled) and a random 4 × 25
paper drawn from a bank of 100,000 published questions. Each is measured twice: with an
empty pool of prepared papers (every start generates its paper) and with the pool filled
ahead (``testengine.pool``: every start claims a prepared paper; ``BENCH_START_POOL=0``
skips this). It works in its own database,
``examforge_bench_start`` (``BENCH_DATABASE`` to rename), created on the server
``DATABASE_URL`` points at; the first run bulk-loads the bank (about a minute).

    make bench-start
    BENCH_START_LEARNERS=200 make bench-start
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

os.environ.setdefault("BENCH_DATABASE", "examforge_bench_start")

import bench_engine as be  # noqa: E402  (same folder)
import bench_sessions as bs  # noqa: E402

LEARNERS = int(os.environ.get("BENCH_START_LEARNERS", "500"))
POOL = os.environ.get("BENCH_START_POOL", "1") != "0"
WARMUP = 20
PRODUCT_SLUG = "bench-start-free"
TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def prepare():
    """Database, bank, the two tests and a free product holding both."""
    from django.core.management import call_command
    from django.utils import timezone

    from catalogue import services as catalogue_services
    from catalogue.models import Product, ProductTest
    from testengine.models import Question, Test

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    subjects, chapters, leaves = be.ensure_topics()
    have = Question.objects.filter(external_id__startswith="bench-").count()
    if have < be.BANK_SIZE:
        be.load_bank(leaves, be.BANK_SIZE - have)
    random_test = be.ensure_test(subjects, chapters)
    fixed_test = bs.ensure_test()  # the 100-question fixed test of bench-sessions
    if not fixed_test.shuffle_choices:
        Test.objects.filter(pk=fixed_test.pk).update(
            shuffle_choices=True, updated_at=timezone.now()
        )
        fixed_test.refresh_from_db()
    tests = [fixed_test, random_test]
    product = Product.objects.filter(slug=PRODUCT_SLUG).first()
    if product is None:
        product = catalogue_services.product_create(
            values={"kind": Product.Kind.TEST_SERIES, "title": "Start benchmark (free)"},
            plans=[{"name": "Free", "price_paise": 0, "is_lifetime": True}],
            tests=[{"test": test} for test in tests],
        )
        product.slug = PRODUCT_SLUG
        product.save(update_fields=["slug"])
    for test in tests:
        ProductTest.objects.get_or_create(product=product, test=test)
    if not product.is_published:
        catalogue_services.product_publish(product=product)
    catalogue_services.product_sync_derived(product_ids=[product.pk])
    return tests


def measure(test, group: str, *, prepared: bool) -> dict[str, float]:
    from django.db import connection
    from django.test import Client

    from testengine import pool
    from testengine.models import PreparedPaper
    from testengine.services import papers_prepare

    users = bs.ensure_learners(group, LEARNERS + WARMUP)
    bs.reset(test, users)
    PreparedPaper.objects.filter(test=test).delete()
    if prepared:
        began = time.time()
        papers_prepare(test=test, count=LEARNERS + WARMUP)
        print(f"  prepared {LEARNERS + WARMUP} papers in {time.time() - began:.1f} s")
    tokens = bs.mint_tokens(users)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    url = f"/api/v1/tests/{test.slug}/sessions/"

    def start(token: str) -> None:
        response = client.post(url, HTTP_AUTHORIZATION=f"Bearer {token}")
        if response.status_code != 201:
            sys.exit(f"start answered {response.status_code}: {response.content[:300]!r}")

    for token in tokens[:WARMUP]:
        start(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    db_before, app_before, wall_before = backend_cpu(backend), time.process_time(), time.time()
    for token in tokens[WARMUP:]:
        start(token)
    wall = time.time() - wall_before
    app = time.process_time() - app_before
    db = backend_cpu(backend) - db_before
    if prepared and pool.fresh_count(test.pk):
        sys.exit("a prepared paper was left: some start generated instead")
    return {
        "app_ms": app / LEARNERS * 1000,
        "db_ms": db / LEARNERS * 1000,
        "total_ms": (app + db) / LEARNERS * 1000,
        "wall_ms": wall / LEARNERS * 1000,
    }


def main() -> int:
    url = be.prepare_database()
    env = bs.bench_environment(url)
    bs.setup_django(env)
    tests = prepare()
    cpu = platform.processor() or platform.machine()
    print(f"start benchmark: {LEARNERS} learners per test, {os.cpu_count()} cores, {cpu}")
    print(f"{'test':<40}{'app CPU':>10}{'PG CPU':>10}{'total':>10}{'wall':>10}  (ms/start)")
    for test, group in zip(tests, ("start-fixed", "start-random"), strict=True):
        for prepared in (False, True) if POOL else (False,):
            figures = measure(test, group, prepared=prepared)
            label = f"{test.slug} ({'prepared' if prepared else 'generated'})"
            print(
                f"{label:<40}{figures['app_ms']:>10.2f}{figures['db_ms']:>10.2f}"
                f"{figures['total_ms']:>10.2f}{figures['wall_ms']:>10.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
