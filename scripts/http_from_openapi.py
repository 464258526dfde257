"""Write an `.http` file (VS Code REST Client, JetBrains HTTP Client) from the OpenAPI schema.

    .venv/bin/python manage.py spectacular --file openapi.yaml
    .venv/bin/python scripts/http_from_openapi.py openapi.yaml docs/examforge.http

(`make http-file` does both.) One request per operation, in the schema's order: a
`### METHOD path` separator, its summary, `# @name operationId`, the Authorization header
when the operation accepts a bearer token, and a JSON body — the schema's example when it
has one, otherwise a skeleton of the request schema's fields (required ones first, with
their example, default or a placeholder of their type). Path parameters become variables
declared at the top with `@host` and `@token`; query parameters are listed in a comment.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

METHODS = ("get", "post", "put", "patch", "delete")
PLACEHOLDERS = {
    "string": "",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "object": {},
}
# Values for the path variables that the demo data of `make run` answers to.
PATH_DEFAULTS = {
    "slug": "postgresql-diagnostic",
    "code": "CERTIFICATE-CODE",
    "id": "00000000-0000-0000-0000-000000000000",
}


def resolve(spec: dict, node: Any) -> Any:
    """Follow `$ref`s (local ones, as drf-spectacular writes them)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node, seen = target, seen + 1
    return node


def skeleton(spec: dict, schema: Any, depth: int = 0) -> Any:
    """A body that shows each writable field, filled from examples, defaults or types."""
    schema = resolve(spec, schema or {})
    if "example" in schema:
        return schema["example"]
    if "default" in schema:
        return schema["default"]
    for combo in ("allOf", "oneOf", "anyOf"):
        if schema.get(combo):
            return skeleton(spec, schema[combo][0], depth)
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1 style ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return {}
        props = schema.get("properties", {})
        required = schema.get("required", [])
        order = [*required, *(name for name in props if name not in required)]
        return {
            name: skeleton(spec, props[name], depth + 1)
            for name in order
            if name in props and not resolve(spec, props[name]).get("readOnly")
        }
    if kind == "array":
        return [skeleton(spec, schema.get("items"), depth + 1)] if depth <= 3 else []
    return PLACEHOLDERS.get(kind)


def _body(spec: dict, operation: dict) -> tuple[str | None, Any]:
    content = resolve(spec, operation.get("requestBody", {})).get("content", {})
    for media in ("application/json", *content):
        if media not in content:
            continue
        entry = content[media]
        if "example" in entry:
            return media, entry["example"]
        if entry.get("examples"):
            first = resolve(spec, next(iter(entry["examples"].values())))
            return media, first.get("value")
        return media, skeleton(spec, entry.get("schema"))
    return None, None


def _needs_token(spec: dict, operation: dict) -> bool:
    security = operation.get("security", spec.get("security", []))
    return any(requirement for requirement in security)  # `{}` alone means anonymous


def render(spec: dict) -> str:
    requests, variables = [], {}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            params = [resolve(spec, p) for p in (*shared, *operation.get("parameters", []))]
            url = path
            for name in re.findall(r"{(\w+)}", path):
                url = url.replace("{" + name + "}", "{{" + name + "}}")
                variables.setdefault(name, PATH_DEFAULTS.get(name, name.upper()))
            summary = (operation.get("summary") or operation.get("description") or "").strip()
            lines = [f"### {method.upper()} {path}"]
            if summary:
                lines.append("# " + summary.splitlines()[0][:200])
            query = [p["name"] for p in params if p.get("in") == "query"]
            if query:
                lines.append("# query: " + ", ".join(query))
            if operation.get("operationId"):
                lines.append(f"# @name {operation['operationId']}")
            # Optional headers (Idempotency-Key…): add them under the request line to send one.
            lines.extend(
                f"# header {p['name']}: {p.get('description', '').strip().splitlines()[0][:80]}"
                for p in params
                if p.get("in") == "header" and p.get("name") and p.get("description")
            )
            lines.append(f"{method.upper()} {{{{host}}}}{url}")
            if _needs_token(spec, operation):
                lines.append("Authorization: Bearer {{token}}")
            media, body = _body(spec, operation)
            if media == "application/json":
                lines.append("Content-Type: application/json")
                lines.append("")
                lines.append(json.dumps(body, indent=2, ensure_ascii=False))
            elif media:
                lines.append(f"# body: {media} (see the API docs)")
            requests.append("\n".join(lines))
    title = spec.get("info", {}).get("title", "API")
    version = spec.get("info", {}).get("version", "")
    head = [
        f"# {title} {version} — generated by scripts/http_from_openapi.py "
        "(`make http-file`); do not edit by hand.",
        "# VS Code REST Client or JetBrains HTTP Client. Set @token to an access token from",
        "# POST /api/v1/auth/token/ (it lives JWT_ACCESS_MINUTES, 10 by default).",
        "",
        "@host = http://127.0.0.1:8000",
        "@token = paste-an-access-token",
        *(f"@{name} = {value}" for name, value in sorted(variables.items())),
        "",
    ]
    return "\n".join(head) + "\n" + "\n\n".join(requests) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: http_from_openapi.py SCHEMA.yaml OUT.http\n")
        return 2
    spec = yaml.safe_load(Path(argv[0]).read_text(encoding="utf-8"))
    text = render(spec)
    Path(argv[1]).write_text(text, encoding="utf-8")
    sys.stderr.write(f"{argv[1]}: {text.count('### ')} requests\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
