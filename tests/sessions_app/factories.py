"""Helpers for exam-session tests: a published random test the learner may sit."""

from __future__ import annotations

from catalogue import services as catalogue_services
from testengine import services as testengine_services
from testengine.models import Test
from tests.catalogue.factories import ProductTestFactory, PublishedProductFactory
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)


def sittable_test(
    *,
    questions: int = 6,
    draw: int = 4,
    free: bool = True,
    question: dict | None = None,
    **test_kwargs,
) -> Test:
    """A published random test of ``draw`` questions, in a product (free by default);
    ``question`` holds ``make_question`` options for the bank's questions."""
    topic = TopicFactory()
    for _ in range(questions):
        make_question(topic=topic, **(question or {}))
    test = TestFactory(**test_kwargs)
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=draw)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    if free:
        product.plans.update(price_paise=0)
        catalogue_services.product_sync_derived(product_ids=[product.id])
    ProductTestFactory(product=product, test=test)
    test.refresh_from_db()
    return test


def json_keys(value):
    """Every key at any depth of a JSON payload (to check that none names a secret)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from json_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from json_keys(inner)
