"""The flow store on both engines, as two worker processes see it: two ``SqlFlowStore``s on one
database (each with its own engine and pool) agree on phone-factor failures and on rate limits,
and a limit holds under parallel callers (issue 11, points 3 and 4: "stored in the database so
several workers agree")."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.flow_store import SqlFlowStore
from smilepay.domain.tenants import Scope
from smilepay.ports.flow import FactorAttempt

pytestmark = pytest.mark.integration
SCOPE = Scope("ten_flowstore", livemode=False)
T0 = 1_800_000_000_000


@pytest.fixture
def workers(money_url: str) -> Iterator[tuple[SqlFlowStore, SqlFlowStore]]:
    engines = [make_engine(money_url), make_engine(money_url)]
    yield SqlFlowStore(engines[0]), SqlFlowStore(engines[1])
    for engine in engines:
        engine.dispose()


def test_failures_recorded_by_one_worker_count_on_the_other(
    workers: tuple[SqlFlowStore, SqlFlowStore],
) -> None:
    one, two = workers
    tag = f"{id(one)}"
    for i, (payment, face) in enumerate([("pi_a" + tag, "ftpl_x"), ("pi_a" + tag, "ftpl_x"),
                                         ("pi_b" + tag, None)]):
        one.record_factor_attempt(SCOPE, FactorAttempt(payment, "terminal:t" + tag, face, False,
                                                       "phone_mismatch", None, T0 + i))
    two.record_factor_attempt(SCOPE, FactorAttempt("pi_b" + tag, "terminal:t" + tag, "ftpl_x",
                                                   True, "match", 1e-7, T0 + 5))
    seen = two.factor_failures(SCOPE, "pi_a" + tag, "terminal:t" + tag, "ftpl_x", T0)
    assert (seen.payment, seen.terminal, seen.face) == (2, 3, 2)  # successes do not count
    later = one.factor_failures(SCOPE, "pi_a" + tag, "terminal:t" + tag, "ftpl_x", T0 + 2)
    assert (later.payment, later.terminal, later.face) == (2, 1, 0)  # the window has moved


def test_a_rate_limit_holds_across_workers_and_parallel_callers(
    workers: tuple[SqlFlowStore, SqlFlowStore],
) -> None:
    key = f"phone-{id(workers)}"
    limits = ((60_000, 5),)

    def take(i: int) -> bool:
        store = workers[i % 2]
        return store.take(SCOPE, "signup_phone", key, T0 + 1000, limits) is None

    with ThreadPoolExecutor(max_workers=10) as pool:
        granted = list(pool.map(take, range(20)))
    assert granted.count(True) == 5
    assert workers[0].take(SCOPE, "signup_phone", key, T0 + 61_001, limits) is None  # new window


@pytest.mark.parametrize("start", [None, "flow_0001"])
def test_the_flow_branch_migrates_from_empty_and_from_its_first_revision(
    money_url: str, tmp_path: Path, request: pytest.FixtureRequest, start: str | None,
) -> None:
    from sqlalchemy import inspect

    from smilepay.adapters.sql.migrate import upgrade_engine
    from smilepay.adapters.sql.provision import scratch_database

    kind = "postgres" if money_url.startswith("postgresql") else "sqlite"
    base = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    with scratch_database(kind, tmp_path, base, migrate=False) as url:
        engine = make_engine(url)
        try:
            if start is not None:
                upgrade_engine(engine, start)
            upgrade_engine(engine)
            seen = inspect(engine)
            assert {"wallet_mandates", "face_factor_attempts",
                    "flow_rate_events"} <= set(seen.get_table_names())
            assert "ix_flow_rate_events_at" in {i["name"]
                                                for i in seen.get_indexes("flow_rate_events")}
            assert {"ix_face_challenges_open_expiry", "ix_face_challenges_terminal_state"} <= {
                i["name"] for i in seen.get_indexes("face_challenges")}
        finally:
            engine.dispose()
