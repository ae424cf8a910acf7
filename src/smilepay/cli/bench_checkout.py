"""``smilepay bench checkout``: the face checkout's latency on the bona fide webcam feed.

Each run is one payment at a smile-challenge terminal: the frames of the feed from
``--start-s`` (before the smile) are posted back to back as JPEG (encoding is not timed: the
kiosk sends JPEG), the challenge is verified after every frame, then the phone digits confirm
and the money moves. Reported, p50 and p95 over the runs:

- ``first_face_to_decision_ms``: from posting the first frame with a face to the payment
  decision, frames processed back to back (pure compute; a live camera spreads the same
  frames over ``camera_span_ms``);
- ``after_last_frame_ms``: what the customer waits once the smile is over: processing of the
  frame that completes the challenge plus the confirmation;
- ``per_frame_ms``: one frame (decode, detect, landmarks, embed, liveness, verify).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smilepay.cli.apps import bench_app

console = Console()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


@bench_app.command("checkout")
def bench_checkout(
    runs: int = typer.Option(20, min=1, max=500),
    data: Path = typer.Option(None, help="Shared data folder (default: SMILEPAY_DATA_DIR)."),
    start_s: float = typer.Option(3.0, help="Where in the feed the customer starts."),
    seconds: float = typer.Option(3.0, help="How much of the feed a run may use."),
    json_out: Path = typer.Option(None, "--json", help="Write the results here."),
) -> None:
    """Time from the first frame with a face to the payment decision (p50, p95)."""
    import cv2

    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.bootstrap import build_container
    from smilepay.config import get_settings
    from smilepay.domain.tenants import Scope
    from smilepay.services.context import FixedClock
    from smilepay.services.demo import create_demo_merchant, sign_up_customer, video_frames
    from smilepay.services.enrol import enrol_from_images
    from smilepay.services.face_context import FaceSettings, build_face_context
    from smilepay.services.face_frames import add_frame, warm_up
    from smilepay.services.face_pay import confirm_face_payment, start_face_payment
    from smilepay.services.face_wallet import top_up_wallet
    from smilepay.services.payments import create_payment
    from smilepay.vision.decode import read_image

    data = data or get_settings().data_dir
    work = Path(tempfile.mkdtemp(prefix="smilepay-bench-"))
    clock = FixedClock(now=int(time.time() * 1000))
    container = build_container(f"sqlite:///{work / 'bench.db'}", clock=clock)
    settings = FaceSettings(challenge="smile", step_timeout_ms=9000,
                            secrets_file=str(work / "s.json"), index_dir=str(work / "idx"))
    face = build_face_context(SqlIdentityStore(container.store.engine), settings)
    keys = create_demo_merchant(container)
    scope = Scope(keys.tenant_id, livemode=False)
    customer = sign_up_customer(face, container, scope, "+4915112345678", "Bench",
                                clock.now_ms())
    photos = sorted((data / "pad_apfol" / "live").glob("*"))[:8]
    enrol_from_images(face, scope, customer.customer_id, [read_image(str(p)) for p in photos],
                      clock.now_ms())
    top_up_wallet(container, scope, customer.customer_id, 1_000_000, "EUR")
    warm_up(face)
    feed = data / "video" / "bona_fide" / "apfol_webcam_real.webm"
    frames = list(video_frames(feed))[int(start_s * 15): int((start_s + seconds) * 15)]
    jpegs = [bytes(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1]) for f in frames]

    results: list[dict[str, Any]] = []
    with Progress(console=console) as progress:
        task = progress.add_task("checkouts", total=runs)
        for _ in range(runs):
            intent = container.store.run(lambda tx: create_payment(
                tx, container.ctx, scope, amount_minor=100, currency="EUR",
                terminal_id=keys.terminal_id))
            session, _ = start_face_payment(face, container, scope, intent.id, keys.terminal_id,
                                            clock.now_ms())
            per_frame: list[float] = []
            first_face: float | None = None
            state = "collecting"
            for jpeg in jpegs:
                clock.advance_s(1 / 15)
                t0 = time.perf_counter()
                state = add_frame(face, session, jpeg, clock.now_ms(), clock.now_ms()).state
                per_frame.append((time.perf_counter() - t0) * 1000)
                if first_face is None and session.observations and \
                        session.observations[-1].signals is not None:
                    first_face = t0
                if state != "collecting":
                    break
            t_confirm = time.perf_counter()
            outcome = confirm_face_payment(face, container, scope, session.challenge_id, "5678",
                                           clock.now_ms())
            end = time.perf_counter()
            results.append({
                "status": outcome["status"], "reason": outcome.get("reason"),
                "frames": len(per_frame),
                "first_face_to_decision_ms": (end - (first_face or t_confirm)) * 1000,
                "after_last_frame_ms": per_frame[-1] + (end - t_confirm) * 1000,
                "confirm_ms": (end - t_confirm) * 1000, "per_frame_ms": per_frame,
                "camera_span_ms": len(per_frame) * 1000 / 15})
            progress.advance(task)
    _report(results, runs, start_s, json_out)


def _report(results: list[dict[str, Any]], runs: int, start_s: float,
            json_out: Path | None) -> None:
    frames = [ms for r in results for ms in r["per_frame_ms"]]
    summary: dict[str, Any] = {
        "runs": runs, "feed_start_s": start_s,
        "succeeded": sum(r["status"] == "succeeded" for r in results),
        "refusals": dict(Counter(r["reason"] for r in results if r["status"] != "succeeded")),
        "frames_per_run_median": statistics.median(r["frames"] for r in results),
        "camera_span_ms_median": statistics.median(r["camera_span_ms"] for r in results),
    }
    table = Table(title=f"smilepay bench checkout ({summary['succeeded']}/{runs} paid)")
    for col in ("measure", "p50 ms", "p95 ms"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    for name, values in (
        ("first_face_to_decision_ms", [r["first_face_to_decision_ms"] for r in results]),
        ("after_last_frame_ms", [r["after_last_frame_ms"] for r in results]),
        ("confirm_ms", [r["confirm_ms"] for r in results]),
        ("per_frame_ms", frames),
    ):
        summary[name] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
        table.add_row(name, f"{summary[name]['p50']:.0f}", f"{summary[name]['p95']:.0f}")
    console.print(table)
    if summary["refusals"]:
        console.print(f"[red]not paid: {summary['refusals']}[/red]")
    console.print(f"frames per run (median) {summary['frames_per_run_median']}, camera span "
                  f"{summary['camera_span_ms_median']:.0f} ms at 15 fps")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2))
