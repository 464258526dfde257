"""Mail and text messages in development: whole messages in files, one line in the terminal,
the first line of text (a one-time code) only under DEBUG."""

import re

import pytest
from django.core import mail

from accounts import sms
from core.dev_delivery import mask_destination
from core.management.commands.demo_setup import banner

CODE_TEXT = "123456 is your Examforge login code. It expires in 5 minutes."


@pytest.fixture
def dev_mail(settings, tmp_path):
    settings.EMAIL_BACKEND = "core.dev_delivery.DevFileEmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


@pytest.fixture
def dev_sms(settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.DevFileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("learner@examforge.local", "l•••@examforge.local"),
        ("a@b.example", "a•••@b.example"),
        ("+919800000001", "+91••••••0001"),
        ("98000", "•••••"),
        ("", ""),
    ],
)
def test_destinations_are_masked(value, masked):
    assert mask_destination(value) == masked


def test_mail_goes_to_a_file_and_one_line_with_the_code_under_debug(settings, dev_mail, capsys):
    settings.DEBUG = True

    mail.send_mail("Your Examforge login code", f"{CODE_TEXT}\n\nIgnore it.", None, ["x@y.in"])

    [written] = list(dev_mail.iterdir())
    assert "Subject: Your Examforge login code" in written.read_text()
    assert capsys.readouterr().out == (
        f'mail to x•••@y.in "Your Examforge login code" written to {written}\n  {CODE_TEXT}\n'
    )


def test_without_debug_the_terminal_line_leaves_the_text_out(settings, dev_mail, capsys):
    settings.DEBUG = False

    mail.send_mail("Your Examforge login code", CODE_TEXT, None, ["learner@examforge.local"])

    out = capsys.readouterr().out
    assert re.fullmatch(
        r'mail to l•••@examforge\.local "Your Examforge login code" written to .+\.log\n', out
    )
    assert "123456" not in out
    assert "123456" in next(dev_mail.iterdir()).read_text()


def test_a_long_first_line_is_cut_in_the_terminal(settings, dev_mail, capsys):
    settings.DEBUG = True

    mail.send_mail("Long", "x" * 300, None, ["x@y.in"])

    preview = capsys.readouterr().out.splitlines()[1]
    assert preview == "  " + "x" * 99 + "…"


def test_sms_goes_to_a_file_and_one_line_with_the_code_under_debug(settings, dev_sms, capsys):
    settings.DEBUG = True

    sms.send_sms(to="+919800000001", body=CODE_TEXT)

    [written] = list(dev_sms.glob("*.sms"))
    assert written.read_text() == f"To: +919800000001\n\n{CODE_TEXT}\n"
    assert capsys.readouterr().out == (
        f"SMS to +91••••••0001 written to {written}\n  {CODE_TEXT}\n"
    )


def test_sms_without_debug_leaves_the_code_out_of_the_terminal(settings, dev_sms, capsys):
    settings.DEBUG = False

    sms.send_sms(to="+919800000001", body=CODE_TEXT)

    out = capsys.readouterr().out
    assert out.startswith("SMS to +91••••••0001 written to ")
    assert "123456" not in out


def test_the_banner_names_the_urls_and_where_mail_and_sms_go(settings):
    settings.ADMIN_URL = "back-office/"
    settings.EMAIL_BACKEND = "core.dev_delivery.DevFileEmailBackend"
    settings.EMAIL_FILE_PATH = str(settings.BASE_DIR / "var" / "mail")
    settings.SMS_BACKEND = "accounts.sms.DevFileSmsBackend"
    settings.SMS_FILE_PATH = str(settings.BASE_DIR / "var" / "sms")

    text = banner("http://127.0.0.1:8765", worker_log="var/log/worker.log")

    assert "Examforge is starting on http://127.0.0.1:8765/" in text
    assert "http://127.0.0.1:8765/api/docs/" in text
    assert re.search(r"Admin\s+http://127\.0\.0\.1:8765/back-office/\n", text)
    assert re.search(r"Mail\s+var/mail/ ", text)
    assert re.search(r"SMS\s+var/sms/\n", text)
    assert re.search(r"Worker log\s+var/log/worker\.log\n", text)
    assert "make run PORT=8001 HOST=0.0.0.0" in text


def test_the_banner_names_a_configured_mail_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_BACKEND = "accounts.sms.ConsoleSmsBackend"

    text = banner("http://127.0.0.1:8000")

    assert re.search(r"Mail\s+django\.core\.mail\.backends\.smtp\.EmailBackend \(EMAIL_URL\)", text)
    assert re.search(r"SMS\s+this terminal\n", text)
    assert "Worker log" not in text
