"""The catalogue API: the public catalogue at ``/api/v1/catalogue/``, its staff API under
``manage/``, and the learner's enrollments (``me_urlpatterns``, mounted by config.urls at
``/api/v1/me/`` under the namespace ``me``)."""

from django.urls import URLPattern, include, path
from rest_framework.routers import SimpleRouter

from catalogue.api import schema, staff, views

schema.document_staff()

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")

staff_router = SimpleRouter()
staff_router.register("categories", staff.StaffCategoryViewSet, basename="manage-category")
staff_router.register("products", staff.StaffProductViewSet, basename="manage-product")

me_router = SimpleRouter()
me_router.register("enrollments", views.MyEnrollmentViewSet, basename="my-enrollment")

# The cached public reads are answered before DRF when the cache has them (cache_first);
# a product page reads a token when one is sent, the two lists never do.
_CACHE_FIRST = {"category-list": False, "product-list": False, "product-detail": True}


def _route(pattern: URLPattern) -> URLPattern:
    if pattern.name not in _CACHE_FIRST:
        return pattern
    view = views.cache_first(pattern.callback, reads_token=_CACHE_FIRST[pattern.name])
    return URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)


urlpatterns = [
    path("manage/", include(staff_router.urls)),
    *(_route(pattern) for pattern in router.urls),  # type: ignore[arg-type]  # all URLPatterns
]

me_urlpatterns = me_router.urls
