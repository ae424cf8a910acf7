"""``smilepay bench gallery``: build time, one-query latency (p50/p95, one thread), recall@1
of real probes against exact search, search among 100 candidates, cross-worker visibility
and peak RSS, for one gallery adapter at one size (docs/performance.md)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import bench_app
from smilepay.cli.eval_face import _progress, _write_json, console

SWEEPS = {"faiss": "8,16,32,48,64,96", "pgvector": "40,100,200,400", "milvus": "32,64,128,256"}
# the engines' own limits: pgvector's hnsw.ef_search stops at 1000
MOST_BREADTH = {"faiss": 4096, "pgvector": 1000, "milvus": 4096}


@bench_app.command("gallery")
def gallery(
    adapter: str = typer.Option("faiss", "--adapter", help="faiss, pgvector or milvus."),
    size: int = typer.Option(10_000, "--size", min=100, max=5_000_000,
                             help="Templates in the gallery (real faces + distractors)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
    queries: int = typer.Option(300, "--queries", min=10, max=662,
                                help="Real probes searched per setting."),
    sweep: str = typer.Option("", "--sweep", help="Search breadths to try (faiss nprobe, "
                              "pgvector ef_search, milvus ef), comma-separated."),
    strategy: str = typer.Option("", "--strategy", help="Embedding strategy (default: the "
                                 "configured one)."),
    ef_construction: int = typer.Option(0, "--ef-construction", min=0, max=1000,
                                        help="pgvector HNSW build breadth (0: the served "
                                        "gallery's, SMILEPAY_GALLERY_EF_CONSTRUCTION)."),
    postgres_url: str = typer.Option("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                                     "--postgres-url", help="Server for --adapter pgvector "
                                     "(a scratch schema is made and dropped)."),
) -> None:
    """Measure one gallery adapter on real face embeddings plus Gaussian distractors."""
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.cli import _bench_gallery_engines as engines
    from smilepay.cli._bench_gallery_data import build_data, peak_rss_mb, real_embeddings
    from smilepay.config import get_settings

    if adapter not in SWEEPS:
        raise typer.BadParameter(f"expected faiss, pgvector or milvus, got {adapter!r}",
                                 param_hint="--adapter")
    try:
        breadths = [int(x) for x in (sweep or SWEEPS[adapter]).split(",") if x.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"expected integers, got {sweep!r}",
                                 param_hint="--sweep") from exc
    most = MOST_BREADTH[adapter]  # checked before the build: a late refusal wastes the build
    if not breadths or min(breadths) < 1 or max(breadths) > most:
        raise typer.BadParameter(f"expected values in 1..{most} for {adapter}, got {sweep!r}",
                                 param_hint="--sweep")
    settings = get_settings()
    chosen = strategy or configured_strategy()
    cache = settings.var_dir / "bench-gallery"
    with _progress() as progress:
        task = progress.add_task("embedding real faces", total=1039)
        real, probes, model_id = real_embeddings(settings.data_dir, cache, chosen,
                                                 lambda: progress.advance(task))
        progress.update(task, completed=1039)
        started = time.perf_counter()
        data = build_data(real, probes, model_id, size)
        gen_s = time.perf_counter() - started

        current: dict[str, Any] = {}

        def tick(phase: str, total: int) -> None:
            if phase:
                current["task"] = progress.add_task(phase, total=total)
            elif "task" in current:
                progress.advance(current["task"], max(total, 1))

        with tempfile.TemporaryDirectory(prefix="bench_gallery_", dir=cache.parent) as tmp:
            work = Path(tmp)
            if adapter == "faiss":
                result = engines.run_faiss(data, breadths, queries, tick, work)
            elif adapter == "pgvector":
                result = engines.run_pgvector(data, breadths, queries, tick, work, postgres_url,
                                              ef_construction
                                              or settings.gallery_ef_construction)
            else:
                result = engines.run_milvus(data, breadths, queries, tick, work)
    payload = {"adapter": adapter, "size": size, "dim": int(data.gallery.shape[1]),
               "real_in_gallery": data.real_rows, "probes": len(data.probes),
               "strategy": model_id, "distractors": "gaussian(mean, cov of real embeddings)",
               "data_s": gen_s, "peak_rss_mb": peak_rss_mb(), **result}
    _show(payload)
    if json_out is not None:
        _write_json(json_out, payload)


def _show(p: dict[str, Any]) -> None:
    table = Table(title=f"gallery {p['adapter']}: {p['size']:,} x {p['dim']} "
                        f"(build {p['build_s']:.1f} s, peak RSS {p['peak_rss_mb']:.0f} MB)")
    for col in ("setting", "p50 ms", "p95 ms", "recall@1"):
        table.add_column(col, justify="right")
    for row in p["curve"]:
        name = next(k for k in row if k in ("nprobe", "ef_search", "ef"))
        lat = row["latency_ms"]
        table.add_row(f"{name}={row[name]}", f"{lat['p50']:.2f}", f"{lat['p95']:.2f}",
                      f"{row['recall_at_1']:.3f}")
    among = p["among"]["latency_ms"]
    table.add_row("among 100", f"{among['p50']:.2f}", f"{among['p95']:.2f}",
                  f"{p['among']['exact_top1']:.3f}")
    vis = p["visibility"]
    table.add_row("seen by other worker", f"{vis['add_visible_ms']['p50']:.2f}",
                  f"{vis['add_visible_ms']['p95']:.2f}", f"max {vis['max_ms']:.0f} ms")
    console.print(table)
