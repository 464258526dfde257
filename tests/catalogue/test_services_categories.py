"""catalogue.services.category_delete: only an empty category goes."""

import pytest

from catalogue import services
from catalogue.models import Category, Product
from core.errors import Conflict
from tests.catalogue.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("holds", ["product", "subcategory"])
def test_a_category_that_holds_something_is_not_deleted(holds):
    category = CategoryFactory()
    if holds == "product":
        ProductFactory(category=category)
    else:
        CategoryFactory(parent=category)

    with pytest.raises(Conflict) as refused:
        services.category_delete(category=category)

    assert refused.value.code == "category_in_use"
    assert Category.objects.filter(pk=category.pk).exists()
    assert Product.objects.filter(category=category).count() == (holds == "product")


def test_an_empty_category_is_deleted_and_others_stay():
    category, other = CategoryFactory(), CategoryFactory()

    services.category_delete(category=category)

    assert list(Category.objects.values_list("pk", flat=True)) == [other.pk]
