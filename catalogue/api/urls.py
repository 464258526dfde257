from django.urls import include, path
from rest_framework.routers import SimpleRouter

from catalogue.api import views

router = SimpleRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")

urlpatterns = [
    path("manage/", include("catalogue.api.urls_manage")),
    *router.urls,
]
