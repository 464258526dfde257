"""CSV cells that spreadsheets do not run, and that read back to exactly what was written."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.spreadsheets import formula_neutralised, formula_restored

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=HYPERLINK(A1)", "'=HYPERLINK(A1)"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("'x", "'x"),
        ("''", "''"),
        ("", ""),
        ("plain = text", "plain = text"),
    ],
)
def test_formula_cells_get_one_quote(text, cell):
    assert formula_neutralised(text) == cell
    assert formula_restored(cell) == text


# Texts made mostly of the characters that matter, so the edge cases come up often.
texts = st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", " "]))


@given(texts)
def test_restoring_inverts_neutralising(text):
    cell = formula_neutralised(text)

    assert formula_restored(cell) == text
    assert cell[:1] not in FORMULA_STARTS or cell == ""


@given(texts)
def test_a_cell_we_would_not_have_written_is_read_as_it_is(text):
    # A hand-made file's cell that needs no quote is never changed.
    if formula_neutralised(text) == text:
        assert formula_restored(text) == text
