"""``{% load money %}``: ``{{ order.total_paise|rupees }}`` → ``₹1,499``;
``{{ invoice.total_paise|rupees_exact }}`` → ``₹1,180.00`` (``core.money.rupees``)."""

from __future__ import annotations

from django import template

from core.money import rupees as _rupees

register = template.Library()


@register.filter
def rupees(paise: int) -> str:
    """Integer paise as ₹ with Indian grouping; whole rupees without ``.00``."""
    return _rupees(paise)


@register.filter
def rupees_exact(paise: int) -> str:
    """Integer paise as ₹ with Indian grouping and always two places (invoices)."""
    return _rupees(paise, exact=True)
