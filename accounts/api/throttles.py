"""Rate limits of the auth endpoints, per client address and per targeted account."""

from rest_framework.throttling import UserRateThrottle

from accounts.models import normalize_email
from core.errors import ApplicationError
from core.throttling import ScopedFieldThrottle, ScopedIPThrottle


class _DestinationThrottle(ScopedFieldThrottle):
    """Keys on the E.164 phone / normalised email, as the OTP service does: "+91 98765
    43210", "098765 43210" and "+919876543210" are one destination, one bucket."""

    fields = ("email", "phone")

    def normalise(self, field: str, value: str) -> str | None:
        from accounts.services import normalize_phone

        if field == "email":
            return normalize_email(value)
        try:
            return normalize_phone(value)
        except ApplicationError:
            return None


class LoginIPThrottle(ScopedIPThrottle):
    scope = "login_ip"


class LoginAccountThrottle(ScopedFieldThrottle):
    scope = "login_account"
    fields = ("email",)


class RegisterIPThrottle(ScopedIPThrottle):
    scope = "register_ip"


class OTPRequestIPThrottle(ScopedIPThrottle):
    scope = "otp_request_ip"


class OTPRequestDestinationThrottle(_DestinationThrottle):
    scope = "otp_request_destination"


class OTPVerifyIPThrottle(ScopedIPThrottle):
    scope = "otp_verify_ip"


class OTPVerifyDestinationThrottle(_DestinationThrottle):
    scope = "otp_verify_destination"


class PasswordChangeThrottle(ScopedIPThrottle):
    scope = "password_change"


class ContactChangeUserThrottle(UserRateThrottle):
    """Per account: how many new-address codes one user may ask for."""

    scope = "contact_change"
