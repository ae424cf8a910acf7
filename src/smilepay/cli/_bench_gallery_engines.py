"""The gallery benchmark per adapter: build, then search latency and recall@1 against exact
search over a sweep of the engine's search breadth, search among 100 candidates, and how soon
a change made through one adapter instance (worker) is seen by another."""
# SQL text is built from constants and the extension's schema name only.
# ruff: noqa: S608

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from smilepay.cli._bench_gallery_data import BenchData, percentiles, template_id
from smilepay.domain.tenants import Scope
from smilepay.ports.gallery import Gallery, GalleryEntry

SCOPE = Scope("ten_bench", True)
Tick = Callable[[str, int], None]  # (phase, total) then advance
MILVUS_TICK_MS = 20


def measure_search(gallery: Gallery, data: BenchData, queries: int) -> dict[str, Any]:
    latencies, hits = [], 0
    for i in range(min(queries, len(data.probes))):
        started = time.perf_counter()
        found = gallery.search(SCOPE, data.model_id, data.probes[i], 10)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += bool(found) and found[0].template_id == template_id(int(data.exact_top1[i]))
    n = len(latencies)
    return {"latency_ms": percentiles(latencies), "recall_at_1": hits / n, "queries": n}


def measure_among(gallery: Gallery, data: BenchData, queries: int) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    latencies, right = [], 0
    for i in range(min(queries, len(data.probes))):
        rows = set(rng.choice(len(data.gallery), 99, replace=False).tolist())
        rows.add(int(data.exact_top1[i]))
        ids = [template_id(r) for r in rows]
        started = time.perf_counter()
        found = gallery.search_among(SCOPE, data.model_id, data.probes[i], 1, ids)
        latencies.append((time.perf_counter() - started) * 1000)
        right += found[0].template_id == template_id(int(data.exact_top1[i]))
    return {"latency_ms": percentiles(latencies), "exact_top1": right / len(latencies),
            "candidates": 100}


def measure_visibility(writer: Gallery, reader: Gallery, data: BenchData,
                       rounds: int = 20) -> dict[str, Any]:
    """Add through ``writer`` then search through ``reader`` until it answers; then remove
    through ``writer`` and search until it is gone. Milliseconds, each way."""
    seen, gone = [], []
    for r in range(rounds):
        vec = data.probes[r % len(data.probes)]
        tid = f"tpl_vis{r:04d}_{int(time.time() * 1000) % 100000}"
        started = time.perf_counter()
        writer.add([GalleryEntry(tid, SCOPE, "cus_vis", data.model_id, vec)])
        while reader.search(SCOPE, data.model_id, vec, 1)[0].template_id != tid:
            if time.perf_counter() - started > 5:
                break
        seen.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        writer.remove(SCOPE, [tid])
        while reader.search(SCOPE, data.model_id, vec, 1)[0].template_id == tid:
            if time.perf_counter() - started > 5:
                break
        gone.append((time.perf_counter() - started) * 1000)
    return {"add_visible_ms": percentiles(seen), "remove_invisible_ms": percentiles(gone),
            "max_ms": max(seen + gone), "rounds": rounds}


def _entries(data: BenchData, start: int, stop: int) -> list[GalleryEntry]:
    return [GalleryEntry(template_id(r), SCOPE, f"cus_{r:09d}", data.model_id, data.gallery[r])
            for r in range(start, stop)]


def run_faiss(data: BenchData, sweep: list[int], queries: int, tick: Tick,
              work: Path) -> dict[str, Any]:
    import faiss

    from smilepay.adapters.crypto import AesGcmKeyRing
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery
    from smilepay.adapters.gallery.faiss_shard import Shard
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.migrate import upgrade_database

    faiss.omp_set_num_threads(1)
    url = f"sqlite:///{work / 'gallery.db'}"
    upgrade_database(url, "gallery@head")
    keys = AesGcmKeyRing.generate()
    workers = [FaissGallery(make_engine(url), keys, cache_dir=None) for _ in range(2)]
    tick("build (train + add)", 1)
    started = time.perf_counter()
    shard = Shard(data.gallery.shape[1], ivf_from=min(50_000, len(data.gallery)))
    ids = [template_id(r) for r in range(len(data.gallery))]
    shard.add(ids, [f"cus_{r:09d}" for r in range(len(ids))], data.gallery)
    build_s = time.perf_counter() - started
    for w in workers:  # the big shard stands in for a caught-up worker's; searches still
        w._shards[(SCOPE, data.model_id, "pay")] = shard  # read the change log first
    tick("", 0)
    curve = []
    for nprobe in sweep:
        tick(f"search nprobe={nprobe}", 1)
        shard.nprobe = nprobe
        curve.append({"nprobe": nprobe, **measure_search(workers[0], data, queries)})
        tick("", 0)
    small = _visibility_pair(workers[0].engine.url.render_as_string(False), keys, data)
    return {"index": shard.kind, "nlist": int(getattr(shard.index, "nlist", 0)),
            "build_s": build_s, "curve": curve,
            "among": measure_among(workers[0], data, queries), "visibility": small}


def _visibility_pair(url: str, keys: Any, data: BenchData) -> dict[str, Any]:
    from smilepay.adapters.gallery.faiss_gallery import FaissGallery
    from smilepay.adapters.sql.engine import make_engine

    # two workers with their own engines on one database; each search reads the log first
    first = FaissGallery(make_engine(url), keys)
    second = FaissGallery(make_engine(url), keys)
    first.add(_entries(data, 0, min(1000, len(data.gallery))))
    return measure_visibility(first, second, data)


def run_pgvector(data: BenchData, sweep: list[int], queries: int, tick: Tick, work: Path,
                 postgres_url: str, ef_construction: int = 64) -> dict[str, Any]:
    from sqlalchemy import text

    from smilepay.adapters.gallery.pgvector_gallery import PgvectorGallery
    from smilepay.adapters.gallery.schema import ensure_pgvector_index
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.migrate import upgrade_database
    from smilepay.adapters.sql.provision import scratch_database

    with scratch_database("postgres", work, postgres_url, migrate=False) as url:
        upgrade_database(url, "gallery@head")
        loader = PgvectorGallery(make_engine(url))
        tick("insert", len(data.gallery))
        insert_sql = (  # only the extension's schema name (from the catalog) is put in
            "INSERT INTO gallery_pgvector (template_id, tenant_id, livemode, model_id,"
            " customer_id, purpose, dim, embedding) VALUES (:t, :tn, true, :m, :c, 'pay', :d,"
            " CAST(:v AS " + loader._vs + ".vector))")
        started = time.perf_counter()
        for start in range(0, len(data.gallery), 5000):
            stop = min(start + 5000, len(data.gallery))
            with loader.engine.begin() as conn:  # rows first, the index after (faster build)
                conn.execute(text(insert_sql),
                    [{"t": template_id(r), "tn": SCOPE.tenant_id, "m": data.model_id,
                      "c": f"cus_{r:09d}", "d": data.gallery.shape[1],
                      "v": "[" + ",".join(f"{x:.7g}" for x in data.gallery[r]) + "]"}
                     for r in range(start, stop)])
            tick("", stop - start)
        insert_s = time.perf_counter() - started
        tick("HNSW index build", 1)
        started = time.perf_counter()
        with loader.engine.begin() as conn:
            conn.execute(text("SET maintenance_work_mem = '2GB'"))
            conn.execute(text("SET max_parallel_maintenance_workers = 0"))
            ensure_pgvector_index(conn, data.gallery.shape[1], 16, ef_construction)
            # fresh statistics, or the planner takes the scope index and sorts every row
            conn.execute(text("ANALYZE gallery_pgvector"))
        index_s = time.perf_counter() - started
        started = time.perf_counter()  # the first vacuum walks the whole HNSW index: run it
        with loader.engine.connect() as conn:  # now, not under the measurements (autovacuum)
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM gallery_pgvector"))
        vacuum_s = time.perf_counter() - started
        tick("", 1)
        curve = []
        for ef in sweep:
            tick(f"search ef_search={ef}", 1)
            g = PgvectorGallery(make_engine(url), ef_search=ef)
            g._indexed.add(data.gallery.shape[1])
            curve.append({"ef_search": ef, **measure_search(g, data, queries)})
            g.engine.dispose()
            tick("", 0)
        g = PgvectorGallery(make_engine(url), ef_search=sweep[-1])
        other = PgvectorGallery(make_engine(url), ef_search=sweep[-1])
        for x in (g, other):
            x._indexed.add(data.gallery.shape[1])
        result = {"insert_s": insert_s, "index_s": index_s, "vacuum_s": vacuum_s,
                  "ef_construction": ef_construction,
                  "build_s": insert_s + index_s,
                  "curve": curve, "among": measure_among(g, data, queries),
                  "visibility": measure_visibility(g, other, data)}
        for x in (g, other, loader):
            x.engine.dispose()
        return result


def run_milvus(data: BenchData, sweep: list[int], queries: int, tick: Tick,
               work: Path) -> dict[str, Any]:
    from milvus import MilvusServer
    from pymilvus import utility

    from smilepay.adapters.gallery.milvus_gallery import MilvusGallery

    server = MilvusServer()
    base = tempfile.mkdtemp(prefix="milvus_", dir=work)
    server.set_base_dir(base)
    # a Strong read waits for the next time tick: 200 ms by default, 20 ms here (docs/deploy.md)
    server.config.set("proxy.timeTickInterval", MILVUS_TICK_MS)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.listen_port}"
        g = MilvusGallery(url, prefix="bench")
        tick("insert + index", len(data.gallery))
        started = time.perf_counter()
        for start in range(0, len(data.gallery), 5000):
            stop = min(start + 5000, len(data.gallery))
            g.add(_entries(data, start, stop))
            tick("", stop - start)
        coll = g._collection(data.gallery.shape[1], create=False)
        assert coll is not None
        coll.flush()
        insert_s = time.perf_counter() - started
        utility.wait_for_index_building_complete(coll.name, using=g.alias)
        coll.release()
        coll.load()
        build_s = time.perf_counter() - started
        curve = []
        for ef in sweep:
            tick(f"search ef={ef}", 1)
            g.ef = ef
            curve.append({"ef": ef, **measure_search(g, data, queries)})
            tick("", 0)
        other = MilvusGallery(url, prefix="bench")
        result = {"insert_s": insert_s, "build_s": build_s, "curve": curve,
                  "among": measure_among(g, data, queries),
                  "visibility": measure_visibility(g, other, data),
                  "server_peak_rss_mb": _server_rss_mb(server),
                  "proxy_time_tick_ms": MILVUS_TICK_MS, "consistency": "Strong"}
        g.close()
        other.close()
        return result
    finally:
        server.stop()


def _server_rss_mb(server: Any) -> float | None:
    proc = getattr(server, "server_proc", None) or getattr(server, "proc", None)
    pid = getattr(proc, "pid", None)
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
