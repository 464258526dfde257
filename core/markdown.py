"""Markdown for content written by staff, rendered to HTML that is safe to show anywhere.

Rendering happens once, when content is saved; clients get the stored HTML. nh3 (the Rust
ammonia sanitiser) keeps only an allow-list of tags and attributes, so no script, event
handler or ``javascript:`` URL survives, whatever the Markdown contains.
"""

from __future__ import annotations

import re
import threading

import markdown as md
import nh3

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
    return converter


def render_markdown(text: str) -> str:
    """Markdown → sanitised HTML."""
    if not text:
        return ""
    html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


# Code is shown, never run: Markdown escapes everything inside fences and code spans, so
# `<script>` or `onload=` there is a legitimate subject of a question, not an attack.
_FENCED = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def unsafe_markup(text: str) -> str | None:
    """The first piece of script-capable markup in ``text`` outside code, or None."""
    prose = _CODE_SPAN.sub(" ", _FENCED.sub(" ", text or ""))
    match = _DANGEROUS.search(prose)
    return match.group(0) if match else None
