import pytest

from core.markdown import render_markdown, unsafe_markup


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "Click <a href='x' onclick='steal()'>here</a>",
        "<img src=x onerror=alert(1)>",
        "[link](javascript:alert(1))",
        "<iframe src='https://evil.example'></iframe>",
        "Mixed `code` and then <svg onload=alert(1)>",
    ],
)
def test_script_capable_markup_outside_code_is_found(text):
    assert unsafe_markup(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "What does `one = 1` bind?",
        "Set `ongoing=True` on the model.",
        "Which header stops `<script>` injection from running?",
        "```html\n<script>alert(1)</script>\n```",
        "Compare x < y and y > z.",
        "``a `nested` <script> span``",
    ],
)
def test_code_and_plain_comparisons_are_not_flagged(text):
    assert unsafe_markup(text) is None


def test_rendering_escapes_code_and_strips_anything_dangerous():
    html = render_markdown("`<script>x</script>` and <b onclick=x()>bold</b> [a](javascript:x)")

    assert "&lt;script&gt;" in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "<script>" not in html


def test_rendering_keeps_tables_fences_and_links():
    html = render_markdown(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n[d](https://x.dev)"
    )

    assert "<table>" in html
    assert "<pre><code>code" in html
    assert 'href="https://x.dev"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
