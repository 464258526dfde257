"""Tax invoices: gap-free numbering per financial year, the GST split, the HTML page, the
PDF, the email after commit and the learner's download endpoints."""

from __future__ import annotations

import io
import logging
import smtplib
import threading
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from rest_framework.test import APIClient

from payments.invoices import (
    amount_in_words,
    financial_year,
    format_inr,
    gst_split,
    invoice_issue,
    render_invoice_html,
    render_invoice_pdf,
)
from payments.models import Invoice, InvoiceSequence, Order
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import PlanFactory

IST = ZoneInfo("Asia/Kolkata")
GSTIN = "29AABCE1234F1Z5"


@pytest.fixture(autouse=True)
def _invoice_settings(settings):
    settings.INVOICE_SUPPLIER_NAME = "Examforge Learning Pvt. Ltd."
    settings.INVOICE_SUPPLIER_ADDRESS = "12 MG Road\nBengaluru, Karnataka 560001"
    settings.INVOICE_SUPPLIER_GSTIN = GSTIN
    settings.INVOICE_SUPPLIER_STATE = "29"
    settings.INVOICE_SAC_CODE = "999293"
    settings.INVOICE_GST_RATE = "18.00"
    settings.INVOICE_PREFIX = "EF"
    settings.DEFAULT_FROM_EMAIL = "Examforge <billing@examforge.test>"


def paid_order(
    *,
    total_paise: int = 118000,
    user=None,
    paid_at: datetime | None = None,
    status: str = Order.Status.PAID,
    product_title: str = "GATE CSE test series",
    plan_name: str = "6 months",
) -> Order:
    """An order as ``order_mark_paid`` leaves it (no gateway involved)."""
    plan = PlanFactory(
        price_paise=max(total_paise, 100), name=plan_name, product__title=product_title
    )
    return Order.objects.create(
        user=user or UserFactory(full_name="Asha Rao"),
        plan=plan,
        product=plan.product,
        status=status,
        base_paise=total_paise,
        total_paise=total_paise,
        gateway=Order.Gateway.SIMULATED if total_paise else Order.Gateway.NONE,
        paid_at=(paid_at or timezone.now()) if status == Order.Status.PAID else None,
    )


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=IST)


# --- the rules, without a database ----------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (at(2026, 4, 1, 0, 0), "2026-27"),
        (at(2027, 3, 31, 23, 59, 59), "2026-27"),
        (at(2027, 4, 1, 0, 0), "2027-28"),
        (at(2099, 12, 31, 12, 0), "2099-00"),
        # 1 April 00:10 in India is still 31 March in UTC: India decides.
        (datetime(2027, 3, 31, 18, 40, tzinfo=ZoneInfo("UTC")), "2027-28"),
    ],
)
def test_financial_year_runs_april_to_march_in_india(moment, year):
    assert financial_year(moment) == year


@given(
    total=st.integers(min_value=100, max_value=10**7),
    rate=st.sampled_from([Decimal(r) for r in ("0", "0.25", "3", "5", "12", "18", "28")]),
    intra=st.booleans(),
)
def test_gst_split_adds_up_and_rounds_the_taxable_value_half_up(total, rate, intra):
    split = gst_split(total_paise=total, rate=rate, intra_state=intra)

    assert split.taxable_paise + split.cgst_paise + split.sgst_paise + split.igst_paise == total
    assert min(split.taxable_paise, split.cgst_paise, split.sgst_paise, split.igst_paise) >= 0
    # The taxable value is the nearest paisa to total × 100 / (100 + rate).
    assert abs(split.taxable_paise * (100 + rate) - total * 100) <= (100 + rate) / 2
    if intra:
        assert split.igst_paise == 0
        assert split.sgst_paise - split.cgst_paise in (0, 1)
    else:
        assert split.cgst_paise == split.sgst_paise == 0


@pytest.mark.parametrize(
    ("total", "intra", "expected"),
    [
        (118000, True, (100000, 9000, 9000, 0)),
        (118000, False, (100000, 0, 0, 18000)),
        (49900, True, (42288, 3806, 3806, 0)),  # 42288.135… → 42288; GST 7612
        (100, True, (85, 7, 8, 0)),  # 84.745… → 85; the odd paisa goes to SGST
        (100, False, (85, 0, 0, 15)),
    ],
)
def test_gst_split_examples(total, intra, expected):
    split = gst_split(total_paise=total, rate=Decimal("18.00"), intra_state=intra)

    assert (split.taxable_paise, split.cgst_paise, split.sgst_paise, split.igst_paise) == expected


def test_format_inr_is_the_invoice_form_of_core_money():
    # Grouping and its edge cases: tests/core/test_money.py.
    assert (format_inr(0), format_inr(12345678)) == ("0.00", "1,23,456.78")


def test_amount_in_words():
    assert amount_in_words(118050) == "Rupees One Thousand One Hundred Eighty and Paise Fifty Only"
    assert amount_in_words(1234567800) == (
        "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight Only"
    )


# --- issuing --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_issue_numbers_invoices_one_after_another_and_records_the_sale():
    with time_machine.travel(at(2026, 11, 22, 10, 0), tick=False):
        orders = [paid_order() for _ in range(3)]

    invoices = [invoice_issue(order=order) for order in orders]

    assert [invoice.number for invoice in invoices] == [
        "EF/2026-27/000001",
        "EF/2026-27/000002",
        "EF/2026-27/000003",
    ]
    first = Invoice.objects.get(order=orders[0])
    assert (first.financial_year, first.sequence) == ("2026-27", 1)
    assert first.issued_at == orders[0].paid_at
    assert (first.buyer_name, first.buyer_email, first.buyer_state) == (
        "Asha Rao",
        orders[0].user.email,
        "",
    )
    assert (first.supplier_gstin, first.supplier_state, first.sac_code) == (GSTIN, "29", "999293")
    assert first.supplier_name == "Examforge Learning Pvt. Ltd."
    assert first.description == "GATE CSE test series — 6 months"
    assert first.gst_rate == Decimal("18.00")
    assert (first.total_paise, first.taxable_paise) == (118000, 100000)
    assert (first.cgst_paise, first.sgst_paise, first.igst_paise) == (9000, 9000, 0)
    assert InvoiceSequence.objects.get(financial_year="2026-27").last_number == 3


@pytest.mark.django_db
def test_numbering_starts_again_each_financial_year():
    with time_machine.travel(at(2027, 3, 31, 23, 59, 59), tick=False):
        march = [paid_order(), paid_order()]
    with time_machine.travel(at(2027, 4, 1, 0, 0, 1), tick=False):
        april = paid_order()

    numbers = [invoice_issue(order=order).number for order in [*march, april]]

    assert numbers == ["EF/2026-27/000001", "EF/2026-27/000002", "EF/2027-28/000001"]
    assert dict(InvoiceSequence.objects.values_list("financial_year", "last_number")) == {
        "2026-27": 2,
        "2027-28": 1,
    }


@pytest.mark.django_db
def test_a_rolled_back_payment_takes_no_number():
    with time_machine.travel(at(2026, 6, 1, 12, 0), tick=False):
        failed, next_one = paid_order(), paid_order()

    numbered: list[str] = []

    def pay_then_fail() -> None:
        with transaction.atomic():  # the payment's transaction
            numbered.append(invoice_issue(order=failed).number)
            raise RuntimeError("something after the numbering fails")

    with pytest.raises(RuntimeError):
        pay_then_fail()

    assert numbered == ["EF/2026-27/000001"]

    assert not Invoice.objects.filter(order=failed).exists()
    assert not InvoiceSequence.objects.exists()  # even the year's counter row rolled back
    assert invoice_issue(order=next_one).number == "EF/2026-27/000001"
    assert invoice_issue(order=failed).number == "EF/2026-27/000002"


@pytest.mark.django_db
def test_issue_is_idempotent():
    order = paid_order()
    first = invoice_issue(order=order)

    again = invoice_issue(order=order)

    assert again.pk == first.pk
    assert Invoice.objects.count() == 1
    assert InvoiceSequence.objects.get().last_number == 1


@pytest.mark.django_db
def test_a_buyer_in_another_state_pays_igst():
    invoice = invoice_issue(order=paid_order(total_paise=49900), buyer_state="27")

    assert invoice.buyer_state == "27"
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise) == (42288, 0, 0)
    assert invoice.igst_paise == 7612


@pytest.mark.django_db
def test_a_buyer_in_the_suppliers_state_pays_cgst_and_sgst():
    invoice = invoice_issue(order=paid_order(total_paise=49900), buyer_state="29")

    assert (invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise) == (3806, 3806, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("total", [100, 101, 199, 999, 49900, 99999, 1_234_567, 9_999_999])
@pytest.mark.parametrize("buyer_state", ["", "27"])
def test_stored_invoices_add_up(total, buyer_state):
    # The database's check constraint would refuse the row otherwise.
    invoice = invoice_issue(order=paid_order(total_paise=total), buyer_state=buyer_state)

    invoice.refresh_from_db()
    parts = invoice.taxable_paise + invoice.cgst_paise + invoice.sgst_paise + invoice.igst_paise
    assert parts == total


@pytest.mark.django_db
def test_the_rate_comes_from_settings(settings):
    settings.INVOICE_GST_RATE = "12.00"

    invoice = invoice_issue(order=paid_order(total_paise=112000))

    assert invoice.gst_rate == Decimal("12.00")
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise) == (100000, 6000, 6000)


@pytest.mark.django_db
def test_a_fully_discounted_order_gets_no_invoice_and_takes_no_number():
    order = paid_order(total_paise=0)

    assert invoice_issue(order=order) is None
    assert not Invoice.objects.exists()
    assert not InvoiceSequence.objects.exists()


@pytest.mark.django_db
def test_an_unpaid_order_is_refused():
    order = paid_order(status=Order.Status.CREATED)

    with pytest.raises(ValueError, match="not paid"):
        invoice_issue(order=order)
    assert not Invoice.objects.exists()
    assert not InvoiceSequence.objects.exists()


@pytest.mark.django_db
def test_a_buyer_without_name_or_email_is_named_by_phone(django_capture_on_commit_callbacks):
    order = paid_order(user=UserFactory(email=None, full_name="", phone="+919812345678"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice = invoice_issue(order=order)

    assert (invoice.buyer_name, invoice.buyer_email) == ("+919812345678", "")
    assert callbacks == []  # nobody to email
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_invoices_of_a_year_get_one_and_two():
    with time_machine.travel(at(2030, 5, 1, 9, 0), tick=False):
        orders = [paid_order(), paid_order(), paid_order()]
    barrier = threading.Barrier(len(orders))
    numbers: list[str] = []
    failures: list[BaseException] = []

    def issue(order: Order) -> None:
        barrier.wait()
        try:
            numbers.append(invoice_issue(order=order).number)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(numbers) == [f"EF/2030-31/00000{n}" for n in (1, 2, 3)]
    assert InvoiceSequence.objects.get(financial_year="2030-31").last_number == 3


# --- rendering ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_html_is_a_tax_invoice_with_the_suppliers_details():
    with time_machine.travel(at(2026, 11, 22, 10, 0), tick=False):
        invoice = invoice_issue(order=paid_order(total_paise=118000))

    html = render_invoice_html(invoice)

    for text in (
        "Tax Invoice",
        "EF/2026-27/000001",
        "22 Nov 2026",
        f"GSTIN: {GSTIN}",
        "999293",
        "Examforge Learning Pvt. Ltd.",
        "12 MG Road<br>Bengaluru",
        "Asha Rao",
        "GATE CSE test series — 6 months",
        "1,000.00",
        "CGST @ 9%",
        "SGST @ 9%",
        "90.00",
        "₹1,180.00",
        "Rupees One Thousand One Hundred Eighty Only",
    ):
        assert text in html, text
    assert "IGST" not in html


@pytest.mark.django_db
def test_html_shows_igst_for_another_state_and_escapes_names():
    user = UserFactory(full_name="<script>alert(1)</script>")
    invoice = invoice_issue(order=paid_order(user=user), buyer_state="27")

    html = render_invoice_html(invoice)

    assert "IGST @ 18%" in html
    assert "CGST" not in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_pdf_carries_the_number_and_the_amounts():
    with time_machine.travel(at(2026, 11, 22, 10, 0), tick=False):
        invoice = invoice_issue(order=paid_order(total_paise=118000))

    pdf = render_invoice_pdf(invoice)

    assert pdf.startswith(b"%PDF-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Tax Invoice",
        "EF/2026-27/000001",
        GSTIN,
        "999293",
        "1,000.00",
        "CGST @ 9%",
        "1,180.00",
    ):
        assert expected in text, expected


# --- email ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invoice_is_emailed_with_its_pdf_after_commit(django_capture_on_commit_callbacks):
    order = paid_order()

    with django_capture_on_commit_callbacks(execute=False) as pending:
        invoice = invoice_issue(order=order)
    assert mail.outbox == []  # nothing leaves before the payment commits
    for callback in pending:
        callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.user.email]
    assert message.from_email == "Examforge <billing@examforge.test>"
    assert message.subject == f"Your Examforge invoice {invoice.number}"
    assert invoice.number in message.body
    assert message.alternatives[0][1] == "text/html"
    assert GSTIN in message.alternatives[0][0]
    filename, content, mimetype = message.attachments[0]
    assert (filename, mimetype) == (
        "EF-" + invoice.number[3:].replace("/", "-") + ".pdf",
        "application/pdf",
    )
    assert content.startswith(b"%PDF-")
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None


@pytest.mark.django_db
def test_a_failed_email_does_not_break_the_payment_and_logs_no_address(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    order = paid_order()

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({order.user.email: (550, b"no such user")})

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with (
        caplog.at_level(logging.WARNING, logger="payments.invoices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        invoice = invoice_issue(order=order)

    invoice.refresh_from_db()
    assert invoice.emailed_at is None
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    [record] = [r for r in caplog.records if r.name == "payments.invoices"]
    assert record.getMessage() == "invoice email failed"
    assert (record.order_id, record.error) == (str(order.pk), "SMTPRecipientsRefused")
    assert record.exc_info is None
    assert order.user.email not in caplog.text


# --- API ------------------------------------------------------------------------------------


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_the_owner_downloads_the_pdf():
    order = paid_order()
    invoice = invoice_issue(order=order)

    response = _client_for(order.user).get(
        f"/api/v1/orders/{order.pk}/invoice/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    filename = invoice.number.replace("/", "-") + ".pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("", "application/pdf"),
        ("*/*", "application/pdf"),
        ("application/octet-stream, application/pdf;q=0.5", "application/pdf"),
        ("application/octet-stream", "application/octet-stream"),
        ("application/octet-stream, application/json", "application/octet-stream"),
    ],
)
def test_the_pdf_is_a_binary_download_in_either_documented_media_type(accept, media_type):
    order = paid_order()
    invoice_issue(order=order)
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = _client_for(order.user).get(f"/api/v1/orders/{order.pk}/invoice/", **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == media_type
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"%PDF-")


@pytest.mark.django_db
def test_an_octet_stream_client_still_gets_errors_as_json():
    order = paid_order()

    response = _client_for(order.user).get(
        f"/api/v1/orders/{order.pk}/invoice/", HTTP_ACCEPT="application/octet-stream"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_the_owner_gets_the_html_page():
    order = paid_order()
    invoice = invoice_issue(order=order)

    response = _client_for(order.user).get(f"/api/v1/orders/{order.pk}/invoice/html/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert invoice.number in response.content.decode()
    # A page, though the API serves it: the page policy and frame header, not the JSON ones.
    assert "default-src 'self'" in response["Content-Security-Policy"].split("; ")
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["invoice/", "invoice/html/"])
def test_another_learners_invoice_is_404(suffix):
    order = paid_order()
    invoice_issue(order=order)

    response = _client_for(UserFactory()).get(f"/api/v1/orders/{order.pk}/{suffix}")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such order."}


@pytest.mark.django_db
def test_an_order_without_an_invoice_is_404():
    order = paid_order(status=Order.Status.CREATED)

    response = _client_for(order.user).get(
        f"/api/v1/orders/{order.pk}/invoice/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found",
        "detail": "This order has no invoice: only paid orders above ₹0 get one.",
    }


@pytest.mark.django_db
def test_an_invoice_paid_late_in_the_evening_is_dated_by_the_indian_calendar():
    # 23:28 UTC on 22 November is 04:58 on 23 November in India
    with time_machine.travel(datetime(2026, 11, 22, 23, 28, tzinfo=UTC), tick=False):
        invoice = invoice_issue(order=paid_order(total_paise=118000))

    html = render_invoice_html(invoice)

    assert "Date: 23 Nov 2026" in html
    assert "22 Nov 2026" not in html


@pytest.mark.django_db
def test_the_invoice_needs_a_login():
    order = paid_order()
    invoice_issue(order=order)

    response = APIClient().get(f"/api/v1/orders/{order.pk}/invoice/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
