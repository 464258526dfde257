"""What a browser does with our server-rendered pages, without a browser: read a page's
forms (every field with the value the page gives it, as a browser would submit it), change
the fields a person would fill in, and post the form to its action with the page's CSRF
token and cookies. Standard library only (``html.parser``).

Used by the journeys for the checkout page and the Django admin; Playwright drives the
same pages in the browser tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

# Input types a browser never submits by themselves (buttons are submitted only when they
# are the one clicked: ``Form.submit(button=…)``), and file inputs (``files=``).
_NOT_SUBMITTED = {"submit", "button", "reset", "image", "file"}


@dataclass
class Select:
    name: str
    multiple: bool
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, label, selected

    def value_for(self, label: str) -> str:
        """The option value whose visible label is ``label`` (or contains it)."""
        for value, text, _ in self.options:
            if text == label:
                return value
        matches = [value for value, text, _ in self.options if label in text]
        if len(matches) != 1:
            labels = [text for _, text, _ in self.options]
            raise LookupError(f"{self.name}: no single option labelled {label!r} in {labels}")
        return matches[0]


@dataclass
class Form:
    action: str
    method: str
    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)
    selects: dict[str, Select] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # every control, submitted or not

    def get(self, name: str) -> str | None:
        values = [value for key, value in self.fields if key == name]
        return values[0] if values else None

    def set(self, name: str, value: str | int | list | None) -> Form:
        """Fill a field as a person would (a list for a multiple select; ``None`` or
        ``False`` unticks a checkbox)."""
        if name not in self.names:
            raise KeyError(f"the form has no field {name!r} (has {sorted(self.names)})")
        self.fields = [(key, v) for key, v in self.fields if key != name]
        if value is None or value is False:
            return self
        values = value if isinstance(value, list) else [value]
        self.fields.extend((name, "on" if v is True else str(v)) for v in values)
        return self

    def fill(self, **values) -> Form:
        for name, value in values.items():
            self.set(name, value)
        return self

    def add_inline_row(self, prefix: str, **values) -> Form:
        """What the admin's "Add another" button does to an inline formset: copy the empty
        row (``{prefix}-__prefix__-…``) as row N, raise TOTAL_FORMS, then fill the row."""
        total = int(self.get(f"{prefix}-TOTAL_FORMS") or 0)
        template = f"{prefix}-__prefix__-"
        row = f"{prefix}-{total}-"
        self.fields.extend(
            (key.replace(template, row), value)
            for key, value in list(self.fields)
            if key.startswith(template)
        )
        self.names |= {
            name.replace(template, row) for name in self.names if name.startswith(template)
        }
        self.set(f"{prefix}-TOTAL_FORMS", total + 1)
        for name, value in values.items():
            self.set(row + name, value)
        return self

    def submit(
        self,
        client: httpx.Client,
        page_url: str,
        *,
        button: tuple[str, str] | None = None,
        files: dict | None = None,
    ) -> httpx.Response:
        """Post (or get) the form to its action, resolved against the page's URL."""
        url = urljoin(page_url, self.action or page_url)
        data = list(self.fields) + ([button] if button else [])
        if self.method == "get":
            return client.get(url, params=data)
        headers = {"Referer": urljoin(str(client.base_url), page_url)}  # CSRF checks it
        if files:
            # httpx sends multipart when files are given; data must then be a dict of lists.
            grouped: dict[str, list[str]] = {}
            for key, value in data:
                grouped.setdefault(key, []).append(value)
            return client.post(url, data=grouped, files=files, headers=headers)
        body = httpx.QueryParams(data)
        return client.post(
            url,
            content=str(body).encode(),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Select | None = None
        self._option: list | None = None  # [value, text parts, selected]
        self._textarea: list | None = None  # [name, text parts]

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {key: (value if value is not None else "") for key, value in attrs_list}
        if tag == "form":
            self._form = Form(
                action=attrs.get("action", ""),
                method=attrs.get("method", "get").lower(),
                attrs=attrs,
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            form.names.add(name)
            if kind in _NOT_SUBMITTED or "disabled" in attrs:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form.fields.append((name, attrs.get("value", "on")))
                return
            form.fields.append((name, attrs.get("value", "")))
        elif tag == "button" and name:
            form.names.add(name)
        elif tag == "select" and name:
            form.names.add(name)
            self._select = Select(name=name, multiple="multiple" in attrs)
            form.selects[name] = self._select
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), [], "selected" in attrs]
        elif tag == "textarea" and name:
            form.names.add(name)
            self._textarea = [name, []]

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[1].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            value, parts, selected = self._option
            text = " ".join("".join(parts).split())
            self._select.options.append((text if value is None else value, text, selected))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = [value for value, _, selected in self._select.options if selected]
            if not chosen and not self._select.multiple and self._select.options:
                chosen = [self._select.options[0][0]]
            self._form.fields.extend((self._select.name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form(
    html: str,
    *,
    has: str | None = None,
    action: str | None = None,
    where: dict[str, str] | None = None,
) -> Form:
    """The one form of the page that has the field ``has``, whose action contains
    ``action`` and whose fields hold the values ``where`` gives (all that are given)."""
    found = [
        f
        for f in forms(html)
        if (has is None or has in f.names)
        and (action is None or action in f.action)
        and all(f.get(name) == value for name, value in (where or {}).items())
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} forms match has={has!r} action={action!r} {where}")
    return found[0]


def text(html: str) -> str:
    """The page's visible text, tags removed and white space collapsed (for assertions)."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"(?s)<[^>]+>", " ", html)).split())


def messages(html: str) -> list[str]:
    """The admin's message list (success, warning, error) after a redirect."""
    found = re.findall(r'(?s)<li class="(success|warning|error|info)">(.*?)</li>', html)
    return [f"{level}: {text(body)}" for level, body in found]


class Browser:
    """An httpx client that keeps cookies and follows redirects like a browser, and remembers
    the page it is on (forms post back relative to it)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.url = "/"
        self.page: httpx.Response | None = None

    def get(self, url: str, **kwargs) -> httpx.Response:
        response = self.client.get(url, follow_redirects=True, **kwargs)
        return self._arrive(response)

    def submit(self, form_: Form, **kwargs) -> httpx.Response:
        response = form_.submit(self.client, self.url, **kwargs)
        history = [response]
        while response.is_redirect and len(history) < 10:
            response = self.client.get(response.headers["location"])
            history.append(response)
        response.redirects = history[:-1]  # type: ignore[attr-defined]
        return self._arrive(response)

    def _arrive(self, response: httpx.Response) -> httpx.Response:
        self.page = response
        url = response.url
        self.url = url.raw_path.decode()
        return response
