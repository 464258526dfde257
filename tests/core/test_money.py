"""core.money: integer paise in, rupees for people out (Indian digit grouping)."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.money import rupees


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "₹0"),
        (5, "₹0.05"),
        (99, "₹0.99"),
        (100, "₹1"),
        (49900, "₹499"),
        (49950, "₹499.50"),
        (100000, "₹1,000"),
        (149900, "₹1,499"),
        (10000000, "₹1,00,000"),
        (1000000000, "₹1,00,00,000"),  # one crore
        (1234567800, "₹1,23,45,678"),
        (12345678, "₹1,23,456.78"),
    ],
)
def test_rupees_use_indian_digit_grouping_and_drop_zero_paise(paise, text):
    assert rupees(paise) == text


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (99, "0.99"),
        (100000, "1,000.00"),
        (1000000000, "1,00,00,000.00"),
        (12345678, "1,23,456.78"),
        (10**11, "1,00,00,00,000.00"),
    ],
)
def test_the_invoice_form_always_has_two_places_and_no_sign(paise, text):
    assert rupees(paise, exact=True, symbol=False) == text


def test_exact_keeps_the_sign():
    assert rupees(118000, exact=True) == "₹1,180.00"


@pytest.mark.parametrize(
    ("paise", "text"),
    [(-5, "−₹0.05"), (-20050, "−₹200.50"), (-10000000, "−₹1,00,000")],
)
def test_a_negative_amount_puts_the_minus_before_the_sign(paise, text):
    assert rupees(paise) == text


@pytest.mark.parametrize("amount", [4.99, Decimal("499.00"), "49900", None, True])
def test_anything_but_integer_paise_is_refused(amount):
    with pytest.raises(TypeError, match="integer paise"):
        rupees(amount)


def test_the_template_filter():
    template = Template("{% load money %}{{ a|rupees }} {{ b|rupees }}")
    assert template.render(Context({"a": 12345678, "b": 149900})) == "₹1,23,456.78 ₹1,499"
