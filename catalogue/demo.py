"""Demo catalogue for ``make run``: categories, the products a backend-engineering platform
sells (built on the demo tests of ``testengine.demo``), and two live enrollments of the demo
learner.

Seeding is idempotent: categories and products are found by slug and only missing ones are
created (through the services, then published), so staff edits survive restarts; the
learner's enrollments are added only while they have no live one, so re-runs never extend
them. A second run costs a handful of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from django.contrib.auth import get_user_model

from accounts.demo import DEMO_LEARNER, DEMO_STAFF
from catalogue.models import Category, Product
from catalogue.selectors import live_enrollments
from catalogue.services import (
    category_save,
    enrollment_enroll_free,
    enrollment_grant,
    product_create,
    product_publish,
)
from testengine.models import Test

# --- categories -------------------------------------------------------------------------------

# (name, slug, parent slug, order, description), parents first.
CATEGORIES: tuple[tuple[str, str, str | None, int, str], ...] = (
    (
        "Engineering",
        "engineering",
        None,
        0,
        "Test series and programs for software engineers.",
    ),
    (
        "Backend",
        "backend",
        "engineering",
        0,
        "Web frameworks, HTTP and API design.",
    ),
    (
        "Databases",
        "databases",
        "engineering",
        1,
        "SQL, PostgreSQL internals, indexing and transactions.",
    ),
    (
        "Security",
        "security",
        "engineering",
        2,
        "Application security for people who build web backends.",
    ),
    (
        "Placement prep",
        "placement-prep",
        None,
        1,
        "Structured preparation for internship and campus-placement interviews.",
    ),
)


# --- products ---------------------------------------------------------------------------------


def _rupees(amount: int) -> int:
    """Whole rupees → paise, so the price table below reads like a price list."""
    return amount * 100


@dataclass(frozen=True)
class DemoProduct:
    values: dict[str, Any]  # Product fields; "category" is a category slug here
    plans: list[dict[str, Any]]
    tests: tuple[str, ...] = ()  # test slugs, in order
    publish: bool = True


MOCK_TEST = "backend-engineering-mock-test"
DJANGO_QUIZ = "django-fundamentals-quiz"
PG_DIAGNOSTIC = "postgresql-diagnostic"
SECURITY_DRILL = "security-drill"
ADAPTIVE_PLACEMENT = "adaptive-placement-test"
SCIENCE_SAMPLER = "science-sampler"

PROGRAM = "backend-engineering-internship-program"
FREE_DIAGNOSTIC = "backend-diagnostic"
PG_SERIES = "postgresql-test-series"
GRANT_DAYS = 30

_TESTS_TABLE = """\
| Test | Questions | Time | Attempts |
| --- | --- | --- | --- |
| Backend engineering mock test | 100, in four sections | 2 hours | 3 (best counts) |
| Django fundamentals quiz | 10, hand-picked | 15 minutes | unlimited |
| PostgreSQL diagnostic | 15 | 20 minutes | unlimited |
| Security drill | 12, one at a time | 15 minutes | unlimited |
"""

PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(
        values={
            "kind": Product.Kind.PROGRAM,
            "title": "Backend Engineering Internship Program",
            "slug": PROGRAM,
            "category": "placement-prep",
            "summary": (
                "Prepare for a backend internship: HTTP and REST, PostgreSQL, Django and "
                "security, practised through a full-length mock test and three focused tests."
            ),
            "description_md": (
                "Backend internship interviews keep returning to the same four areas. This "
                "program makes you practise each of them under exam conditions, so the "
                "interview is not the first time you answer these questions against a "
                "clock.\n\n"
                "## What you practise\n\n"
                "- **Web & APIs**: HTTP methods, status codes, caching and headers; REST "
                "resources, idempotency, pagination and versioning.\n"
                "- **SQL & PostgreSQL**: joins, indexes, transactions and isolation levels, "
                "reading query plans, choosing data types.\n"
                "- **Python & Django**: the data model, iterators, async and typing; the ORM, "
                "migrations, middleware and Django REST framework.\n"
                "- **Security & system design**: the OWASP Top 10, authentication and JWT, "
                "password storage, CSRF and XSS; caching, queues, scaling and consistency.\n\n"
                "## What's included\n\n"
                f"{_TESTS_TABLE}\n"
                "The mock test mixes marking schemes you will meet in real exams: +4 / −1 in "
                "the Web & APIs section, a third of the marks lost for a wrong answer in "
                "Databases, and a 30-minute limit of its own for Python & Django. Each "
                "attempt draws a fresh paper from the question bank, and solutions with "
                "explanations open as soon as you submit.\n\n"
                "## Choosing a plan\n\n"
                "The 1-, 2- and 3-month plans include exactly the same tests; they differ "
                "only in how long your access lasts. Pick the one that ends after your "
                "interviews do."
            ),
            "language": "en",
            "level": Product.Level.INTERMEDIATE,
            "tags": ["backend", "internship", "django", "postgresql", "security", "mock-test"],
            "is_featured": True,
            "sort_order": 10,
            "seo_title": "Backend Engineering Internship Program | Examforge",
            "seo_description": (
                "Mock test and topic tests on HTTP, REST, PostgreSQL, Django and security "
                "for backend internship interviews. 1-, 2- and 3-month plans."
            ),
        },
        plans=[
            {
                "name": "1 month",
                "price_paise": _rupees(4_999),
                "list_price_paise": _rupees(6_999),
                "validity_days": 30,
            },
            {
                "name": "2 months",
                "price_paise": _rupees(8_999),
                "list_price_paise": _rupees(13_998),
                "validity_days": 60,
            },
            {
                "name": "3 months",
                "price_paise": _rupees(11_999),
                "list_price_paise": _rupees(20_997),
                "validity_days": 90,
            },
        ],
        tests=(MOCK_TEST, DJANGO_QUIZ, PG_DIAGNOSTIC, SECURITY_DRILL),
    ),
    DemoProduct(
        values={
            "kind": Product.Kind.TEST_SERIES,
            "title": "Backend Diagnostic",
            "slug": FREE_DIAGNOSTIC,
            "category": "databases",
            "summary": (
                "Free: a 15-question, 20-minute check of your SQL and PostgreSQL. "
                "Find your gaps before you pick a course."
            ),
            "description_md": (
                "Not sure where to start? Take the diagnostic first. It is free, it takes "
                "twenty minutes, and you can repeat it as often as you like.\n\n"
                "## What it covers\n\n"
                "Fifteen questions on SQL and PostgreSQL — joins, indexes, transactions and "
                "isolation, query plans and data types — at easy, medium and hard levels. "
                "Every attempt draws a fresh paper from the question bank.\n\n"
                "## After you submit\n\n"
                "You see your score, the correct answers and an explanation for every "
                "question. If databases turn out to be your weak spot, the PostgreSQL Test "
                "Series adds the full backend mock test, whose Databases section has 25 "
                "PostgreSQL questions."
            ),
            "language": "en",
            "level": Product.Level.ALL,
            "tags": ["free", "diagnostic", "postgresql", "sql"],
            "is_featured": True,
            "sort_order": 20,
            "seo_title": "Free PostgreSQL & SQL Diagnostic Test | Examforge",
            "seo_description": (
                "A free 15-question, 20-minute test of your SQL and PostgreSQL, with "
                "solutions and explanations after you submit."
            ),
        },
        plans=[{"name": "Free", "price_paise": 0, "is_lifetime": True}],
        tests=(PG_DIAGNOSTIC, ADAPTIVE_PLACEMENT, SCIENCE_SAMPLER),
    ),
    DemoProduct(
        values={
            "kind": Product.Kind.BUNDLE,
            "title": "Complete Backend Bundle",
            "slug": "complete-backend-bundle",
            "category": "engineering",
            "summary": (
                "Every backend test in one plan: the full mock test, the Django quiz, "
                "the PostgreSQL diagnostic and the security drill."
            ),
            "description_md": (
                "One purchase for everything in the Django, PostgreSQL and security test "
                "series, with six or twelve months to work through it.\n\n"
                "## What's included\n\n"
                f"{_TESTS_TABLE}\n"
                "For six months of access, the bundle costs less than the Django and "
                "PostgreSQL series and the security drill bought separately.\n\n"
                "Looking for a structured path with a deadline instead? See the Backend "
                "Engineering Internship Program."
            ),
            "language": "en",
            "level": Product.Level.ALL,
            "tags": ["bundle", "backend", "django", "postgresql", "security"],
            "sort_order": 30,
        },
        plans=[
            {
                "name": "6 months",
                "price_paise": _rupees(1_999),
                "list_price_paise": _rupees(2_796),
                "validity_days": 180,
            },
            {
                "name": "12 months",
                "price_paise": _rupees(2_999),
                "list_price_paise": _rupees(4_499),
                "validity_days": 365,
            },
        ],
        tests=(MOCK_TEST, DJANGO_QUIZ, PG_DIAGNOSTIC, SECURITY_DRILL),
    ),
    DemoProduct(
        values={
            "kind": Product.Kind.TEST_SERIES,
            "title": "Django Test Series",
            "slug": "django-test-series",
            "category": "backend",
            "summary": (
                "A hand-picked Django quiz plus the full 100-question backend mock test, "
                "with solutions after every attempt."
            ),
            "description_md": (
                "For developers who use Django at work or in projects and want to know how "
                "well they really know it.\n\n"
                "## Included tests\n\n"
                "- **Django fundamentals quiz**: ten hand-picked questions on the ORM, "
                "migrations, middleware and Django REST framework; 15 minutes; move freely "
                "between questions until you submit; 60 % to pass.\n"
                "- **Backend engineering mock test**: 100 questions in 2 hours, including a "
                "25-question Python & Django section with its own 30-minute limit. Three "
                "attempts, your best score counts.\n\n"
                "Solutions and explanations open as soon as you submit."
            ),
            "language": "en",
            "level": Product.Level.INTERMEDIATE,
            "tags": ["django", "python", "drf", "orm"],
            "sort_order": 40,
        },
        plans=[
            {
                "name": "3 months",
                "price_paise": _rupees(799),
                "list_price_paise": _rupees(1_499),
                "validity_days": 90,
            },
            {
                "name": "6 months",
                "price_paise": _rupees(1_199),
                "list_price_paise": _rupees(2_499),
                "validity_days": 180,
            },
        ],
        tests=(DJANGO_QUIZ, MOCK_TEST),
    ),
    DemoProduct(
        values={
            "kind": Product.Kind.TEST_SERIES,
            "title": "PostgreSQL Test Series",
            "slug": PG_SERIES,
            "category": "databases",
            "summary": (
                "The PostgreSQL diagnostic and the full backend mock test with its "
                "25-question Databases section, marked GATE-style."
            ),
            "description_md": (
                "Indexes, isolation levels and query plans are where backend interviews get "
                "difficult. This series tests them the way an exam would.\n\n"
                "## Included tests\n\n"
                "- **PostgreSQL diagnostic**: 15 questions in 20 minutes on joins, indexes, "
                "transactions, query plans and data types. Repeat it as often as you like; "
                "each attempt draws a new paper.\n"
                "- **Backend engineering mock test**: 100 questions in 2 hours. Its Databases "
                "section has 25 PostgreSQL questions where a wrong answer costs a third of "
                "its marks, so guessing does not pay.\n\n"
                "Every question comes with an explanation, shown after you submit."
            ),
            "language": "en",
            "level": Product.Level.INTERMEDIATE,
            "tags": ["postgresql", "sql", "databases", "indexes", "transactions"],
            "sort_order": 50,
        },
        plans=[
            {
                "name": "3 months",
                "price_paise": _rupees(699),
                "list_price_paise": _rupees(1_199),
                "validity_days": 90,
            }
        ],
        tests=(PG_DIAGNOSTIC, MOCK_TEST),
    ),
    DemoProduct(
        values={
            "kind": Product.Kind.TEST_SERIES,
            "title": "Web Security Drill",
            "slug": "web-security-drill",
            "category": "security",
            "summary": (
                "Twelve questions on OWASP risks, authentication, password storage, CSRF and "
                "XSS, answered one at a time with no going back."
            ),
            "description_md": (
                "A short, strict drill: each question must be answered before the next one "
                "appears, and you cannot return to change it — the way you decide under "
                "pressure in an incident.\n\n"
                "## What it covers\n\n"
                "Three questions each on the OWASP Top 10, authentication and JWT, password "
                "storage, and CSRF and XSS. Fifteen minutes; a new paper on every attempt; "
                "solutions and explanations after you submit."
            ),
            "language": "en",
            "level": Product.Level.ALL,
            "tags": ["security", "owasp", "authentication", "xss", "csrf"],
            "sort_order": 60,
        },
        plans=[{"name": "Lifetime", "price_paise": _rupees(199), "is_lifetime": True}],
        tests=(SECURITY_DRILL,),
    ),
    # A draft: the bank has no NestJS questions yet, so it holds no tests and stays
    # unpublished — it shows that drafts are hidden from the public catalogue.
    DemoProduct(
        values={
            "kind": Product.Kind.TEST_SERIES,
            "title": "NestJS Test Series",
            "slug": "nestjs-test-series",
            "category": "backend",
            "summary": (
                "In preparation: NestJS questions are still being written. Not on sale until "
                "its tests are published."
            ),
            "description_md": (
                "Draft. Planned coverage: modules and dependency injection, controllers and "
                "pipes, guards and interceptors, and TypeORM / Prisma data access. The "
                "question bank has no NestJS questions yet, so this series contains no tests "
                "and stays unpublished until it does."
            ),
            "language": "en",
            "level": Product.Level.INTERMEDIATE,
            "tags": ["nestjs", "nodejs", "typescript"],
            "sort_order": 70,
        },
        plans=[
            {
                "name": "3 months",
                "price_paise": _rupees(799),
                "list_price_paise": _rupees(1_499),
                "validity_days": 90,
            }
        ],
        publish=False,
    ),
)


# --- seeding ----------------------------------------------------------------------------------


def ensure_categories() -> tuple[dict[str, Category], int]:
    """The demo category tree; returns (categories by slug, how many were created)."""
    found = {c.slug: c for c in Category.objects.filter(slug__in=[row[1] for row in CATEGORIES])}
    created = 0
    for name, slug, parent_slug, order, description in CATEGORIES:
        if slug in found:
            continue
        parent = found.get(parent_slug) if parent_slug else None
        found[slug] = category_save(
            name=name, slug=slug, parent=parent, order=order, description=description
        )
        created += 1
    return found, created


def ensure_products(categories: dict[str, Category], out: TextIO) -> tuple[dict[str, Product], int]:
    """Create and publish the demo products that are missing (by slug)."""
    slugs = [spec.values["slug"] for spec in PRODUCTS]
    found = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}
    missing = [spec for spec in PRODUCTS if spec.values["slug"] not in found]
    if not missing:
        return found, 0
    wanted = {slug for spec in missing for slug in spec.tests}
    tests = {t.slug: t for t in Test.objects.filter(slug__in=wanted)}
    for spec in missing:
        absent = [slug for slug in spec.tests if slug not in tests]
        if absent:
            # E.g. staff deleted a demo test: the product is created without it.
            out.write(f"  demo product {spec.values['slug']!r}: no test {', '.join(absent)}\n")
        values = spec.values | {"category": categories.get(spec.values["category"])}
        product = product_create(
            values=values,
            plans=spec.plans,
            tests=[{"test": tests[slug]} for slug in spec.tests if slug in tests],
        )
        if spec.publish:
            product = product_publish(product=product)
        found[product.slug] = product
    return found, len(missing)


def ensure_enrollments(products: dict[str, Product]) -> tuple[int, int]:
    """The demo learner's free diagnostic and a 30-day staff grant of the PostgreSQL
    series, each added only while the learner has no live enrollment in it (a re-run never
    extends a grant). Returns (live demo enrollments, how many were added)."""
    users = {
        u.email: u
        for u in get_user_model().objects.filter(
            email__in=[DEMO_LEARNER["email"], DEMO_STAFF["email"]]
        )
    }
    learner, staff = users.get(DEMO_LEARNER["email"]), users.get(DEMO_STAFF["email"])
    if learner is None:
        return 0, 0
    wanted = [slug for slug in (FREE_DIAGNOSTIC, PG_SERIES) if slug in products]
    live = set(
        live_enrollments(user=learner)
        .filter(product__slug__in=wanted)
        .values_list("product__slug", flat=True)
    )
    added = 0
    free = products.get(FREE_DIAGNOSTIC)
    if free is not None and FREE_DIAGNOSTIC not in live and free.is_published:
        plan = free.plans.filter(is_active=True, price_paise=0).first()
        if plan is not None:
            enrollment_enroll_free(user=learner, product_slug=free.slug, plan_id=plan.pk)
            live.add(FREE_DIAGNOSTIC)
            added += 1
    series = products.get(PG_SERIES)
    if series is not None and PG_SERIES not in live:
        enrollment_grant(user=learner, product=series, by=staff, days=GRANT_DAYS)
        live.add(PG_SERIES)
        added += 1
    return len(live), added


def seed(out: TextIO) -> None:
    categories, new_categories = ensure_categories()
    products, new_products = ensure_products(categories, out)
    enrolled, new_enrollments = ensure_enrollments(products)
    published = sum(product.is_published for product in products.values())
    out.write(
        f"demo catalogue: {len(categories)} categories ({new_categories} new), "
        f"{len(products)} products ({new_products} new; {published} published), "
        f"{enrolled} live learner enrollments ({new_enrollments} new)\n"
    )
