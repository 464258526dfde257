import re

import pytest
from latex2mathml import converter

from core.markdown import MATHML_ATTRIBUTES, MATHML_TAGS, math_errors, render_markdown

# What the notes in docs/testengine.md promise; the sanitiser's MathML allow-list is exactly
# what latex2mathml makes of these, inline and display.
CORPUS = (
    r"x",
    r"x^2",
    r"x_1",
    r"x_i^2",
    r"\frac{a}{b}",
    r"\dfrac{1}{2}",
    r"\sqrt{x}",
    r"\sqrt[3]{x}",
    r"\int_0^1 f(x)\,dx",
    r"\sum_{i=1}^{n} i",
    r"\lim_{x \to 0} \frac{\sin x}{x}",
    r"\alpha+\beta=\gamma",
    r"\vec{v}",
    r"\hat{x}",
    r"\bar{x}",
    r"\overline{AB}",
    r"\left( \frac{a}{b} \right)",
    r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
    r"\begin{cases} x & x>0 \\ -x & x \le 0 \end{cases}",
    r"\begin{align} a &= b \\ c &= d \end{align}",
    r"\mathrm{H_2O}",
    r"\mathrm{SO_4^{2-}}",
    r"\mathrm{Fe^{3+}}",
    r"\rightarrow",
    r"\rightleftharpoons",
    r"\xrightarrow{\Delta}",
    r"\xrightarrow[\text{cat}]{\Delta}",
    r"\overset{\Delta}{\rightarrow}",
    r"\text{mol}",
    r"\mathbf{F}=m\mathbf{a}",
    r"\textbf{kg}",
    r"\pm \times \cdot",
    r"\,\;\quad",
    r"10^{-3}\ \mathrm{m\,s^{-2}}",
    r"\binom{n}{k}",
    r"\log_{10} x",
    r"\Delta H^\circ",
    r"\underbrace{a+b}_{n}",
    r"\mathbb{R}",
    r"\color{red}{x}",
    r"\boxed{x}",
    r"\dot{x}",
    r"f'(x)",
    r"\infty \partial \nabla \hbar",
)
_TAG = re.compile(r'<([a-z]+)((?:\s+[a-z:-]+="[^"]*")*)\s*/?>')


def test_the_mathml_allow_list_is_exactly_what_the_renderer_produces():
    tags: dict[str, set[str]] = {}
    for tex in CORPUS:
        for display in ("inline", "block"):
            for match in _TAG.finditer(converter.convert(tex, display=display)):
                attributes = tags.setdefault(match.group(1), set())
                attributes.update(re.findall(r'([a-z:-]+)="', match.group(2)))

    assert set(tags) == MATHML_TAGS
    assert {tag: names for tag, names in tags.items() if names} == MATHML_ATTRIBUTES


def test_inline_and_display_math_become_mathml():
    html = render_markdown("Water is $H_2O$.\n\n$$\n\\frac{a}{b}\n$$")

    assert html == (
        '<p>Water is <math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
        "<mrow><msub><mi>H</mi><mn>2</mn></msub><mi>O</mi></mrow></math>.</p>\n"
        '<p><math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><mfrac>'
        "<mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac></mrow></math></p>"
    )


def test_tex_underscores_and_stars_are_not_markdown_emphasis():
    html = render_markdown("$a_1 * b_2$ and *this*")

    assert "<msub><mi>a</mi><mn>1</mn></msub>" in html
    assert "<em>this</em>" in html
    assert html.count("<em>") == 1


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Costs $5 and $10.", "<p>Costs $5 and $10.</p>"),
        ("$20,000 and $30,000", "<p>$20,000 and $30,000</p>"),
        ("A $ sign alone", "<p>A $ sign alone</p>"),
        ("$ x$ opens with a space", "<p>$ x$ opens with a space</p>"),
        ("$x $ closes after a space", "<p>$x $ closes after a space</p>"),
        ("Pay \\$5, not \\$x\\$.", "<p>Pay $5, not $x$.</p>"),
        ("`$x$` in code", "<p><code>$x$</code> in code</p>"),
        ("```\n$x$ and $$y$$\n```", "<pre><code>$x$ and $$y$$\n</code></pre>"),
        ("    $x$ indented", "<pre><code>$x$ indented\n</code></pre>"),
        ("$a\n\nb$ spans a paragraph", "<p>$a</p>\n<p>b$ spans a paragraph</p>"),
    ],
)
def test_dollars_that_are_not_math_stay_text(text, html):
    assert render_markdown(text) == html


def test_math_does_not_close_at_a_dollar_followed_by_a_digit():
    assert render_markdown("$x$5 apples") == "<p>$x$5 apples</p>"


def test_an_escaped_dollar_inside_math_is_tex():
    html = render_markdown(r"$\$5 + x$")

    assert "<math" in html
    assert "<mi>x</mi>" in html


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        (r"$H_2O$", "<msub><mi>H</mi><mn>2</mn></msub>"),
        (r"$SO_4^{2-}$", "<msubsup><mi>O</mi><mn>4</mn><mrow><mn>2</mn><mo>−</mo></mrow>"),
        (r"$\mathrm{Fe}^{3+}$", '<mi mathvariant="normal">e</mi></mrow><mrow><mn>3</mn><mo>+'),
        (r"$A \rightarrow B$", "<mo>→</mo>"),
        (r"$A \rightleftharpoons B$", "<mo>⇌</mo>"),
        (r"$A \xrightarrow{\Delta} B$", "<mo>→</mo></mstyle><mpadded"),
    ],
)
def test_chemistry_notation(tex, expected):
    assert expected in render_markdown(tex)


@pytest.mark.parametrize(
    "text",
    [
        '<math><maction actiontype="statusline"><mi>x</mi><mtext>go</mtext></maction></math>',
        '<math><mrow href="javascript:alert(1)"><mi>x</mi></mrow></math>',
        '<math><semantics><mi>x</mi><annotation-xml encoding="text/html">'
        "<img src=x onerror=alert(1)></annotation-xml></semantics></math>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        '<math><mi style="color:red" onclick="x()">x</mi></math>',
        r"$\href{javascript:alert(1)}{x}$",
        r"$\text{<script>alert(1)</script>}$",
    ],
)
def test_mathml_outside_the_allow_list_is_stripped(text):
    html = render_markdown(text)

    for banned in ("maction", "href", "annotation", "semantics", "script", "onerror", "style"):
        assert banned not in html
    assert "onclick" not in html


def test_hand_written_math_keeps_only_allowed_elements():
    html = render_markdown('<math display="block"><mi>x</mi><maction><mi>y</mi></maction></math>')

    assert html == '<math display="block"><mi>x</mi><mi>y</mi></math>'


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("Line one\nsee $\\fracc{1}{2}$", ["Line 2, column 6: unknown command \\fracc."]),
        ("$x^$", ["Line 1, column 2: ^ or _ needs something after it."]),
        ("ok $\\frac{1}{2$", ["Line 1, column 13: this { is not closed."]),
        ("$$a}$$", ["Line 1, column 4: this } closes no {."]),
        (
            "$\\sqrt$",
            ["Line 1, column 2: the formula ends before a command has all its arguments."],
        ),
        (
            "$\\begin{pmatrix} 1$",
            ["Line 1, column 2: an environment is not closed with \\end."],
        ),
        ("$a$ and $\\foo$ and $\\bar x$", ["Line 1, column 10: unknown command \\foo."]),
        ("$x$, `$\\fracc$`, \\$5, $5 and $10", []),
    ],
)
def test_invalid_tex_is_reported_with_its_position(text, errors):
    assert math_errors(text) == errors


def test_invalid_tex_saved_before_validation_shows_its_source():
    assert render_markdown("$x^$") == "<p><code>$x^$</code></p>"
