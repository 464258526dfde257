"""Money as people read it. Amounts are integer paise everywhere else (``*_paise`` fields,
computed on the server); this module is the one place that turns them into text, with
Indian digit grouping (lakh and crore: ₹1,23,45,678).

Two forms, both from :func:`rupees`:

* the everyday form (admin, checkout, messages): ``₹1,499`` — whole rupees drop ``.00``,
  paise show when there are some (``₹499.50``);
* the ledger form of a tax invoice (``exact=True``): always two places, ``1,180.00``, and
  without the ₹ sign where a column header or ``INR`` names the currency
  (``symbol=False``).

A negative amount (a net of refunds over revenue in a filtered admin list) reads
``−₹200.50``, with the minus sign in front of the ₹.
"""

from __future__ import annotations

MINUS = "−"  # U+2212, as the checkout page writes its discount


def _grouped(whole: int) -> str:
    """``1234567`` → ``12,34,567``: the last three digits, then pairs."""
    digits = str(whole)
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*groups, tail])


def rupees(paise: int, *, exact: bool = False, symbol: bool = True) -> str:
    """``paise`` as rupees: ``₹1,23,456.78``; whole rupees without ``.00`` (``₹499``)
    unless ``exact``; no ₹ sign when ``symbol`` is false. Integers only: a float or a
    ``Decimal`` is refused (``TypeError``), since paise are never fractional."""
    if isinstance(paise, bool) or not isinstance(paise, int):
        raise TypeError(f"rupees() takes integer paise, not {type(paise).__name__}")
    sign = MINUS if paise < 0 else ""
    whole, fraction = divmod(abs(paise), 100)
    text = _grouped(whole)
    if fraction or exact:
        text = f"{text}.{fraction:02d}"
    return f"{sign}{'₹' if symbol else ''}{text}"
