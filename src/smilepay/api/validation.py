"""Request validation errors as messages an integrator can act on ("expected X, got Y").

Messages name the rule and the JSON type that came instead, never the value itself (an error
message must not echo input back: it may be a secret, a phone number or a probe).
"""

from __future__ import annotations

from typing import Any

ID_PATTERN = "^[A-Za-z0-9_]{3,40}$"  # one rule, so every refusal names it
ID_RULE = "an id of 3-40 letters, digits or underscores"
_SOURCES = ("body", "query", "path", "header", "cookie")


def json_kind(value: Any) -> str:
    """The JSON type of ``value`` in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes | bytearray):
        return "a body that is not JSON (send Content-Type: application/json)"
    return "another type"


def line_and_column(doc: Any, pos: int) -> tuple[int, int]:
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else str(doc or "")
    before = text[:pos]
    return before.count("\n") + 1, pos - (before.rfind("\n") + 1) + 1


def _rule(kind: str, ctx: dict[str, Any]) -> str | None:
    simple = {
        "int_type": "a JSON integer", "int_parsing": "a JSON integer",
        "int_from_float": "a JSON integer", "bool_type": "true or false",
        "bool_parsing": "true or false", "string_type": "a string",
        "float_type": "a number", "float_parsing": "a number", "list_type": "a list",
        "dict_type": "an object", "model_type": "an object",
        "model_attributes_type": "an object",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} items"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return ID_RULE if pattern == ID_PATTERN else f"text matching {pattern}"
    bounds = {"greater_than": "greater than", "greater_than_equal": "at least",
              "less_than": "less than", "less_than_equal": "at most"}
    for name, words in bounds.items():
        if kind == name:
            limit = next(iter(ctx.values()), "?")
            return f"a number {words} {limit}"
    if kind in ("literal_error", "enum"):
        return f"one of {ctx.get('expected', 'the documented values')}"
    return None


def _got(kind: str, value: Any) -> str:
    if kind.startswith("string_too") or kind == "string_pattern_mismatch":
        return f"{len(value)} characters" if isinstance(value, str) else json_kind(value)
    if kind in ("too_long", "too_short") and isinstance(value, list | dict):
        return f"{len(value)} items"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "a number outside that range"
    if kind in ("literal_error", "enum"):
        return "another value"
    return json_kind(value)


def validation_message(error: dict[str, Any], body: Any) -> tuple[str, str | None]:
    """(message, param) for the first error pydantic/FastAPI reported."""
    kind = str(error.get("type", ""))
    raw_loc = tuple(error.get("loc", ()))
    if kind == "json_invalid":
        pos = raw_loc[1] if len(raw_loc) > 1 and isinstance(raw_loc[1], int) else 0
        line, column = line_and_column(body, pos)
        return f"expected a JSON body, got invalid JSON at line {line} column {column}", None
    loc = [str(p) for p in raw_loc if p not in _SOURCES]
    param = ".".join(loc)[:100] or None
    value = error.get("input")
    if kind == "missing":
        if param is None:
            return "expected a JSON body, got none", None
        return f"expected {param}, got none", param
    if kind == "extra_forbidden":
        return "expected only the documented fields, got an unknown one", param
    rule = _rule(kind, dict(error.get("ctx") or {}))
    subject = param or "the body"
    if rule is None:
        return f"expected {subject} to be valid, got {json_kind(value)}", param
    return f"expected {subject} to be {rule}, got {_got(kind, value)}", param
