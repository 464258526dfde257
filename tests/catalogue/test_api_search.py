"""Catalogue search that forgives a typo: full-text first, then prefixes and swapped
letters, then the catalogue words closest by trigram similarity (real PostgreSQL)."""

import pytest

from catalogue.vocabulary import Vocabulary
from tests.catalogue.factories import PublishedProductFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/catalogue/products/"

CATALOGUE = (
    (
        "postgresql-test-series",
        "PostgreSQL Test Series",
        "Indexes, transactions and query plans, marked GATE-style.",
        "Every question comes with an explanation.",
    ),
    (
        "django-test-series",
        "Django Test Series",
        "The ORM, migrations and Django REST framework.",
        "Includes a 25-question Python & Django section.",
    ),
    (
        "python-crash-course",
        "Python Crash Course",
        "From the basics to typing and async.",
        "Study at your own pace.",
    ),
    (
        "kubernetes-masterclass",
        "Kubernetes Masterclass",
        "Pods, deployments and services on a real cluster.",
        "Hands-on labs.",
    ),
    (
        "web-security-drill",
        "Web Security Drill",
        "OWASP risks, authentication, CSRF and XSS.",
        "Answered one at a time.",
    ),
    (
        "backend-internship-program",
        "Backend Engineering Internship Program",
        "HTTP and REST, PostgreSQL, Django and security.",
        "Twelve weeks to a deployed service.",
    ),
    (
        "quantitative-aptitude",
        "Quantitative Aptitude Mock Tests",
        "Percentages, ratios, and time and work.",
        "For placement season.",
    ),
)


@pytest.fixture
def catalogue():
    for slug, title, summary, description in CATALOGUE:
        PublishedProductFactory(slug=slug, title=title, summary=summary, description_md=description)


def _search(client, text):
    response = client.get(P, {"q": text})
    assert response.status_code == 200, response.content
    return [p["slug"] for p in response.json()["results"]]


@pytest.mark.parametrize(
    ("typed", "first", "also"),
    [
        # a letter dropped, doubled or wrong: the closest catalogue words
        ("postgress", "postgresql-test-series", {"backend-internship-program"}),
        ("postgrsql", "postgresql-test-series", {"backend-internship-program"}),
        ("postgre sql", "postgresql-test-series", {"backend-internship-program"}),
        ("kubernets", "kubernetes-masterclass", set()),
        ("mastrclass", "kubernetes-masterclass", set()),
        ("securty", "web-security-drill", {"backend-internship-program"}),
        ("intership", "backend-internship-program", set()),
        ("quantitive", "quantitative-aptitude", set()),
        ("authentcation", "web-security-drill", set()),
        # two neighbouring letters swapped: matched as the word itself
        ("djnago", "django-test-series", {"backend-internship-program"}),
        ("pyhton", "python-crash-course", {"django-test-series"}),
        ("kuberentes", "kubernetes-masterclass", set()),
        ("postgersql", "postgresql-test-series", {"backend-internship-program"}),
        ("secuirty", "web-security-drill", {"backend-internship-program"}),
        ("owsap", "web-security-drill", set()),
        # half a word: a prefix
        ("aptitud", "quantitative-aptitude", set()),
        ("kube", "kubernetes-masterclass", set()),
        # as typed on a phone: capitals, spaces
        ("  Djnago ", "django-test-series", {"backend-internship-program"}),
        ("POSTGRESS", "postgresql-test-series", {"backend-internship-program"}),
    ],
)
def test_a_typo_finds_the_product_it_meant(api_client, catalogue, typed, first, also):
    found = _search(api_client, typed)

    assert found[0] == first
    assert set(found) == {first, *also}


@pytest.mark.parametrize(
    "typed",
    [
        "zzzz",
        "chemistry",
        "organic chemistry",
        "with",  # a stop word alone is not similar to every summary holding it
        "the and of",
        '"djnago"',  # quotes ask for exactly this: no typo fallback
        "djnago -security",  # so does a negated word
    ],
)
def test_words_no_product_is_near_find_nothing(api_client, catalogue, typed):
    assert _search(api_client, typed) == []


def test_full_text_hits_are_never_diluted_by_similar_products(api_client, catalogue):
    # "security" is close to nothing else, but "django" hits exactly: only exact hits
    # are listed, the title's first.
    assert _search(api_client, "django") == ["django-test-series", "backend-internship-program"]
    assert _search(api_client, "postgresql") == [
        "postgresql-test-series",
        "backend-internship-program",
    ]


def test_a_near_search_needs_every_word_like_an_exact_one(api_client):
    PublishedProductFactory(slug="swarm", title="Docker Swarm", summary="Clusters and services.")
    PublishedProductFactory(slug="compose", title="Docker Compose in Practice", summary="Stacks.")

    # Both words, as prefixes, in one; only "docker" in the other.
    assert _search(api_client, "docker compos") == ["compose"]
    assert _search(api_client, "dokcer swram") == ["swarm"]


def test_a_new_products_words_are_known_to_the_next_typo_search(api_client, catalogue):
    assert _search(api_client, "terrafrom") == []

    PublishedProductFactory(slug="terraform", title="Terraform Foundations", summary="IaC.")

    assert _search(api_client, "terrafrom") == ["terraform"]
    assert _search(api_client, "terraform") == ["terraform"]


def test_the_vocabulary_finds_close_words_by_trigram_similarity():
    known = Vocabulary(["postgresql", "progress", "kubernetes", "security", "sql"])

    assert known.close_to("postgress") == ["postgresql"]  # 8 of 13 trigrams: 0.62
    assert known.close_to("kubernets") == ["kubernetes"]
    assert known.close_to("securty") == ["security"]
    assert known.close_to("chemistry") == []
    assert known.close_to("sqll") == ["sql"]  # 3 of 6: at the threshold
    assert known.close_to("sql") == []  # a known word needs no stand-in
    assert known.close_to("sq") == []  # nor can a very short one be told apart


def test_a_typo_search_keeps_the_other_filters(api_client, catalogue):
    PublishedProductFactory(
        slug="kubernetes-course", kind="course", title="Kubernetes for Developers"
    )

    response = api_client.get(P, {"q": "kubernets", "kind": "course"})

    assert [p["slug"] for p in response.json()["results"]] == ["kubernetes-course"]


def test_a_typo_search_can_be_ordered_by_price(api_client, catalogue):
    cheap = PublishedProductFactory(slug="kubernetes-cheap", title="Kubernetes Lite")
    cheap.plans.update(price_paise=100)
    from catalogue.services import product_sync_derived

    product_sync_derived(product_ids=[cheap.id])

    found = [
        p["slug"]
        for p in api_client.get(P, {"q": "kubernets", "ordering": "price"}).json()["results"]
    ]

    assert found == ["kubernetes-cheap", "kubernetes-masterclass"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?q=django%00", "q", "Null characters are not allowed."),
        ("?q=%00", "q", "Null characters are not allowed."),
        ("?q=" + "a" * 201, "q", "Ensure this field has no more than 200 characters."),
    ],
)
def test_a_nul_byte_or_an_overlong_search_is_a_clear_400(api_client, query, field, message):
    response = api_client.get(P + query)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {field: [message]},
    }


@pytest.mark.parametrize(
    "text",
    [
        "x" * 200,  # one 200-letter "word"
        " ".join(["djnago"] * 28),  # 28 words (only the first eight are read)
        "postgress" + " !" * 95,
        "ąęść żółw 東京 пайтон",
        ":* | & ! ( ) <-> \\ '",
    ],
)
def test_the_longest_or_oddest_search_answers_200(api_client, catalogue, text):
    assert len(text) <= 200

    response = api_client.get(P, {"q": text})

    assert response.status_code == 200
    assert isinstance(response.json()["count"], int)


def test_a_typo_search_takes_as_many_queries_as_an_exact_one(
    api_client, django_assert_max_num_queries, settings
):
    for n in range(25):
        PublishedProductFactory(title=f"Kubernetes Masterclass {n}")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    # the full-text probe, then the fallback's count and page, and the plans; with the
    # cache off, the catalogue's vocabulary is read too (else once per catalogue version)
    for typed in ("kubernets", "kuberentes", "kube"):
        with django_assert_max_num_queries(5):
            response = api_client.get(P, {"q": typed, "page_size": 25})
        assert response.json()["count"] == 25


def test_a_repeated_typo_search_only_reads_the_cache(
    api_client, catalogue, django_assert_num_queries, settings
):
    first = api_client.get(P, {"q": "postgress"}).json()

    with django_assert_num_queries(0 if settings.REDIS_URL else 1):  # version + entry
        again = api_client.get(P, {"q": "postgress"}).json()

    assert again == first
    assert first["results"][0]["slug"] == "postgresql-test-series"


def test_the_longest_search_is_cached_like_any_other(
    api_client, catalogue, django_assert_num_queries, settings
):
    text = "kubernets " + "x" * 190  # the key hashes the URL: no cache key limit applies
    first = api_client.get(P, {"q": text})

    with django_assert_num_queries(0 if settings.REDIS_URL else 1):  # version + entry
        again = api_client.get(P, {"q": text})

    assert first.status_code == again.status_code == 200
    assert again["ETag"] == first["ETag"]
