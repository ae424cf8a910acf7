"""``smilepay bench payments``: the real payments API against a bare one-row FastAPI app.

For each engine: a fresh database (a temp SQLite file, or a scratch PostgreSQL schema), seeded
with a merchant and customers with funded wallets; then uvicorn with N workers serves the real
API and Debian's ``wrk`` creates-and-confirms payments (one request = one payment, each with its
own Idempotency-Key) for a fixed time; then the bare app (one INSERT per request)
is driven the same way on the same engine. Reports payments/s, p50/p99 and the ratio.

Absolute rates move by about 20% from run to run on a shared 2-core machine, and the ratio by
about 0.1: ``--rounds N`` repeats the whole measurement N times per engine (a fresh database
each time) and reports each round and the median ratio.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Column, Table

from smilepay.cli._served import served
from smilepay.cli.apps import bench_app

console = Console()
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def _database(engine: str, postgres_url: str) -> Iterator[str]:
    from smilepay.adapters.sql.provision import scratch_database

    with tempfile.TemporaryDirectory(prefix="smilepay-bench-") as tmp, scratch_database(
        engine, Path(tmp), postgres_url if engine == "postgres" else None
    ) as url:
        yield url


def _seed(url: str, customers: int) -> tuple[str, list[str]]:
    from smilepay.adapters.sql.flow_store import SqlFlowStore
    from smilepay.adapters.sql.store import SqlMoneyStore
    from smilepay.domain.risk import CustomerLimits
    from smilepay.services.context import MoneyContext, SystemClock
    from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
    from smilepay.services.seed import seed_customers, seed_merchant

    store = SqlMoneyStore.from_url(url)
    ctx = MoneyContext(clock=SystemClock(), phones=PhoneCipher(DEV_ONLY_MASTER_KEY))
    merchant = seed_merchant(store, ctx, "Bench shop")
    ids = seed_customers(store, ctx, merchant.scope, customers, topup_minor=10**9,
                         limits=CustomerLimits(10**6, 10**12))
    flow = SqlFlowStore(store.engine)  # each customer's mandate: debits by id need one
    for customer_id in ids:
        flow.grant_mandate(merchant.scope, customer_id, ctx.clock.now_ms())
    store.dispose()
    return merchant.secret_key, ids


def _row(engine: str, round_no: int, app: str, result: Any, baseline: float | None
         ) -> dict[str, Any]:
    return {
        "engine": engine, "round": round_no, "app": app, "per_s": round(result.per_s(), 1),
        "p50_ms": round(result.percentile_ms(0.50), 2),
        "p99_ms": round(result.percentile_ms(0.99), 2), "ok": result.ok,
        "errors": result.errors, "statuses": {str(k): v for k, v in result.statuses.items()},
        "ratio_to_bare": None if baseline in (None, 0) else round(result.per_s() / baseline, 3),
    }


def _wrk_scripts(key: str, customer_ids: list[str]) -> dict[str, str]:
    """Per app, the Lua ``request`` function wrk calls for every request."""
    from smilepay.cli._bench_payments_wrk import json_post_lua, lua_string

    run_id = secrets.token_hex(4)
    customers = "{" + ",".join(lua_string(c) for c in customer_ids) + "}"
    payment_body = (f'(function() local cs = {customers}; return '
                    '\'{"amount_minor":\' .. (100 + n % 50) .. \',"currency":"EUR",'
                    '"customer":"\' .. cs[math.random(#cs)] .. \'","confirm":true}\' end)()')
    return {
        "payments_api": json_post_lua("/v1/payment_intents", payment_body,
                                      {"Authorization": f"Bearer {key}"}, run_id),
        "bare_insert": json_post_lua("/rows", '\'{"amount_minor":\' .. (100 + n % 50) .. "}"',
                                     {}, run_id),
    }


def _bench_engine(engine: str, round_no: int, args: dict[str, Any], progress: Progress
                  ) -> list[dict[str, Any]]:
    from smilepay.cli._bench_payments_bare import create_bare_table
    from smilepay.cli._bench_payments_wrk import run_wrk

    with _database(engine, args["postgres_url"]) as url:
        key, customer_ids = _seed(url, args["customers"])
        create_bare_table(url)
        scripts = _wrk_scripts(key, customer_ids)
        results = {}
        env_api = {"SMILEPAY_DATABASE_URL": url}
        env_bare = {"SMILEPAY_BENCH_DATABASE_URL": url}
        for app, path, env in (
            ("payments_api", "smilepay.api.app:create_app", env_api),
            ("bare_insert", "smilepay.cli._bench_payments_bare:create_bare_app", env_bare),
        ):
            task = progress.add_task(f"{engine} round {round_no} {app}", total=1.0)
            with served(env, app_path=path, workers=args["workers"], settle_s=0.5) as server:
                results[app] = run_wrk(server.base, scripts[app], concurrency=args["concurrency"],
                                       duration_s=args["duration_s"], warmup_s=args["warmup_s"])
            progress.update(task, completed=1.0)
    bare = results["bare_insert"].per_s()
    return [_row(engine, round_no, "payments_api", results["payments_api"], bare),
            _row(engine, round_no, "bare_insert", results["bare_insert"], None)]


def _summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per engine: every round's ratio and their median."""
    ratios: dict[str, list[float]] = {}
    for r in rows:
        if r["ratio_to_bare"] is not None:
            ratios.setdefault(r["engine"], []).append(r["ratio_to_bare"])
    return {engine: {"ratios": got, "median_ratio": round(statistics.median(got), 3)}
            for engine, got in ratios.items()}


@bench_app.command("payments")
def bench_payments(
    engine: str = typer.Option("both", help="sqlite, postgres or both."),
    duration_s: float = typer.Option(20.0, min=1.0, help="Measured seconds per app."),
    warmup_s: float = typer.Option(3.0, min=0.0, help="Unmeasured seconds first."),
    concurrency: int = typer.Option(32, min=1, max=512, help="Concurrent connections."),
    workers: int = typer.Option(2, min=1, max=16, help="uvicorn worker processes."),
    customers: int = typer.Option(500, min=1, help="Seeded customers paid from at random."),
    rounds: int = typer.Option(
        1, min=1, max=20, help="Whole measurements per engine; the summary is their median."),
    postgres_url: str = typer.Option(
        os.environ.get("SMILEPAY_TEST_POSTGRES_URL", DEFAULT_PG), help="PostgreSQL server."),
    json_out: Path = typer.Option(None, "--json", help="Write the results here."),
) -> None:
    """Payments/s, p50/p99 of the real API vs a bare one-insert FastAPI app, per engine."""
    if engine not in ("sqlite", "postgres", "both"):
        raise typer.BadParameter(f"expected sqlite, postgres or both, got {engine!r}")
    engines = ["sqlite", "postgres"] if engine == "both" else [engine]
    args = {"duration_s": duration_s, "warmup_s": warmup_s, "concurrency": concurrency,
            "workers": workers, "customers": customers, "rounds": rounds,
            "postgres_url": postgres_url}
    rows: list[dict[str, Any]] = []
    with Progress(console=console) as progress:
        for name in engines:
            for round_no in range(1, rounds + 1):
                rows += _bench_engine(name, round_no, args, progress)
    table = Table(*(Column(name, no_wrap=True) for name in (  # fits 80 columns
        "engine", "run", "app", "req/s", "p50ms", "p99ms", "ok", "err", "ratio")))
    for r in rows:
        table.add_row(r["engine"], str(r["round"]), r["app"], f"{r['per_s']:.0f}",
                      f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", str(r["ok"]), str(r["errors"]),
                      "" if r["ratio_to_bare"] is None else f"{r['ratio_to_bare']:.2f}")
    console.print(table)
    summary = _summary(rows)
    for name, got in summary.items():
        console.print(f"{name}: median ratio {got['median_ratio']:.2f} over {len(got['ratios'])} "
                      "round(s)")
    if json_out is not None:
        report = {"benchmark": "payments", "args": {**args, "postgres_url": "(redacted)"},
                  "command": " ".join(["smilepay", "bench", "payments", *sys.argv[3:]]),
                  "cpu_count": os.cpu_count(), "python": platform.python_version(),
                  "load_average": os.getloadavg(), "results": rows, "summary": summary}
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2))
        console.print(f"wrote {json_out}")
