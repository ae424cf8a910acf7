"""``smilepay bench pipeline``: per-stage and total ms per 640x480 frame, 1 thread."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Literal

import typer
from rich.table import Table

from smilepay.cli.apps import bench_app
from smilepay.cli.eval_face import _progress, _write_json, console

STAGES = ("detect", "align", "landmarks", "quality", "embed")


def read_frames(video: Path, count: int, size: tuple[int, int]) -> list[Any]:
    """Up to ``count`` frames of ``video``, resized to ``size`` (width, height), BGR."""
    from itertools import islice

    import cv2

    from smilepay.vision.liveness.replay import read_video_frames

    return [cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            for _, frame in islice(read_video_frames(video), count)]


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    return {"p50": float(np.percentile(array, 50)), "p95": float(np.percentile(array, 95)),
            "mean": float(array.mean())}


@bench_app.command("pipeline")
def pipeline(
    video: list[Path] = typer.Option(None, "--video", help="Video file(s); default: the "
                                     "bona fide webcam clip under the data folder."),
    frames: int = typer.Option(150, help="Frames to time (after warm-up)."),
    warmup: int = typer.Option(10, help="Frames run first and not timed."),
    strategy: str = typer.Option("", help="Recognition strategy (default: the configured one)."),
    embed: str = typer.Option("full", help="full: the strategy's embedding every frame; lead: "
                              "its first member per frame, the rest timed apart as the "
                              "once-per-decision cost."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
) -> None:
    """Detect, align, embed, landmarks/blendshapes and quality on real 640x480 frames."""
    from smilepay.adapters.models.pipeline_factory import load_pipeline
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.config import get_settings
    from smilepay.errors import SmilePayError

    sources = video or [get_settings().data_dir / "video" / "bona_fide" / "apfol_webcam_real.webm"]
    clips = []
    for source in sources:
        if not source.is_file():
            raise typer.BadParameter(f"expected a video file, got {source}")
        clips.extend(read_frames(source, warmup + frames, (640, 480)))
    if len(clips) <= warmup:
        raise typer.BadParameter(f"expected more than {warmup} frames, got {len(clips)}")
    engine = load_pipeline(strategy or None)
    for frame in clips[:warmup]:
        with contextlib.suppress(SmilePayError):
            engine.analyze_frame(frame)
    timed = clips[warmup: warmup + frames]
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    per_stage_cpu: dict[str, list[float]] = {s: [] for s in STAGES}
    totals: list[float] = []
    totals_cpu: list[float] = []
    completion_cpu: list[float] = []
    if embed not in {"full", "lead"}:
        raise typer.BadParameter(f"expected --embed full or lead, got {embed!r}")
    mode: bool | Literal["lead"] = "lead" if embed == "lead" else True
    no_face = 0
    with _progress() as progress:
        task = progress.add_task("frames", total=len(timed))
        for frame in timed:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                result = engine.analyze_frame(frame, embed=mode)
            except SmilePayError:
                no_face += 1
                progress.advance(task)
                continue
            totals.append((time.perf_counter() - start) * 1000)
            totals_cpu.append((time.process_time() - start_cpu) * 1000)
            if mode == "lead":
                start_cpu = time.process_time()
                engine.complete_embedding(frame, result)
                completion_cpu.append((time.process_time() - start_cpu) * 1000)
            for stage in STAGES:
                per_stage[stage].append(result.timings_ms.get(stage, 0.0))
                per_stage_cpu[stage].append(result.cpu_ms.get(stage, 0.0))
            progress.advance(task)
    engine.close()
    if not totals:
        raise typer.BadParameter("expected frames with a face, got none")
    report: dict[str, Any] = {
        "strategy": strategy or configured_strategy(), "embed": embed, "frame_size": [640, 480],
        "frames": len(totals), "no_face_frames": no_face, "threads": 1,
        "videos": [str(s) for s in sources],
        "stages_ms": {s: percentiles(v) for s, v in per_stage.items()},
        "total_ms": percentiles(totals),
        # CPU time of the process per frame: what the wall time would be on an idle core,
        # since every runtime runs one thread (a guide when other work shares the machine).
        "stages_cpu_ms": {s: percentiles(v) for s, v in per_stage_cpu.items()},
        "total_cpu_ms": percentiles(totals_cpu),
    }
    if completion_cpu:
        report["decision_completion_cpu_ms"] = percentiles(completion_cpu)
    table = Table(title=f"pipeline per 640x480 frame, 1 thread: {len(totals)} frames, "
                        f"strategy {report['strategy']}, embed {embed}")
    for column in ("stage", "p50 ms", "p95 ms", "mean ms", "CPU p50 ms", "CPU p95 ms"):
        table.add_column(column, justify="right")
    rows = [*((s, report["stages_ms"][s], report["stages_cpu_ms"][s]) for s in STAGES),
            ("total", report["total_ms"], report["total_cpu_ms"])]
    for name, stats, cpu in rows:
        table.add_row(name, f"{stats['p50']:.1f}", f"{stats['p95']:.1f}", f"{stats['mean']:.1f}",
                      f"{cpu['p50']:.1f}", f"{cpu['p95']:.1f}")
    console.print(table)
    if completion_cpu:
        extra = report["decision_completion_cpu_ms"]
        console.print(f"once per decision, completing the embedding: CPU p50 {extra['p50']:.1f} ms,"
                      f" p95 {extra['p95']:.1f} ms")
    if json_out is not None:
        _write_json(json_out, report)
