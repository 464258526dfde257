from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("devices", views.DeviceViewSet, basename="device")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("token/", views.LoginView.as_view(), name="token"),
    path("token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path("otp/request/", views.OTPRequestView.as_view(), name="otp-request"),
    path("otp/verify/", views.OTPVerifyView.as_view(), name="otp-verify"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/contact/", views.ContactChangeView.as_view(), name="contact-change"),
    path("me/contact/verify/", views.ContactVerifyView.as_view(), name="contact-verify"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    *router.urls,
]
