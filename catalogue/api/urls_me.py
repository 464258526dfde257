from rest_framework.routers import SimpleRouter

from catalogue.api import views

router = SimpleRouter()
router.register("enrollments", views.MyEnrollmentViewSet, basename="my-enrollment")

urlpatterns = router.urls
