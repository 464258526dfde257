r"""Markdown for content written by staff, rendered to HTML that is safe to show anywhere.

Rendering happens once, when content is saved; clients get the stored HTML. nh3 (the Rust
ammonia sanitiser) keeps only an allow-list of tags and attributes, so no script, event
handler or ``javascript:`` URL survives, whatever the Markdown contains.

TeX math is typeset on the server to MathML (latex2mathml), so every client shows it with
no JavaScript. The delimiters follow Pandoc's ``tex_math_dollars``:

- ``$$…$$`` is display math; it may span lines but not a blank line.
- ``$…$`` is inline math: the opening ``$`` has a non-space character right after it, the
  closing ``$`` a non-space character right before it and no digit right after it, so
  ``$5 and $10`` stays text. It may not span a blank line either.
- ``\$`` is a literal dollar (outside math; inside math it is TeX's own ``\$``).
- Code spans, fenced and indented code blocks are left alone.

``MATHML_TAGS`` and ``MATHML_ATTRIBUTES`` are what latex2mathml produces over the corpus in
``tests/core/test_markdown_math.py`` (a test checks the two agree) and nothing more: no
``maction``, ``semantics``/``annotation-xml``, ``href`` or ``style``, so MathML written by
hand cannot carry script or links through the sanitiser.
"""

from __future__ import annotations

import html
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import markdown as md
import nh3
from latex2mathml import converter as latex2mathml
from latex2mathml.exceptions import (
    MissingEndError,
    MissingSuperScriptOrSubscriptError,
    NoAvailableTokensError,
)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "span",
    "div",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "td": {"align"},
    "th": {"align"},
}
MATHML_TAGS = {
    "math",
    "menclose",
    "mfrac",
    "mi",
    "mn",
    "mo",
    "mover",
    "mpadded",
    "mroot",
    "mrow",
    "mspace",
    "msqrt",
    "mstyle",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
}
MATHML_ATTRIBUTES = {
    "math": {"display", "xmlns"},
    "menclose": {"notation"},
    "mfrac": {"linethickness"},
    "mi": {"mathvariant"},
    "mo": {"accent", "fence", "form", "maxsize", "minsize", "stretchy"},
    "mover": {"accent"},
    "mpadded": {"height", "lspace", "voffset", "width"},
    "mspace": {"depth", "width"},
    "mstyle": {"displaystyle", "mathcolor", "scriptlevel"},
    "mtable": {"columnspacing", "displaystyle", "rowspacing"},
    "mtd": {"columnalign"},
    "mtext": {"mathvariant"},
}
_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]

# Raw HTML that the sanitiser would have to remove: authors get an error instead of
# silently losing part of their text.
_DANGEROUS = re.compile(
    r"<\s*(script|style|iframe|object|embed|form|input|button|svg|math|link|meta)\b"
    r"|\bon[a-z]+\s*=|javascript\s*:|vbscript\s*:|data\s*:\s*text/html",
    re.IGNORECASE,
)


_local = threading.local()


def _converter() -> md.Markdown:
    # Building a Markdown instance costs more than converting a short text; keep one per
    # thread (instances are not thread-safe) and reset it between documents.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(extensions=_EXTENSIONS, output_format="html")
        converter.ESCAPED_CHARS.append("$")  # \$ is a literal dollar
    return converter


def render_markdown(text: str) -> str:
    """Markdown (with TeX math) → sanitised HTML with MathML.

    Math is cut out before Markdown runs (so ``_`` and ``*`` in TeX are not emphasis) and put
    back as MathML after; the whole document then goes through the one sanitiser.
    """
    if not text:
        return ""
    nonce = secrets.token_hex(6)
    pieces: list[str] = []
    formulas: list[str] = []
    position = 0
    for math in _math_spans(text):
        pieces.append(text[position : math.start])
        pieces.append(f"math{nonce}x{len(formulas)}x")
        formulas.append(math.source)
        position = math.end
    pieces.append(text[position:])
    prose = _converter().reset().convert("".join(pieces))
    # A formula that Markdown put in a code block (an indented one: fences and spans are
    # skipped above) is shown as its source, like the rest of the block.
    prose = _CODE_HTML.sub(
        lambda block: _PLACEHOLDER.sub(
            lambda hit: (
                html.escape(formulas[int(hit.group(2))]) if hit.group(1) == nonce else hit.group(0)
            ),
            block.group(0),
        ),
        prose,
    )
    maths = [_typeset(source) for source in formulas]
    prose = _PLACEHOLDER.sub(
        lambda hit: maths[int(hit.group(2))] if hit.group(1) == nonce else hit.group(0), prose
    )
    return nh3.clean(
        prose,
        tags=ALLOWED_TAGS | MATHML_TAGS,
        attributes=ALLOWED_ATTRIBUTES | MATHML_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


_CODE_HTML = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)
_PLACEHOLDER = re.compile(r"math([0-9a-f]{12})x(\d+)x")


@dataclass(frozen=True)
class _Math:
    start: int  # of the opening delimiter in the source
    end: int  # just past the closing delimiter
    tex: str
    display: bool

    @property
    def source(self) -> str:
        return f"$${self.tex}$$" if self.display else f"${self.tex}$"


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes > 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _code_ranges(text: str) -> list[tuple[int, int]]:
    ranges = [match.span() for match in _FENCED.finditer(text)]
    for match in _CODE_SPAN.finditer(text):
        if not any(start <= match.start() < end for start, end in ranges):
            ranges.append(match.span())
    return ranges


def _math_spans(text: str) -> Iterator[_Math]:
    """The math in ``text``, in order, by Pandoc's ``tex_math_dollars`` rules."""
    if "$" not in text:
        return
    code = _code_ranges(text)
    index = 0
    while (index := text.find("$", index)) != -1:
        inside = next((end for start, end in code if start <= index < end), None)
        if inside is not None:
            index = inside
            continue
        if _escaped(text, index):
            index += 1
            continue
        math = _display_at(text, index) if text.startswith("$$", index) else None
        math = math or _inline_at(text, index)
        if math is None or any(math.start < end and start < math.end for start, end in code):
            index += 2 if text.startswith("$$", index) else 1
            continue
        yield math
        index = math.end


def _display_at(text: str, start: int) -> _Math | None:
    close = start + 2
    while (close := text.find("$$", close)) != -1 and _escaped(text, close):
        close += 1
    if close == -1:
        return None
    tex = text[start + 2 : close]
    if not tex.strip() or _BLANK_LINE.search(tex):
        return None
    return _Math(start=start, end=close + 2, tex=tex, display=True)


def _inline_at(text: str, start: int) -> _Math | None:
    if start + 1 >= len(text) or text[start + 1].isspace() or text[start + 1] == "$":
        return None
    close = start + 1
    while (close := text.find("$", close + 1)) != -1:
        if _BLANK_LINE.search(text, start, close):
            return None
        if (
            not _escaped(text, close)
            and not text[close - 1].isspace()
            and not text[close + 1 : close + 2].isdigit()
        ):
            return _Math(start=start, end=close + 1, tex=text[start + 1 : close], display=False)
    return None


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _typeset(source: str) -> str:
    display = source.startswith("$$")
    tex = source[2:-2] if display else source[1:-1]
    try:
        return latex2mathml.convert(tex.strip(), display="block" if display else "inline")
    except (MissingEndError, MissingSuperScriptOrSubscriptError, NoAvailableTokensError):
        # Refused when the text is validated; content saved before that shows its source.
        return f"<code>{html.escape(source)}</code>"


_UNKNOWN_COMMAND = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)")
_READ_ERRORS = {
    MissingEndError: "an environment is not closed with \\end.",
    MissingSuperScriptOrSubscriptError: "^ or _ needs something after it.",
    NoAvailableTokensError: "the formula ends before a command has all its arguments.",
}


def math_errors(text: str) -> list[str]:
    """What is wrong with the TeX in ``text``: one message per formula, with its position.

    latex2mathml typesets an unknown command as its name and ignores unbalanced braces, so
    both are checked here; what it cannot read at all is reported by its kind.
    """
    errors: list[str] = []
    for math in _math_spans(text):
        offset = math.start + (2 if math.display else 1)
        problem = _tex_problem(math.tex, display=math.display)
        if problem is not None:
            at, message = problem
            errors.append(f"{_line_column(text, offset + at)}: {message}")
    return errors


def _tex_problem(tex: str, *, display: bool) -> tuple[int, str] | None:
    depth: list[int] = []
    for index, char in enumerate(tex):
        if char in "{}" and not _escaped(tex, index):
            if char == "{":
                depth.append(index)
            elif depth:
                depth.pop()
            else:
                return index, "this } closes no {."
    if depth:
        return depth[-1], "this { is not closed."
    try:
        mathml = latex2mathml.convert(tex, display="block" if display else "inline")
    except (MissingEndError, MissingSuperScriptOrSubscriptError, NoAvailableTokensError) as exc:
        return 0, _READ_ERRORS[type(exc)]
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown is None:
        return None
    command = unknown.group(1)
    at = re.search(re.escape(command) + r"(?![A-Za-z])", tex)
    return (at.start() if at else 0), f"unknown command {command}."


def _line_column(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"Line {line}, column {column}"


# Code is shown, never run: Markdown escapes everything inside fences and code spans, so
# `<script>` or `onload=` there is a legitimate subject of a question, not an attack.
_FENCED = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def unsafe_markup(text: str) -> str | None:
    """The first piece of script-capable markup in ``text`` outside code, or None."""
    prose = _CODE_SPAN.sub(" ", _FENCED.sub(" ", text or ""))
    match = _DANGEROUS.search(prose)
    return match.group(0) if match else None
