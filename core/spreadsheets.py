"""CSV cells a spreadsheet opens safely, and reads back losslessly.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(…)`` exfiltrates, ``@SUM(…)`` computes): every CSV we
write puts a ``'`` in front of such a cell, which spreadsheets show as text.

To read our own files back losslessly the rule also covers text that already starts with
quotes: a cell is prefixed when, after its leading ``'`` characters, it starts with a
formula character. So ``=x`` is written ``'=x``, ``'=x`` is written ``''=x`` and ``'x`` stays
``'x``; ``formula_restored`` removes exactly the one ``'`` that ``formula_neutralised``
added, and nothing from any other cell.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"


def _looks_like_formula(text: str) -> bool:
    return text.lstrip(PREFIX)[:1] in FORMULA_STARTS


def formula_neutralised(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet will not run."""
    return PREFIX + text if _looks_like_formula(text) else text


def formula_restored(cell: str) -> str:
    """The text ``formula_neutralised`` was given (its exact inverse)."""
    if cell.startswith(PREFIX) and _looks_like_formula(cell):
        return cell[len(PREFIX) :]
    return cell
