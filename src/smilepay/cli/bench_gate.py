"""``smilepay bench gate``: decision latency of a clock-in or boarding gate at N candidates.

The gallery is real embeddings (each identity's first photo of celeba_wild, glint24 and
lfw_subset, the configured strategy) plus distractors drawn from a Gaussian fitted to the real
embeddings' mean and covariance, sealed and stored as gate templates on a scratch SQLite
database. Each round hands the service a passed challenge whose probe is a real identity's
second photo and times the decision call: probe merge, candidate lookup (one indexed read),
template match, audit and punch or ticket writes. The first call also opens (decrypts) every
candidate template and is reported on its own. The completing frame's analysis is not
included (``smilepay bench pipeline`` measures it).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import bench_app
from smilepay.cli.bench_pipeline import percentiles
from smilepay.cli.eval_face import _progress, _write_json, console

SETS = ("celeba_wild", "glint24", "lfw_subset")


def real_vectors(data: Path, model: str, cache: Path | None) -> tuple[list[Any], list[Any]]:
    """(enrolment vectors, probe vectors or None) per identity, first and second photo."""
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.document_set import find_subjects
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator

    subjects = find_subjects(data, SETS)
    paths = [str(s.source.resolve()) for s in subjects] + [
        str(s.live[0].resolve()) for s in subjects if s.live]
    evaluator = StrategyEvaluator(Path("/"), YuNetDetector(), EmbeddingCache(cache))
    with _progress() as progress:
        task = progress.add_task("embedding the gallery's real faces", total=None)
        vectors = evaluator.strategy_vectors(model, paths, lambda: progress.advance(task))
    evaluator.cache.save()
    evaluator.close()
    enrol, probes = [], []
    for s in subjects:
        v = vectors[str(s.source.resolve())]
        if v is None:
            continue
        enrol.append(v)
        probes.append(vectors[str(s.live[0].resolve())] if s.live else None)
    return enrol, probes


def distractors(real: list[Any], count: int, seed: int = 0) -> list[Any]:
    import numpy as np

    matrix = np.stack(real).astype(np.float64)
    rng = np.random.default_rng(seed)
    drawn = rng.multivariate_normal(matrix.mean(axis=0), np.cov(matrix, rowvar=False),
                                    size=count, method="eigh")
    drawn /= np.linalg.norm(drawn, axis=1, keepdims=True)
    return [row.astype(np.float32) for row in drawn]


def _session(fc: Any, scope: Any, purpose: str, subject: str, probe: Any, model: str,
             n: int, now_ms: int) -> Any:
    from smilepay.services.face_context import FrameSession
    from smilepay.vision.liveness.types import Action, Challenge

    challenge = Challenge(f"bench:{n}", (Action.SMILE,), now_ms, 6000, now_ms + 8000)
    return FrameSession(f"chl_bench{n}", scope, purpose, subject, challenge,
                        best=[(1.0, fc.rotate(scope, probe))], model_id=model,
                        last_state="passed")


def run_gate(kind: str, size: int, enrol: list[Any], probes: list[Any], model: str,
             rounds: int, work: Path) -> dict[str, Any]:
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.gates_attendance import SqlAttendance
    from smilepay.adapters.sql.gates_boarding import SqlBoarding
    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.adapters.sql.gates_templates import SqlGateTemplates
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.adapters.sql.migrate import upgrade_engine
    from smilepay.bootstrap import build_face_context
    from smilepay.config import FaceSettings
    from smilepay.domain.attendance import ShiftPolicy
    from smilepay.domain.purposes import Purpose, grant_purpose_consent, purpose_text
    from smilepay.domain.tenants import Scope
    from smilepay.services import attendance, boarding
    from smilepay.services.identity_matching import SealedTemplateMatcher

    engine = make_engine(f"sqlite:///{work / f'gate_{kind}_{size}.db'}")
    upgrade_engine(engine)
    fc = build_face_context(SqlIdentityStore(engine), FaceSettings(
        secrets_file=str(work / "secrets.json"), index_dir=str(work / "index")))
    templates, consents = SqlGateTemplates(engine), SqlGatesStore(engine)
    matcher = SealedTemplateMatcher(templates, fc.open_vector)
    scope = Scope("ten_bench", False)
    now = int(datetime(2026, 12, 7, 8, tzinfo=UTC).timestamp() * 1000)
    real = min(size, len(enrol))
    gallery = enrol[:real] + distractors(enrol, size - real)
    purpose = Purpose.ATTENDANCE if kind == "attendance" else Purpose.BOARDING
    att = attendance.Attendance(SqlAttendance(engine), templates, consents, matcher,
                                ShiftPolicy())
    board = boarding.Boarding(SqlBoarding(engine), templates, consents, matcher)
    subjects: list[str] = []
    site = departure = ""
    if kind == "attendance":
        site = attendance.add_site(att, scope, "bench site", now)
    else:
        departure = boarding.add_departure(
            board, scope, "train", "bench", datetime.fromtimestamp(now / 1000, UTC),
            datetime.fromtimestamp(now / 1000, UTC) + timedelta(days=30), now).departure_id
    with _progress() as progress:
        task = progress.add_task(f"{kind}: {size} candidates", total=size)
        for k, vector in enumerate(gallery):
            if kind == "attendance":
                subject = attendance.add_staff(fc, att, scope, site, f"staff {k}", "staff",
                                               f"{k:06d}", None, now).staff_id
            else:
                subject = f"cus_bench{k}"
                consents.add_purpose_consent(scope, grant_purpose_consent(
                    consent_id=f"pcon_bench{k}", tenant_id=scope.tenant_id,
                    customer_id=subject, purpose=Purpose.BOARDING,
                    accepted_digest=purpose_text(Purpose.BOARDING).digest,
                    now=datetime.fromtimestamp(now / 1000, UTC)))
                boarding.issue_ticket(fc, board, scope, departure, subject, now)
            templates.add(fc.seal(scope, subject, fc.rotate(scope, vector), model, 1.0, now),
                          purpose)
            subjects.append(subject)
            progress.advance(task)
    usable = [k for k in range(real) if probes[k] is not None]
    times: list[float] = []
    cold_ms = 0.0
    matched = correct = 0
    for n in range(rounds + 1):
        k = usable[n % len(usable)]
        now += 120_000  # two minutes apart: never a double punch
        if kind == "attendance":
            session = _session(fc, scope, attendance.CLOCK_PURPOSE, site, probes[k], model, n,
                               now)
            start = time.perf_counter()
            out = attendance.punch_by_face(fc, att, scope, site, session, f"bench-{n}", now)
        else:
            session = _session(fc, scope, boarding.BOARD_PURPOSE, departure, probes[k], model,
                               n, now)
            start = time.perf_counter()
            out = boarding.board_by_face(fc, board, scope, departure, session, now)
        elapsed = (time.perf_counter() - start) * 1000
        who = out.get("staff") or out.get("customer")
        matched += who is not None
        correct += who == subjects[k]
        if kind == "boarding" and who is not None:
            boarding.issue_ticket(fc, board, scope, departure, str(who), now)  # board again
        if n == 0:
            cold_ms = elapsed
        else:
            times.append(elapsed)
    fc.close()
    engine.dispose()
    return {"kind": kind, "gallery": size, "real_identities": real, "rounds": rounds,
            "cold_first_ms": cold_ms, **{f"{k}_ms": v for k, v in percentiles(times).items()},
            "matched": matched, "matched_correct": correct}


@bench_app.command("gate")
def gate(
    kind: str = typer.Option(..., "--kind", help="attendance or boarding."),
    gallery: str = typer.Option("50,300,5000", "--gallery", help="Candidates N, or several "
                                "with commas."),
    rounds: int = typer.Option(200, "--rounds", min=10, max=5000),
    data: Path | None = typer.Option(None, "--data", help="Face data (default: "
                                     "SMILEPAY_DATA_DIR)."),
    model: str = typer.Option("", "--model", help="Strategy; default: the configured one."),
    cache: Path | None = typer.Option(None, "--cache", help="Keep embeddings here (npz)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the results here."),
) -> None:
    """p50/p95 server time of the gate's decision among N candidates (goal: p95 <= 300 ms)."""
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.config import get_settings

    if kind not in {"attendance", "boarding"}:
        raise typer.BadParameter(f"expected attendance or boarding, got {kind!r}")
    sizes = [int(s) for s in gallery.split(",") if s.strip()]
    if not sizes or min(sizes) < 2 or max(sizes) > 200_000:
        raise typer.BadParameter(f"expected gallery sizes 2..200000, got {gallery!r}")
    name = model or configured_strategy()
    enrol, probes = real_vectors(data or get_settings().data_dir, name, cache)
    results = []
    with tempfile.TemporaryDirectory(prefix="smilepay-bench-gate-") as tmp:
        for size in sizes:
            results.append(run_gate(kind, size, enrol, probes, name, rounds, Path(tmp)))
    table = Table(title=f"gate decision, {kind}, {name}, server time per decision")
    for column in ("N", "real ids", "first (cold) ms", "p50 ms", "p95 ms", "mean ms",
                   "matched / correct"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(str(r["gallery"]), str(r["real_identities"]), f"{r['cold_first_ms']:.1f}",
                      f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['mean_ms']:.1f}",
                      f"{r['matched']} / {r['matched_correct']}")
    console.print(table)
    if json_out is not None:
        _write_json(json_out, {"kind": kind, "model": name, "results": results})
