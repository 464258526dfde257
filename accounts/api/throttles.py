"""Rate limits of the auth endpoints, per client address and per targeted account."""

from core.throttling import ScopedFieldThrottle, ScopedIPThrottle


class LoginIPThrottle(ScopedIPThrottle):
    scope = "login_ip"


class LoginAccountThrottle(ScopedFieldThrottle):
    scope = "login_account"
    fields = ("email",)


class RegisterIPThrottle(ScopedIPThrottle):
    scope = "register_ip"


class OTPRequestIPThrottle(ScopedIPThrottle):
    scope = "otp_request_ip"


class OTPRequestDestinationThrottle(ScopedFieldThrottle):
    scope = "otp_request_destination"
    fields = ("email", "phone")


class OTPVerifyIPThrottle(ScopedIPThrottle):
    scope = "otp_verify_ip"


class OTPVerifyDestinationThrottle(ScopedFieldThrottle):
    scope = "otp_verify_destination"
    fields = ("email", "phone")


class PasswordChangeThrottle(ScopedIPThrottle):
    scope = "password_change"
