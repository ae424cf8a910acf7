"""``smilepay bench propagation``: how long after a committed add or remove on one worker
process another worker process sees it (issue 12: "within 1 s").

Two real processes on one database: this one writes through its own gallery, a second
(``multiprocessing`` spawn) searches through its own gallery in a loop, as a worker searches
when a request comes, and stamps the first answer that shows the change. Both stamps are
``CLOCK_MONOTONIC`` (one clock for every process of the machine). A trial's time runs from the
moment the writer's ``add``/``remove`` returned (committed) to the reader's first search that
agrees; it is negative when the reader saw the commit before the writer's call returned.
"""

from __future__ import annotations

import random
import tempfile
import time
from contextlib import ExitStack
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.table import Table

from smilepay.cli.apps import bench_app
from smilepay.cli.eval_face import _write_json, console

DIM = 512
MODEL = "bench-propagation"
GIVE_UP_S = 5.0


def _gallery(adapter: str, url: str, keys: dict[str, bytes], active: str) -> Any:
    from smilepay.adapters.crypto import AesGcmKeyRing
    from smilepay.adapters.sql.engine import make_engine

    if adapter == "pgvector":
        from smilepay.adapters.gallery.pgvector_gallery import PgvectorGallery

        return PgvectorGallery(make_engine(url))
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery

    return FaissGallery(make_engine(url), AesGcmKeyRing(keys, active), cache_dir=None)


def _scope() -> Any:
    from smilepay.domain.tenants import Scope

    return Scope("ten_benchpropagation", livemode=False)


def reader_main(adapter: str, url: str, keys: dict[str, bytes], active: str,
                pipe: Connection) -> None:
    """The second worker: for each (template id, vector, wanted) it is sent, search until the
    top hit is (``wanted=True``) or is not (``False``) that template; answer the stamp."""
    gallery = _gallery(adapter, url, keys, active)
    scope = _scope()
    gallery.search(scope, MODEL, np.ones(DIM, np.float32) / np.sqrt(DIM), 1)  # warm
    pipe.send("ready")
    while True:
        job = pipe.recv()
        if job is None:
            return
        template_id, vector, wanted = job
        pipe.send("watching")
        searches, deadline = 0, time.monotonic() + GIVE_UP_S * 2
        while True:
            started = time.monotonic_ns()
            hits = gallery.search(scope, MODEL, vector, 1)
            searches += 1
            took_ms = (time.monotonic_ns() - started) / 1e6
            if (bool(hits) and hits[0].template_id == template_id) == wanted:
                pipe.send((time.monotonic_ns(), searches, took_ms))
                break
            if time.monotonic() > deadline:
                pipe.send((None, searches, took_ms))
                break


def unit_rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    data = np.asarray(values)
    return {"p50": float(np.percentile(data, 50)), "p95": float(np.percentile(data, 95)),
            "max": float(data.max())}


def run_trials(adapter: str, url: str, trials: int, background: int) -> dict[str, Any]:
    import multiprocessing

    from smilepay.adapters.crypto import AesGcmKeyRing
    from smilepay.ports.gallery import GalleryEntry

    keys = AesGcmKeyRing.generate()
    exported, active = keys.export_keys(), keys.active_key_id
    writer = _gallery(adapter, url, exported, active)
    scope = _scope()
    base = unit_rows(background, 1)
    writer.add([GalleryEntry(f"tpl_bg{i:06d}", scope, f"cus_bg{i:06d}", MODEL, base[i])
                for i in range(background)])
    probes = unit_rows(trials, 2)
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    reader = spawn.Process(target=reader_main, args=(adapter, url, exported, active, theirs))
    reader.start()
    added: list[float] = []
    removed: list[float] = []
    searches: list[int] = []
    search_ms: list[float] = []
    missed = 0
    try:
        if not ours.poll(120) or ours.recv() != "ready":
            raise RuntimeError("expected the reader process to start, got no answer in 120 s")
        for i in range(trials):
            tid = f"tpl_prop{i:06d}"
            for wanted, out in ((True, added), (False, removed)):
                ours.send((tid, probes[i], wanted))
                ours.recv()  # watching: the reader searches in a loop from now on
                time.sleep(random.uniform(0.005, 0.03))  # a commit at any point of its loop
                if wanted:
                    writer.add([GalleryEntry(tid, scope, f"cus_prop{i:06d}", MODEL, probes[i])])
                else:
                    writer.remove(scope, [tid])
                committed = time.monotonic_ns()
                seen, count, took_ms = ours.recv()
                searches.append(count)
                search_ms.append(took_ms)
                if seen is None:
                    missed += 1
                else:
                    out.append((seen - committed) / 1e6)
        ours.send(None)
        reader.join(30)
    finally:
        if reader.is_alive():
            reader.terminate()
            reader.join(10)
        writer.engine.dispose()
    both = added + removed
    return {"adapter": adapter, "trials": trials, "background": background,
            "add_visible_ms": percentiles(added), "remove_invisible_ms": percentiles(removed),
            "within_1s": sum(1 for x in both if x <= 1000.0) / max(1, len(both) + missed),
            "missed": missed, "reader_searches_per_trial": float(np.mean(searches)),
            "reader_search_ms": percentiles(search_ms)}


@bench_app.command("propagation")
def propagation(
    adapter: str = typer.Option("faiss", "--adapter", help="faiss (SQLite change log) or "
                                "pgvector (PostgreSQL)."),
    trials: int = typer.Option(50, "--trials", min=1, max=10_000,
                               help="Adds and removes measured (each one trial)."),
    background: int = typer.Option(1000, "--background", min=1, max=200_000,
                                   help="Templates already in the gallery."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
    postgres_url: str = typer.Option("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                                     "--postgres-url", help="Server for --adapter pgvector "
                                     "(a scratch schema is made and dropped)."),
) -> None:
    """Time from a committed add/remove in one process to its visibility in another.

    The reader searches back to back, so a change is seen at most one search after its
    commit: the table shows one search (catch-up included) beside it."""
    from smilepay.adapters.sql.migrate import upgrade_database
    from smilepay.adapters.sql.provision import scratch_database

    if adapter not in ("faiss", "pgvector"):
        raise typer.BadParameter(f"expected faiss or pgvector, got {adapter!r}",
                                 param_hint="--adapter")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smilepay-prop-")))
        engine = "postgres" if adapter == "pgvector" else "sqlite"
        url = stack.enter_context(scratch_database(engine, work, postgres_url, migrate=False))
        upgrade_database(url, "gallery@head")
        result = run_trials(adapter, url, trials, background)
    table = Table(title=f"propagation between two processes: {adapter}, {trials} trials, "
                        f"{background} templates")
    for col in ("change", "p50 ms", "p95 ms", "max ms"):
        table.add_column(col, justify="right" if col != "change" else "left")
    for name, key in (("add seen", "add_visible_ms"), ("remove unseen", "remove_invisible_ms"),
                      ("(one search, with catch-up)", "reader_search_ms")):
        p = result[key]
        table.add_row(name, f"{p['p50']:.2f}", f"{p['p95']:.2f}", f"{p['max']:.2f}")
    console.print(table)
    console.print(f"within 1 s: {result['within_1s']:.1%}; missed (> {GIVE_UP_S * 2:.0f} s): "
                  f"{result['missed']}")
    if json_out is not None:
        _write_json(json_out, result)
