"""Staff API of the catalogue, mounted at ``/api/v1/catalogue/manage/``."""

from rest_framework.routers import SimpleRouter

from catalogue.api import manage, schema

schema.document_staff()

router = SimpleRouter()
router.register("categories", manage.StaffCategoryViewSet, basename="manage-category")
router.register("products", manage.StaffProductViewSet, basename="manage-product")

urlpatterns = router.urls
