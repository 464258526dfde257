"""Errors of the accounts domain, each with its stable code and HTTP status."""

from http import HTTPStatus

from core.errors import ApplicationError, Forbidden, Gone


class InvalidCredentials(ApplicationError):
    status = HTTPStatus.UNAUTHORIZED
    code = "invalid_credentials"
    detail = "No active account matches this email and password."


class TokenInvalid(ApplicationError):
    status = HTTPStatus.UNAUTHORIZED
    code = "token_not_valid"
    detail = "The token is invalid, expired or revoked. Log in again."


class AccountDisabled(Forbidden):
    code = "account_disabled"
    detail = "This account is disabled. Contact support."


class OTPInvalid(ApplicationError):
    code = "otp_invalid"
    detail = "The code is not correct."


class OTPExpired(Gone):
    code = "otp_expired"
    detail = "The code has expired or was replaced by a newer one. Request a new code."


class OTPExhausted(Gone):
    code = "otp_attempts_exceeded"
    detail = "Too many wrong codes. Request a new code."


class PasswordNotSet(ApplicationError):
    status = HTTPStatus.CONFLICT
    code = "password_not_set"
    detail = "This account logs in with one-time codes and has no password to change."


class SmsLoginUnavailable(ApplicationError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "sms_unavailable"
    detail = "Login by phone is not available right now. Use your email address."


class ContactInUse(ApplicationError):
    """Only told to someone who has just proved they hold the address."""

    status = HTTPStatus.CONFLICT
    code = "contact_in_use"
    detail = (
        "This address is the login of another account. Log in to that account with a "
        "one-time code instead."
    )
