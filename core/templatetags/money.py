"""``{% load money %}``: ``{{ order.total_paise|rupees }}`` → ``₹1,499`` (``core.money``)."""

from __future__ import annotations

from django import template

from core import money

register = template.Library()


@register.filter
def rupees(paise: int) -> str:
    """Integer paise as ₹ with Indian grouping; whole rupees without ``.00``."""
    return money.rupees(paise)
