from django.urls import URLPattern, include, path
from rest_framework.routers import SimpleRouter

from catalogue.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")

# The cached public reads are answered before DRF when the cache has them (cache_first);
# a product page reads a token when one is sent, the two lists never do.
_CACHE_FIRST = {"category-list": False, "product-list": False, "product-detail": True}


def _route(pattern: URLPattern) -> URLPattern:
    if pattern.name not in _CACHE_FIRST:
        return pattern
    view = views.cache_first(pattern.callback, reads_token=_CACHE_FIRST[pattern.name])
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


urlpatterns = [
    path("manage/", include("catalogue.api.urls_manage")),
    *(_route(pattern) for pattern in router.urls),  # type: ignore[arg-type]  # all URLPatterns
]
