"""Keep the holes closed: schemathesis against the app's own OpenAPI document, on SQLite and
PostgreSQL. Every ``/v1`` operation gets schema-valid requests (with the merchant's key, or a
wallet session on wallet routes) and schema-violating ones; no answer may be a 5xx, and every
answer must be one the document declares, with the declared content type and body shape.
Then every operation that takes a credential is called without one, with malformed ids in
its path: each must answer 401 (the key is checked first).

Bounded: ``EXAMPLES`` per operation and mode, derandomized (the same cases every run); about
a minute per engine on the 2-core CI machine."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from edge_support import Edge, edge_on

pytestmark = pytest.mark.e2e

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
WALLET_PATHS = re.compile(r"^/v1/(face/wallet|wallet/|face/consent$|face/enrolments)")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def edge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Edge]:
    yield from edge_on(request, tmp_path_factory.mktemp(f"schemathesis-{request.param}"))


def wallet_token(edge: Edge) -> str:
    signup = edge.client.post("/v1/face/signups", json={"phone": "+4915177770001"},
                              headers=edge.terminal())
    assert signup.status_code == 200, signup.text
    verified = edge.client.post(f"/v1/face/signups/{signup.json()['id']}/verify",
                                json={"code": signup.json()["test_code"], "name": "Probe"},
                                headers=edge.terminal())
    assert verified.status_code == 200, verified.text
    token: str = verified.json()["session_token"]
    return token


def run_operations(edge: Edge, mode: Any, checks: list[Any]) -> dict[str, str]:
    """Failures by operation label (empty when the API kept to its document)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", edge.client.app).include(
        path_regex="^/v1/")
    wallet = {"Authorization": f"Bearer {wallet_token(edge)}"}
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = wallet if WALLET_PATHS.match(operation.path) else edge.merchant()
        test = _one_operation(operation, mode, headers, checks)
        try:
            test()
        except Unsatisfiable:
            continue  # nothing to vary (no parameters, no body): the positive run covers it
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation, not the first
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    return failures


def _one_operation(operation: Any, mode: Any, headers: dict[str, str],
                   checks: list[Any]) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def test(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    result: Callable[[], None] = test
    return result


def test_valid_requests_get_declared_answers_and_never_a_5xx(edge: Edge) -> None:
    failures = run_operations(edge, schemathesis.GenerationMode.POSITIVE, CHECKS)
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_invalid_requests_get_declared_answers_and_never_a_5xx(edge: Edge) -> None:
    failures = run_operations(edge, schemathesis.GenerationMode.NEGATIVE, CHECKS)
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_without_a_key_every_operation_answers_401_even_for_a_malformed_id(edge: Edge) -> None:
    spec = edge.client.get("/openapi.json").json()
    checked = 0
    for path, item in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            assert "422" not in operation["responses"], (method, path)
            assert {"400", "401"} <= set(operation["responses"]), (method, path)
            for params in operation.get("parameters", []):
                if params["in"] == "path":
                    assert params["schema"]["pattern"] == "^[A-Za-z0-9_]{3,40}$", path
            malformed = re.sub(r"\{[^}]+\}", "not an id!", path)
            for headers in ({}, {"Authorization": "Bearer sk_test_unknown"}):
                answer = edge.client.request(method.upper(), malformed, headers=headers)
                assert answer.status_code == 401, (method, malformed, answer.text)
                assert answer.json()["error"]["code"] == "authentication_failed"
            checked += 1
    assert checked > 40  # every money, face, wallet and store operation with a key
