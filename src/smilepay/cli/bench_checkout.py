"""``smilepay bench checkout``: the face checkout's latency on the bona fide webcam feed.

The feed (``video/bona_fide/apfol_webcam_real.webm``) was recorded at a variable rate (214
frames over 11.6 s, 32-100 ms apart); the bench replays it as a ``--fps`` camera (default 15)
would: at every tick from ``--start-s`` (feed time, from the container's timestamps) the newest
recorded frame, JPEG-encoded beforehand (the kiosk sends JPEG; encoding is not timed).

Each run is one payment at a smile-challenge terminal, in-process (no HTTP): a payment is
created (not timed), a challenge opened (not timed), frames are posted with ``add_frame``
until the challenge is decided, then the last four phone digits confirm at once (typing them
is excluded) and the money moves. Two modes, ``--runs`` runs each:

- ``back_to_back``: every frame posted as soon as the previous one is answered: pure
  compute, no camera time;
- ``paced``: frame *k* posted at its capture time, ``k / fps`` after the first (real time,
  as a live kiosk would); when the server is still busy at a tick the kiosk sends the newest
  frame once it is free and the older ones are dropped (``camera.js`` never queues frames).

Timed, with ``time.perf_counter``, p50 and p95 over the runs of each mode:

- ``first_face_to_decision_ms``: from the moment the first frame with a face is posted to the
  return of ``confirm_face_payment`` (the payment decision);
- ``after_last_frame_ms``: what the customer waits once the frame that completes the challenge
  exists: in ``paced`` from its capture time to the decision, in ``back_to_back`` its
  processing plus the confirmation;
- ``confirm_ms``: ``confirm_face_payment`` alone (1:N search, phone owners, identity
  decision, risk rules, ledger, audit);
- ``per_frame_ms``: one ``add_frame`` (decode, detect, landmarks and blendshapes, lead
  embedding, the full embedding when the frame ranks among the best, challenge verification,
  passive liveness on the deciding frame), over all frames of all runs;
- ``camera_span_ms`` (not timed: feed time): from the first face frame's capture to the
  completing frame's, what the customer's own smile takes; ``paced`` cannot beat it.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smilepay.cli.apps import bench_app

console = Console(width=max(Console().width, 120))  # the table's names in full
MODES = ("back_to_back", "paced")
MEASURES = ("first_face_to_decision_ms", "after_last_frame_ms", "confirm_ms", "per_frame_ms",
            "camera_span_ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def camera_ticks(stamped: list[tuple[int, Any]], start_ms: float, seconds: float,
                 fps: float) -> list[tuple[float, Any]]:
    """(tick ms from the first tick, frame): the newest recorded frame at each camera tick."""
    ticks: list[tuple[float, Any]] = []
    step = 1000.0 / fps
    index = 0
    for k in range(int(seconds * fps)):
        t = start_ms + k * step
        while index + 1 < len(stamped) and stamped[index + 1][0] <= t:
            index += 1
        if stamped[index][0] > t:
            continue  # before the first recorded frame
        ticks.append((k * step, stamped[index][1]))
    return ticks


@dataclass
class Checkout:
    """The objects one bench needs, built once (not timed)."""

    face: Any
    container: Any
    scope: Any
    keys: Any
    clock: Any


@bench_app.command("checkout")
def bench_checkout(
    runs: int = typer.Option(20, min=1, max=500, help="Runs per mode."),
    data: Path = typer.Option(None, help="Shared data folder (default: SMILEPAY_DATA_DIR)."),
    start_s: float = typer.Option(3.0, help="Where in the feed (its own timestamps) the "
                                  "customer starts."),
    seconds: float = typer.Option(4.0, help="How much of the feed a run may use."),
    fps: float = typer.Option(15.0, min=1.0, max=60.0, help="The camera's frame rate."),
    mode: str = typer.Option("both", help="back_to_back, paced or both."),
    json_out: Path = typer.Option(None, "--json", help="Write the results here."),
) -> None:
    """Time from the first frame with a face to the payment decision (p50, p95), frames
    back to back and paced at the camera's rate."""
    import cv2

    from smilepay.config import get_settings
    from smilepay.vision.liveness.replay import read_video_frames

    modes = MODES if mode == "both" else (mode,)
    if any(m not in MODES for m in modes):
        raise typer.BadParameter(f"expected a mode in {(*MODES, 'both')}, got {mode!r}")
    data = data or get_settings().data_dir
    feed = data / "video" / "bona_fide" / "apfol_webcam_real.webm"
    if not feed.is_file():
        raise typer.BadParameter(f"expected the bona fide feed, got no file at {feed}")
    ticks = camera_ticks(list(read_video_frames(feed)), start_s * 1000, seconds, fps)
    jpegs = [(t, bytes(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1]))
             for t, f in ticks]
    world = _set_up(data)
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    with Progress(console=console) as progress:
        for m in modes:
            task = progress.add_task(f"checkouts, {m}", total=runs)
            for _ in range(runs):
                results[m].append(_run_once(world, jpegs, paced=m == "paced"))
                progress.advance(task)
    _report(results, runs, start_s, fps, json_out)


def _set_up(data: Path) -> Checkout:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.bootstrap import build_container, build_face_context
    from smilepay.config import FaceSettings
    from smilepay.domain.tenants import Scope
    from smilepay.services.context import FixedClock
    from smilepay.services.demo import create_demo_merchant, sign_up_customer
    from smilepay.services.enrol import enrol_from_images
    from smilepay.services.face_frames import warm_up
    from smilepay.services.face_wallet import top_up_wallet
    from smilepay.vision.decode import read_image

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
    return Checkout(face, container, scope, keys, clock)


def _run_once(w: Checkout, jpegs: list[tuple[float, bytes]], paced: bool) -> dict[str, Any]:
    from smilepay.services.face_frames import add_frame
    from smilepay.services.face_pay import confirm_face_payment, start_face_payment
    from smilepay.services.payments import create_payment

    intent = w.container.store.run(lambda tx: create_payment(
        tx, w.container.ctx, w.scope, amount_minor=100, currency="EUR",
        terminal_id=w.keys.terminal_id))
    session, _ = start_face_payment(w.face, w.container, w.scope, intent.id, w.keys.terminal_id,
                                    w.clock.now_ms())
    issued_ms = w.clock.now_ms()
    per_frame: list[float] = []
    first_face: tuple[float, float] | None = None  # (posted at, tick ms)
    last_tick, last_captured = 0.0, 0.0
    skipped = 0
    start = time.perf_counter()
    next_index = 0
    while next_index < len(jpegs):
        index = next_index
        if paced:  # wait for the tick; late: the newest frame, older ones dropped
            now = (time.perf_counter() - start) * 1000
            if now < jpegs[index][0]:
                time.sleep((jpegs[index][0] - now) / 1000)
            now = (time.perf_counter() - start) * 1000
            while index + 1 < len(jpegs) and jpegs[index + 1][0] <= now:
                index += 1
            skipped += index - next_index
        tick, jpeg = jpegs[index]
        w.clock.now = issued_ms + 1 + int(tick)
        t0 = time.perf_counter()
        state = add_frame(w.face, session, jpeg, w.clock.now_ms(), w.clock.now_ms()).state
        per_frame.append((time.perf_counter() - t0) * 1000)
        if first_face is None and session.observations and \
                session.observations[-1].signals is not None:
            first_face = (t0, tick)
        last_tick = tick
        last_captured = start + tick / 1000 if paced else t0
        next_index = index + 1
        if state != "collecting":
            break
    t_confirm = time.perf_counter()
    outcome = confirm_face_payment(w.face, w.container, w.scope, session.challenge_id, "5678",
                                   w.clock.now_ms())
    end = time.perf_counter()
    after_last = (end - last_captured) * 1000 if paced \
        else per_frame[-1] + (end - t_confirm) * 1000
    posted, first_tick = first_face if first_face is not None else (t_confirm, last_tick)
    return {"status": outcome["status"], "reason": outcome.get("reason"),
            "frames": len(per_frame), "skipped_frames": skipped,
            "first_face_to_decision_ms": (end - posted) * 1000,
            "after_last_frame_ms": after_last,
            "confirm_ms": (end - t_confirm) * 1000, "per_frame_ms": per_frame,
            "camera_span_ms": last_tick - first_tick}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def values(name: str) -> list[float]:
        if name == "per_frame_ms":
            return [ms for r in rows for ms in r[name]]
        return [r[name] for r in rows]

    out: dict[str, Any] = {
        "runs": len(rows), "succeeded": sum(r["status"] == "succeeded" for r in rows),
        "refusals": dict(Counter(r["reason"] for r in rows if r["status"] != "succeeded")),
        "frames_per_run_median": statistics.median(r["frames"] for r in rows),
        "skipped_frames_total": sum(r["skipped_frames"] for r in rows),
    }
    for name in MEASURES:
        found = values(name)
        out[name] = {"p50": percentile(found, 50), "p95": percentile(found, 95)}
    return out


def _report(results: dict[str, list[dict[str, Any]]], runs: int, start_s: float, fps: float,
            json_out: Path | None) -> None:
    summaries = {m: _summary(rows) for m, rows in results.items()}
    paid = ", ".join(f"{m} {s['succeeded']}/{s['runs']} paid" for m, s in summaries.items())
    table = Table(title=f"smilepay bench checkout ({paid})")
    table.add_column("measure")
    for m in summaries:
        table.add_column(f"{m} p50 ms", justify="right")
        table.add_column(f"{m} p95 ms", justify="right")
    for name in MEASURES:
        cells: list[str] = []
        for s in summaries.values():
            cells += [f"{s[name]['p50']:.0f}", f"{s[name]['p95']:.0f}"]
        table.add_row(name, *cells)
    console.print(table)
    for m, s in summaries.items():
        if s["refusals"]:
            console.print(f"[red]{m}: not paid: {s['refusals']}[/red]")
        console.print(f"{m}: frames per run (median) {s['frames_per_run_median']}, frames "
                      f"dropped while the server was busy {s['skipped_frames_total']}")
    console.print(f"feed from {start_s} s, camera at {fps:g} fps")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"runs_per_mode": runs, "feed_start_s": start_s,
                                        "fps": fps, "modes": summaries,
                                        "raw": {m: [{k: v for k, v in r.items()
                                                     if k != "per_frame_ms"} for r in rows]
                                                for m, rows in results.items()}},
                                       indent=2))

