"""The endpoint reference (docs/api-reference.md), rendered from the app's own OpenAPI schema.

Every operation gets its method and path, what it does (the route's docstring), its path and
query parameters, its request body field by field (type, required, limits, default) and one
curl example built from those rules, so the reference cannot drift from what the server checks:
a test renders it again and compares. ``smilepay docs api`` writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

BINARY_BODIES = {  # routes that take a raw frame instead of JSON (declared on the route)
    "image/jpeg": "--data-binary @frame.jpg -H 'Content-Type: image/jpeg'",
}
EXAMPLE_IDS = {  # a readable id for a path or body parameter, by its name
    "customer": "cus_123", "customer_id": "cus_123", "payment_id": "pi_123",
    "payment_intent": "pi_123", "refund_id": "re_123", "terminal": "term_123",
    "terminal_id": "term_123", "key_id": "key_123", "event_id": "evt_123",
    "endpoint_id": "we_123", "session_id": "chl_123", "signup_id": "otp_123",
    "mandate_id": "mdt_123", "store_id": "sto_123", "gate_id": "gate_123",
    "dispute_id": "dsp_123", "line_id": "tln_123", "trip_id": "trip_123",
    "verification_id": "idv_123",
}
KEY_FOR_TAG = {"face": "$TERMINAL_KEY", "wallet": "$WALLET_TOKEN"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of ``anyOf: [X, null]``."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}} if len(
        options) == 1 else schema


def describe_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    schema = _plain(_resolve(spec, schema))
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {describe_type(spec, schema.get('items', {}))}"
    return str(kind)


def describe_limits(schema: dict[str, Any]) -> str:
    schema = _plain(schema)
    parts = []
    for key, text in (("minimum", ">= {}"), ("exclusiveMinimum", "> {}"), ("maximum", "<= {}"),
                      ("exclusiveMaximum", "< {}"), ("minLength", "length >= {}"),
                      ("maxLength", "length <= {}"), ("maxItems", "at most {} items"),
                      ("pattern", "matches `{}`")):
        if key in schema:
            value = schema[key]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            parts.append(text.format(value))
    if "default" in schema:
        parts.append(f"default `{json.dumps(schema['default'])}`")
    return ", ".join(parts)


def example_value(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> Any:
    schema = _plain(_resolve(spec, schema))
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        return max(int(low), min(1250, int(schema.get("maximum", 1250))))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return bool(schema.get("default", True))
    if kind == "array":
        return [example_value(spec, name, schema.get("items", {}))]
    if kind == "object" or "properties" in schema:
        return example_body(spec, schema)
    if name in EXAMPLE_IDS:
        return EXAMPLE_IDS[name]
    if name == "currency":
        return "EUR"
    if name == "phone":
        return "+4915112345678"
    return "text"


def example_body(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The required fields, each with a value inside its rules."""
    schema = _resolve(spec, schema)
    props = schema.get("properties", {})
    return {name: example_value(spec, name, props[name]) for name in schema.get("required", [])}


def _path_example(path: str) -> str:
    out = path
    for name, value in EXAMPLE_IDS.items():
        out = out.replace("{" + name + "}", value)
    return out


def _key_for(op: dict[str, Any], path: str) -> str | None:
    if not op.get("security"):
        return None
    if "/wallet" in path or path.startswith("/v1/face/consent") or "/enrolments" in path:
        return "$WALLET_TOKEN"
    for tag in op.get("tags", []):
        if tag in KEY_FOR_TAG:
            return KEY_FOR_TAG[tag]
    return "$SECRET_KEY"


def curl_example(spec: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> str:
    parts = [f"curl -X {method.upper()} \"$SMILEPAY/{_path_example(path).lstrip('/')}\""]
    key = _key_for(op, path)
    if key:
        parts.append(f"-H \"Authorization: Bearer {key}\"")
    content = op.get("requestBody", {}).get("content", {})
    binary = next((BINARY_BODIES[t] for t in content if t in BINARY_BODIES), None)
    if binary:
        parts.append(binary)
    elif "application/json" in content:
        body = example_body(spec, content["application/json"]["schema"])
        if method == "post":
            parts.append("-H \"Idempotency-Key: $(uuidgen)\"")
        parts.append(f"-H 'Content-Type: application/json' -d '{json.dumps(body)}'")
    return " \\\n  ".join(parts)


def _rows(spec: dict[str, Any], fields: Iterable[tuple[str, dict[str, Any], bool, str]]
          ) -> list[str]:
    rows = ["| field | type | required | rules | meaning |", "|---|---|---|---|---|"]
    for name, schema, required, where in fields:
        meaning = (_plain(schema).get("description") or "").replace("|", "\\|")
        rows.append(f"| `{name}`{where} | {describe_type(spec, schema)} | "
                    f"{'yes' if required else 'no'} | {describe_limits(schema)} | {meaning} |")
    return rows


def _body_fields(spec: dict[str, Any], body: dict[str, Any], prefix: str = ""
                 ) -> list[tuple[str, dict[str, Any], bool, str]]:
    """A body's fields, an object field's own fields after it as ``parent.child``."""
    required = set(body.get("required", []))
    out: list[tuple[str, dict[str, Any], bool, str]] = []
    for name, schema in body.get("properties", {}).items():
        out.append((prefix + name, schema, name in required, ""))
        inner = _plain(_resolve(spec, _plain(schema)))
        if inner.get("properties"):
            out += _body_fields(spec, inner, f"{prefix}{name}.")
    return out


def render_operation(spec: dict[str, Any], method: str, path: str, op: dict[str, Any]
                     ) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    about = (op.get("description") or op.get("summary") or "").strip().split("\n\n")[0]
    if about:
        lines += [" ".join(about.split()), ""]
    fields: list[tuple[str, dict[str, Any], bool, str]] = [
        (p["name"], p.get("schema", {}), bool(p.get("required")), f" ({p['in']})")
        for p in op.get("parameters", []) if p["in"] in ("path", "query")]
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = _resolve(spec, content["application/json"]["schema"])
        fields += _body_fields(spec, body)
    if fields:
        lines += [*_rows(spec, fields), ""]
    elif not content:
        lines += ["No body.", ""]
    statuses = ", ".join(code for code in op.get("responses", {}) if code != "200")
    if statuses:
        lines += [f"Errors: {statuses} (the shape and codes are under Errors in docs/api.md).", ""]
    lines += ["```bash", curl_example(spec, method, path, op), "```", ""]
    return lines


def render_reference(spec: dict[str, Any]) -> str:
    """The whole reference, grouped by tag in the order the app declares its routes."""
    by_tag: dict[str, list[str]] = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).extend(render_operation(spec, method, path, op))
    head = ["# SmilePay API reference", "",
            "Generated from the server's OpenAPI schema by `smilepay docs api` (a test fails when "
            "it is stale). Concepts, authentication, errors, idempotency, webhooks and the "
            "point-of-sale -> kiosk flow are in [api.md](api.md). In the examples `$SMILEPAY` is "
            "the server's address (`http://127.0.0.1:8000`), `$SECRET_KEY` a merchant's secret "
            "key, `$TERMINAL_KEY` a kiosk's key and `$WALLET_TOKEN` a customer's wallet session.",
            ""]
    body: list[str] = []
    for tag, lines in by_tag.items():
        body += [f"## {tag}", "", *lines]
    return "\n".join(head + body).rstrip() + "\n"
