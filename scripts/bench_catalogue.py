"""Benchmark: the public catalogue list on 5,000 published products.

Target: with 5,000 products, ``GET
/api/v1/catalogue/products/`` (a page of 20) serves in under 15 ms median, in-process. The
list is served from the versioned response cache (cached with invalidation), so
the target applies to how it is served in steady state — (b) and (d) below; the script
exits with status 1 when either median is above 15 ms. The cold case (a), the first
request for a URL after a catalogue edit, is reported alongside. Each request goes
through ``django.test.Client`` (the whole middleware and DRF stack, no network):

(a) anonymous, uncached — the catalogue version is bumped before every request, so the
    response cache misses (the first visitor after any catalogue edit);
(b) anonymous, cached — every later visitor;
(c) filtered and searched (``?q=postgres&kind=test_series&ordering=price``), uncached;
(d) logged in with a JWT — the list carries no per-user data, so it shares the cache;
(e) search, uncached, exact words against the typos a learner makes: ``postgresql`` (full
    text), ``postgrsql`` and ``postgress`` (close catalogue words), ``djnago`` (letters
    swapped), and ``intervews``, a typo of a word in every summary (the worst case: every
    product is similar), each also served from the cache.

It works in its own database, ``examforge_bench`` (shared with ``bench_engine.py``; another
with ``BENCH_DATABASE=…``), on the server ``DATABASE_URL`` points at, so the development
data is never touched. The first run bulk-loads the products (a few seconds); later runs
reuse them.

    .venv/bin/python scripts/devdb.py exec -- .venv/bin/python scripts/bench_catalogue.py
"""

from __future__ import annotations

import html
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_engine import percentile, prepare_database  # noqa: E402  (same folder)

PRODUCTS = 5_000
TARGET_MEDIAN_MS = 15.0
WARMUP, MEASURED = 10, 100
PREFIX = "bench-"
LIST_URL = "/api/v1/catalogue/products/"
SEARCH_URL = LIST_URL + "?q=postgres&kind=test_series&ordering=price"
# (label, q): exact, typos by kind, and the worst case (a word every summary holds).
SEARCHES = (
    ("exact", "postgresql"),
    ("typo, close word", "postgrsql"),
    ("typo, close word", "postgress"),
    ("typo, swapped letters", "djnago"),
    ("typo of a word in every summary", "intervews"),
)
BENCH_USER = "bench-learner@examforge.local"
TEST_POOL = 20

# category slug → (name, parent slug, subjects: (subject, tags))
CATEGORIES: dict[str, tuple[str, str | None, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "engineering": ("Engineering", None, ()),
    "placement": ("Placement prep", None, ()),
    "backend": (
        "Backend",
        "engineering",
        (
            ("Django", ("django", "python")),
            ("FastAPI", ("fastapi", "python")),
            ("NestJS", ("nestjs", "typescript")),
            ("Spring Boot", ("spring", "java")),
            ("Node.js", ("nodejs", "javascript")),
            ("REST API Design", ("rest", "http")),
        ),
    ),
    "databases": (
        "Databases",
        "engineering",
        (
            ("PostgreSQL", ("postgresql", "sql")),
            ("Postgres Performance", ("postgresql", "indexes")),
            ("MySQL", ("mysql", "sql")),
            ("MongoDB", ("mongodb", "nosql")),
            ("Redis", ("redis", "caching")),
            ("SQL", ("sql",)),
        ),
    ),
    "frontend": (
        "Frontend",
        "engineering",
        (
            ("React", ("react", "javascript")),
            ("TypeScript", ("typescript",)),
            ("Next.js", ("nextjs", "react")),
        ),
    ),
    "devops": (
        "DevOps",
        "engineering",
        (
            ("Docker", ("docker", "containers")),
            ("Kubernetes", ("kubernetes", "containers")),
            ("AWS", ("aws", "cloud")),
            ("Linux", ("linux",)),
        ),
    ),
    "security": (
        "Security",
        "engineering",
        (("Web Security", ("security", "owasp")), ("Cryptography", ("security", "crypto"))),
    ),
    "aptitude": (
        "Aptitude",
        "placement",
        (
            ("Quantitative Aptitude", ("aptitude", "maths")),
            ("Logical Reasoning", ("aptitude", "reasoning")),
            ("Verbal Ability", ("aptitude", "english")),
        ),
    ),
    "dsa": (
        "Data structures & algorithms",
        "placement",
        (
            ("Dynamic Programming", ("dsa", "dp")),
            ("Graphs", ("dsa", "graphs")),
            ("Arrays and Strings", ("dsa",)),
        ),
    ),
    "interviews": (
        "Interviews",
        "placement",
        (
            ("System Design", ("system-design",)),
            ("Backend Interviews", ("interviews", "backend")),
        ),
    ),
}
KINDS = ("test_series",) * 5 + ("course",) * 3 + ("program", "bundle")
TITLES = {
    "test_series": ("{} Test Series", "{} Mock Tests", "{} Practice Papers"),
    "course": ("{} Crash Course", "{} Masterclass", "{} Fundamentals"),
    "program": ("{} Internship Program", "{} Bootcamp"),
    "bundle": ("Complete {} Bundle", "{} Mega Pack"),
}
LEVELS = ("beginner", "intermediate", "advanced", "all")
EXTRA_TAGS = ("placement", "interview", "2025", "revision", "hindi", "pyq")
PRICES = (199, 299, 499, 799, 999, 1_499, 2_999, 4_999, 8_999, 11_999)  # rupees


def setup_django(url: str) -> None:
    """Production-like: DEBUG off, the default psycopg pool (what a web process uses)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()


# --- data ---------------------------------------------------------------------------------------


def ensure_categories() -> dict[str, object]:
    from catalogue.models import Category

    found = {c.slug: c for c in Category.objects.filter(slug__startswith=PREFIX)}
    for order, (key, (name, parent, _)) in enumerate(CATEGORIES.items()):
        slug = PREFIX + key
        if slug not in found:
            found[slug] = Category.objects.create(
                name=name,
                slug=slug,
                parent=found[PREFIX + parent] if parent else None,
                order=order,
            )
    return found


def ensure_tests() -> list:
    from testengine.models import Test

    tests = {t.slug: t for t in Test.objects.filter(slug__startswith=PREFIX + "catalogue-")}
    for n in range(TEST_POOL):
        slug = f"{PREFIX}catalogue-{n}"
        if slug not in tests:
            tests[slug] = Test.objects.create(
                title=f"Catalogue benchmark test {n + 1}",
                slug=slug,
                duration_seconds=60 * 60,
            )
    return list(tests.values())


def _plans(rng: Random, product) -> list:
    from catalogue.models import Plan

    plans = []
    if rng.random() < 0.08:  # free products: a lifetime free plan, sometimes a paid upgrade
        plans.append(Plan(product=product, name="Free", price_paise=0, is_lifetime=True))
    base = rng.choice(PRICES)
    for months in sorted(rng.sample((1, 3, 6, 12), rng.randint(1, 3 - len(plans)))):
        price = base * 100 * months * (10 - min(months, 6)) // 9
        plans.append(
            Plan(
                product=product,
                name=f"{months} month{'s' if months > 1 else ''}",
                price_paise=price,
                list_price_paise=price * 3 // 2 if rng.random() < 0.6 else None,
                validity_days=30 * months,
                order=len(plans),
            )
        )
    return plans


def load_products(categories: dict, tests: list, count: int) -> None:
    """bulk_create ``count`` published products with plans and tests, then the derived
    price fields (bulk_create sends no signals)."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django.utils.text import slugify

    from catalogue.cache import catalogue_changed
    from catalogue.models import Plan, Product, ProductTest
    from catalogue.services import product_sync_derived

    rng = Random(20250101)  # noqa: S311 - synthetic benchmark data, not security-relevant
    now = timezone.now()
    leaves = [(PREFIX + key, subjects) for key, (_, _, subjects) in CATEGORIES.items() if subjects]
    start = time.perf_counter()
    with transaction.atomic():
        products = []
        for n in range(count):
            category_slug, subjects = rng.choice(leaves)
            subject, subject_tags = rng.choice(subjects)
            kind = rng.choice(KINDS)
            title = f"{rng.choice(TITLES[kind]).format(subject)} — Batch {n + 1}"
            summary = f"Practise {subject} the way interviews and exams test it."
            description = (
                f"{title} covers {subject} from the basics to interview-level questions, "
                "with full-length mock tests, detailed solutions and an analysis of every "
                "attempt. "
                + (
                    "Includes query tuning on Postgres with EXPLAIN ANALYZE. "
                    if "sql" in subject_tags or "postgresql" in subject_tags
                    else ""
                )
                + "Study at your own pace; your access starts the day you enroll."
            )
            products.append(
                Product(
                    kind=kind,
                    title=title,
                    slug=f"{PREFIX}{n + 1}-{slugify(title)}"[:200],
                    category=categories[category_slug],
                    summary=summary,
                    description_md=description,
                    description_html=f"<p>{html.escape(description)}</p>",
                    language="hi" if rng.random() < 0.15 else "en",
                    level=rng.choice(LEVELS),
                    tags=sorted({*subject_tags, *rng.sample(EXTRA_TAGS, rng.randint(0, 2))}),
                    is_published=True,
                    published_at=now - timedelta(minutes=rng.randint(0, 720 * 24 * 60)),
                    is_featured=rng.random() < 0.02,
                    sort_order=rng.choice((0, 0, 0, 10, 20, 50, 100)),
                )
            )
        products = Product.objects.bulk_create(products, batch_size=1_000)
        plans, product_tests = [], []
        for product in products:
            plans.extend(_plans(rng, product))
            if rng.random() < 0.3:
                for order, test in enumerate(rng.sample(tests, rng.randint(1, 3))):
                    product_tests.append(ProductTest(product=product, test=test, order=order))
        Plan.objects.bulk_create(plans, batch_size=2_000)
        ProductTest.objects.bulk_create(product_tests, batch_size=2_000)
        loaded = time.perf_counter() - start
        product_sync_derived(product_ids=[p.pk for p in products])
        synced = time.perf_counter() - start - loaded
        catalogue_changed()
    print(
        f"loaded {count:,} products, {len(plans):,} plans, {len(product_tests):,} product "
        f"tests in {loaded:.1f} s; product_sync_derived in {synced:.1f} s"
    )
    with connection.cursor() as cursor:
        for table in ("catalogue_product", "catalogue_plan", "catalogue_producttest"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def ensure_products(categories: dict, tests: list) -> int:
    from django.db import transaction

    from catalogue.models import Product

    bench = Product.objects.filter(slug__startswith=PREFIX, is_published=True)
    present = bench.filter(price_from_paise__isnull=False).count()
    if present == PRODUCTS:
        print("reusing the existing products")
        return present
    if Product.objects.filter(slug__startswith=PREFIX).exists():
        with transaction.atomic():
            Product.objects.filter(slug__startswith=PREFIX).delete()
        print(f"dropped {present:,} incomplete benchmark products")
    load_products(categories, tests, PRODUCTS)
    return bench.filter(price_from_paise__isnull=False).count()


# --- measurements -------------------------------------------------------------------------------


def timed(client, url: str, runs: int, *, invalidate: bool, **headers) -> list[float]:
    from catalogue.cache import catalogue_changed

    timings = []
    for _ in range(runs):
        if invalidate:
            catalogue_changed()
        start = time.perf_counter()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return timings


def count_queries(client, url: str, *, invalidate: bool, **headers) -> tuple[int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalogue.cache import catalogue_changed

    if invalidate:
        catalogue_changed()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return len(queries), response.json()


def report(label: str, timings: list[float], queries: int) -> float:
    median = statistics.median(timings)
    print(
        f"{label}: median {median:.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
        f"max {max(timings):.1f} ms ({len(timings)} requests, {queries} SQL queries each)"
    )
    return median


def main() -> int:
    url = prepare_database()
    setup_django(url)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    categories = ensure_categories()
    tests = ensure_tests()
    visible = ensure_products(categories, tests)
    user = get_user_model().objects.filter(email=BENCH_USER).first()
    if user is None:
        user = get_user_model().objects.create_user(email=BENCH_USER, password=None)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {server}, load average {os.getloadavg()[0]:.2f} at start"
    )
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    pool = "psycopg pool" if "pool" in settings.DATABASES["default"]["OPTIONS"] else "plain"
    print(f"catalogue: {visible:,} published products; cache {cache}; connections: {pool}")

    client = Client()
    timed(client, LIST_URL, WARMUP, invalidate=True)
    timed(client, SEARCH_URL, WARMUP, invalidate=True)
    timed(client, LIST_URL, WARMUP, invalidate=False, **bearer)

    queries, page = count_queries(client, LIST_URL, invalidate=True)
    if len(page["results"]) != 20 or page["count"] != visible:
        sys.exit(f"unexpected page: {len(page['results'])} results of {page['count']}")
    uncached = report(
        "(a) GET products/, anonymous, uncached",
        timed(client, LIST_URL, MEASURED, invalidate=True),
        queries,
    )
    queries, _ = count_queries(client, LIST_URL, invalidate=False)
    cached = report(
        "(b) GET products/, anonymous, cached",
        timed(client, LIST_URL, MEASURED, invalidate=False),
        queries,
    )
    queries, found = count_queries(client, SEARCH_URL, invalidate=True)
    report(
        f"(c) GET products/?q=postgres&kind=test_series&ordering=price, uncached "
        f"[{found['count']:,} matches]",
        timed(client, SEARCH_URL, MEASURED, invalidate=True),
        queries,
    )
    queries, _ = count_queries(client, LIST_URL, invalidate=False, **bearer)
    logged_in = report(
        "(d) GET products/, logged in (JWT, shared cache)",
        timed(client, LIST_URL, MEASURED, invalidate=False, **bearer),
        queries,
    )

    for label, text in SEARCHES:
        url = f"{LIST_URL}?q={text}"
        timed(client, url, WARMUP, invalidate=True)
        queries, found = count_queries(client, url, invalidate=True)
        report(
            f"(e) GET products/?q={text} ({label}), uncached [{found['count']:,} matches]",
            timed(client, url, MEASURED, invalidate=True),
            queries,
        )
        queries, _ = count_queries(client, url, invalidate=False)
        report("    … cached", timed(client, url, MEASURED, invalidate=False), queries)

    served = max(cached, logged_in)
    ok = served <= TARGET_MEDIAN_MS
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: median served list {served:.1f} ms (anonymous {cached:.1f}, logged in "
        f"{logged_in:.1f}; target ≤ {TARGET_MEDIAN_MS:.0f} ms, a page of 20 of {visible:,}); "
        f"cold after an edit {uncached:.1f} ms"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
