"""docs/api-reference.md is the server's OpenAPI schema rendered: current, complete, and each
example stays inside the rules it documents."""

from __future__ import annotations

from pathlib import Path

from smilepay.api.reference import example_body, render_operation, render_reference
from smilepay.cli.docs import current_reference

ROOT = Path(__file__).resolve().parents[2]
SPEC = {
    "paths": {},
    "components": {"schemas": {
        "Limits": {"type": "object", "properties": {
            "per_day_minor": {"type": "integer", "minimum": 1, "maximum": 500}},
            "required": ["per_day_minor"]},
        "Body": {"type": "object", "required": ["amount_minor", "currency", "customer"],
                 "properties": {
                     "amount_minor": {"type": "integer", "exclusiveMinimum": 0.0,
                                      "maximum": 1000.0},
                     "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$",
                                  "examples": ["JPY"]},
                     "customer": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                     "method": {"type": "string", "enum": ["automatic", "manual"],
                                "default": "automatic"},
                     "limits": {"$ref": "#/components/schemas/Limits"}}},
    }},
}


def test_the_committed_reference_is_the_current_schema_rendered() -> None:
    committed = (ROOT / "docs" / "api-reference.md").read_text()
    assert committed == current_reference(), "docs/api-reference.md is stale: smilepay docs api"


def test_every_operation_has_a_curl_example() -> None:
    text = current_reference()
    assert text.count("### `") == text.count("```bash") > 40
    assert "### `POST /v1/payment_intents/{payment_id}/cancel`" in text


def test_example_bodies_keep_to_their_rules() -> None:
    body = example_body(SPEC, {"$ref": "#/components/schemas/Body"})
    assert body == {"amount_minor": 1000, "currency": "JPY", "customer": "cus_123"}
    assert example_body(SPEC, {"$ref": "#/components/schemas/Limits"}) == {"per_day_minor": 500}


def test_an_operation_lists_fields_limits_defaults_and_nested_fields() -> None:
    op = {"summary": "Create", "tags": ["payments"], "security": [{"HTTPBearer": []}],
          "parameters": [{"name": "payment_id", "in": "path", "required": True,
                          "schema": {"type": "string", "maxLength": 40}}],
          "requestBody": {"content": {"application/json": {
              "schema": {"$ref": "#/components/schemas/Body"}}}},
          "responses": {"200": {}, "400": {}, "404": {}}}
    text = "\n".join(render_operation(SPEC, "post", "/v1/x/{payment_id}", op))
    assert "| `payment_id` (path) | string | yes | length <= 40 |" in text
    assert "| `amount_minor` | integer | yes | > 0, <= 1000 |" in text
    assert "| `method` | `automatic` \\| `manual` | no | default `\"automatic\"` |" in text
    assert "| `limits.per_day_minor` | integer | yes | >= 1, <= 500 |" in text
    assert "Errors: 400, 404" in text
    assert 'curl -X POST "$SMILEPAY/v1/x/pi_123"' in text
    assert "Bearer $SECRET_KEY" in text and '"currency": "JPY"' in text


def test_the_reference_groups_by_tag() -> None:
    spec = {"paths": {"/a": {"get": {"tags": ["ops"], "responses": {}}},
                      "/b": {"get": {"tags": ["money"], "responses": {}}}}}
    text = render_reference(spec)
    assert text.index("## ops") < text.index("### `GET /a`") < text.index("## money")
