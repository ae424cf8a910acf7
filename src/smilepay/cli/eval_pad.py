"""``smilepay eval pad|challenge|depth`` and ``smilepay bench liveness`` (docs/liveness.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smilepay.cli.apps import bench_app, eval_app

console = Console(width=None if Console().is_terminal else 140)
PAD_SOURCES = ("pad_apfol", "pad_alexcamargo", "pad_jtboing", "pad_silentface")
BONA_FIDE_CLIP = Path("video/bona_fide/apfol_webcam_real.webm")
REPLAY_CLIP = Path("video/replay_attack/apfol_phone_replay.webm")


def _write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=float))
        console.print(f"wrote {path}")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@eval_app.command("pad")
def eval_pad(
    data: Path = typer.Option(None, help="Folder of live/ and spoof/ (or of such sources); "
                              "default: the shared data's pad_* sets."),
    source: list[str] = typer.Option([], help="Only these sources (repeatable)."),
    faces: str = typer.Option("auto", help="crop (images are face crops), detect, or auto "
                              "(detect when the longer side is >= 600 px)."),
    video_frames: int = typer.Option(8, min=1, help="Frames sampled per video."),
    json_out: Path = typer.Option(None, "--json", help="Write the results as JSON."),
    det: Path = typer.Option(None, help="Write the pooled DET curves as PNG."),
) -> None:
    """Passive scorers on live/spoof media: APCER/BPCER/AUC per source and pooled (LOSO)."""
    import numpy as np

    from smilepay.adapters.liveness.cues import CropHeightScorer, CueScorer
    from smilepay.adapters.liveness.face_antispoofing import DtnAntiSpoofScorer
    from smilepay.adapters.liveness.fr_liveness import FrLivenessScorer
    from smilepay.adapters.models.pipeline_factory import default_detector
    from smilepay.adapters.models.runtime import set_opencv_threads
    from smilepay.config import get_settings
    from smilepay.vision.detect import detect_faces
    from smilepay.vision.liveness.dataset import find_presentations
    from smilepay.vision.liveness.det_plot import write_det_plot
    from smilepay.vision.liveness.pad_eval import score_presentation, summarise, trained_scores
    from smilepay.vision.liveness.passive import CUES

    set_opencv_threads(1)
    root = data or get_settings().data_dir
    only = tuple(source) or (PAD_SOURCES if data is None else ())
    presentations = find_presentations(root, only)
    scorers: list[Any] = [FrLivenessScorer(), DtnAntiSpoofScorer(), *[CueScorer(c) for c in CUES],
                          CropHeightScorer()]

    def find_face(image: Any) -> Any:
        found = detect_faces(image, default_detector())
        return found[0] if found else None

    rows = []
    with Progress(console=console) as progress:
        task = progress.add_task("scoring", total=len(presentations))
        for p in presentations:
            rows.append(score_presentation(p, scorers, find_face, faces, video_frames))
            progress.advance(task)
    matrix = np.vstack(rows)
    columns: dict[str, tuple[Any, bool]] = {
        s.name: (matrix[:, i], False) for i, s in enumerate(scorers)}
    sources = {p.source for p in presentations}
    if len(sources) >= 2:
        cue_cols = list(range(2, 2 + len(CUES)))  # never the crop-height confound
        columns["lr(cues) LOSO"] = (trained_scores(matrix, presentations, cue_cols), True)
        columns["lr(all) LOSO"] = (trained_scores(matrix, presentations,
                                                  range(2 + len(CUES))), True)
    results = []
    for name, (scores, trained) in columns.items():
        results += summarise(name, scores, presentations, trained)
    table = Table("scorer", "source", "live", "spoof", "AUC", "APCER@BPCER5",
                  "BPCER@APCER1", "BPCER@APCER5", "worst PAI", title=f"PAD on {root}")
    for r in results:
        table.add_row(r.scorer, r.source, str(r.bona_fide), str(r.attacks), f"{r.auc:.3f}",
                      _pct(r.apcer_at_bpcer5), _pct(r.bpcer_at_apcer1), _pct(r.bpcer_at_apcer5),
                      r.worst_species, style="bold" if r.source == "pooled" else None)
    console.print(table)
    if det is not None:
        live = np.array([p.bona_fide for p in presentations])
        curves = {}
        for name, (scores, _) in columns.items():
            ok = np.isfinite(scores)
            curves[name] = (scores[ok & live], scores[ok & ~live])
        console.print(f"wrote {write_det_plot(curves, det, 'PAD, pooled over sources')}")
    _write_json(json_out, {"command": "eval pad", "data": str(root), "faces": faces,
                           "presentations": len(presentations),
                           "results": [r.as_dict() for r in results]})


@eval_app.command("challenge")
def eval_challenge(
    data: Path = typer.Option(None, help="Shared data folder (default SMILEPAY_DATA_DIR)."),
    trials: int = typer.Option(5000, min=100, help="Random challenges per clip and policy."),
    json_out: Path = typer.Option(None, "--json", help="Write the results as JSON."),
) -> None:
    """The challenge on the two videos: bona fide answers a smile; replays vs random challenges."""
    from smilepay.adapters.models.pipeline_factory import load_pipeline
    from smilepay.config import get_settings
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound
    from smilepay.vision.liveness.challenge import count_sequences, replay_pass_chance
    from smilepay.vision.liveness.passive import temporal_flicker
    from smilepay.vision.liveness.replay import (
        merge_intervals,
        observe_video,
        simulate_replays,
        sweep_one_step,
    )
    from smilepay.vision.liveness.types import Action, ChallengePolicy
    from smilepay.vision.liveness.verify import VerifierSettings

    root = data or get_settings().data_dir
    pipeline = load_pipeline()

    brightness: list[float] = []

    def read_face(image: Any) -> tuple[Any, Any]:
        try:
            analysis = pipeline.analyze_frame(image)
        except (NoFaceFound, AmbiguousFaces):
            return None, None
        x0, y0, x1, y1 = (max(0, int(v)) for v in analysis.face.box_xyxy)
        brightness.append(float(image[y0:y1, x0:x1].mean()))
        return analysis.signals, analysis.embedding.vector if analysis.embedding else None

    timelines, flicker = {}, {}
    try:
        with Progress(console=console) as progress:
            for clip in (BONA_FIDE_CLIP, REPLAY_CLIP):
                task = progress.add_task(f"reading {clip.name}", total=None)
                brightness.clear()

                def tick(t: Any = task) -> None:
                    progress.advance(t)

                timelines[clip.name] = observe_video(root / clip, read_face, tick)
                flicker[clip.name] = temporal_flicker(brightness)
    finally:
        pipeline.close()  # left to interpreter exit, MediaPipe's close raised a TypeError
    bona = timelines[BONA_FIDE_CLIP.name]
    answered = sweep_one_step(bona, Action.SMILE)
    console.print(f"bona fide clip answers a smile challenge issued at {len(answered)} moments "
                  "(tried every 50 ms), in these intervals (ms): "
                  f"{merge_intervals([a for a, _ in answered], 50)}")
    table = Table("clip replayed", "checks", "steps", "sequences", "stated chance", "passed",
                  "rate", "95% upper", title="Replays against random challenges")
    replay_rows = []
    # "order+timing" switches the same-face check off, to measure the challenge on its own.
    variants = {"all": VerifierSettings(),
                "order+timing": VerifierSettings(same_face_cosine=-1.0, continuity_cosine=-1.0)}
    cases = [(name, frames, checks, settings, steps)
             for (name, frames), (checks, settings) in product(timelines.items(),
                                                               variants.items())
             for steps in (1, 2, 3, 4, 5)]
    with Progress(console=console) as progress:
        task = progress.add_task("replaying", total=len(cases) * trials)
        outcomes = [simulate_replays(frames, ChallengePolicy(steps=steps), trials, seed=steps,
                                     settings=settings, on_trial=lambda: progress.advance(task))
                    for _name, frames, _checks, settings, steps in cases]
    for (name, _frames, checks, _settings, steps), stats in zip(cases, outcomes, strict=True):
        policy = ChallengePolicy(steps=steps)
        chance = replay_pass_chance(policy)
        row = {"clip": name, "checks": checks, "steps": steps,
               "sequences": count_sequences(policy),
               "stated_chance": chance, "trials": stats.trials,
               "passed": stats.passed, "rate": stats.pass_rate,
               "upper95": stats.pass_rate_upper95,
               "steps_answered_histogram": stats.passed_steps_histogram,
               "first_failure_reasons": stats.first_failure_reasons}
        replay_rows.append(row)
        table.add_row(name, checks, str(steps), str(row["sequences"]),
                      _pct(chance), f"{stats.passed}/{stats.trials}",
                      _pct(stats.pass_rate), _pct(stats.pass_rate_upper95))
    console.print(table)
    console.print(f"temporal flicker of face brightness: {flicker}")
    _write_json(json_out, {
        "command": "eval challenge", "trials": trials, "temporal_flicker": flicker,
        "bona_fide_smile": {"issue_times_ms_answered": [a for a, _ in answered],
                            "frames": len(bona),
                            "onset_peak_release_ms": [(s.onset_ms, s.peak_ms, s.release_ms)
                                                      for _, s in answered[:1]]},
        "replays": replay_rows})


@eval_app.command("depth")
def eval_depth(
    scenes: int = typer.Option(1000, min=20, help="Scenes per kind for calibration."),
    target_apcer: float = typer.Option(0.01, help="APCER the threshold is set for."),
    json_out: Path = typer.Option(None, "--json", help="Write the results as JSON."),
    det: Path = typer.Option(None, help="Write the DET curves as PNG."),
) -> None:
    """The depth check on synthetic scenes: threshold at the target APCER, then fresh scenes."""
    import numpy as np

    from smilepay.evaluation.metrics import auc
    from smilepay.vision.liveness.det_plot import write_det_plot
    from smilepay.vision.liveness.fusion import DEPTH_CALIBRATION
    from smilepay.vision.liveness.metrics import apcer_at, bpcer_at, threshold_for_apcer
    from smilepay.vision.liveness.synthetic_depth import ATTACK_KINDS, KINDS, relief_scores

    def run(offset: int, progress: Progress, label: str) -> dict[str, Any]:
        task = progress.add_task(label, total=scenes * len(KINDS))
        return {kind: relief_scores(kind, scenes, offset + k * 1_000_000,
                                    lambda: progress.advance(task))
                for k, kind in enumerate(KINDS)}

    with Progress(console=console) as progress:
        calib = run(0, progress, "calibration scenes")
        fresh = run(500_000, progress, "fresh scenes")
    attacks = np.concatenate([calib[k] for k in ATTACK_KINDS])
    calibrated = max(threshold_for_apcer(calib[k], target_apcer) for k in ATTACK_KINDS)
    shipped = DEPTH_CALIBRATION.threshold
    table = Table("set", "threshold mm", "kind", "n", "APCER", "BPCER", "AUC vs face",
                  title=f"Depth relief: calibrated threshold {calibrated:.2f} mm (APCER "
                        f"{target_apcer:.0%} per kind on calibration), shipped {shipped:.2f} mm")
    rows = []
    runs = (("calibration", calibrated, calib), ("fresh", calibrated, fresh),
            ("fresh", shipped, fresh))
    for label, threshold, sets in runs:
        for kind in KINDS:
            v = sets[kind]
            attack = kind != "face"
            apcer = apcer_at(v, threshold) if attack else None
            bpcer = None if attack else bpcer_at(v, threshold)
            area = auc(sets["face"], v) if attack else None
            rows.append({"set": label, "threshold_mm": threshold, "kind": kind, "n": len(v),
                         "apcer": apcer, "bpcer": bpcer, "auc": area,
                         "percentiles_mm": np.percentile(v, [0, 1, 5, 50, 95, 99, 100]).tolist()})
            table.add_row(label, f"{threshold:.2f}", kind, str(len(v)),
                          "" if apcer is None else _pct(apcer),
                          "" if bpcer is None else _pct(bpcer),
                          "" if area is None else f"{area:.4f}")
    console.print(table)
    if det is not None:
        curves = {k: (fresh["face"], fresh[k]) for k in ATTACK_KINDS}
        console.print(f"wrote {write_det_plot(curves, det, 'Depth relief, synthetic scenes')}")
    _write_json(json_out, {"command": "eval depth", "scenes_per_kind": scenes,
                           "target_apcer": target_apcer, "calibrated_threshold_mm": calibrated,
                           "shipped_threshold_mm": shipped,
                           "pooled_attack_apcer_calibration": apcer_at(attacks, calibrated),
                           "rows": rows})


@bench_app.command("liveness")
def bench_liveness(
    frames: int = typer.Option(200, min=10, help="Frames timed per layer."),
    json_out: Path = typer.Option(None, "--json", help="Write the results as JSON."),
) -> None:
    """Per-layer latency per frame (1 thread): challenge verifier, cues, models, depth."""
    import numpy as np

    from smilepay.adapters.liveness.face_antispoofing import DtnAntiSpoofScorer
    from smilepay.adapters.liveness.fr_liveness import FrLivenessScorer
    from smilepay.adapters.models.runtime import set_opencv_threads
    from smilepay.vision.liveness.challenge import draw_challenge
    from smilepay.vision.liveness.depth import measure_relief
    from smilepay.vision.liveness.passive import measure_cues
    from smilepay.vision.liveness.scripted import answer, perform
    from smilepay.vision.liveness.synthetic_depth import make_scene
    from smilepay.vision.liveness.types import ChallengePolicy
    from smilepay.vision.liveness.verify import verify_challenge
    from smilepay.vision.types import Face

    set_opencv_threads(1)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    face = Face((220.0, 140.0, 420.0, 380.0), np.zeros((5, 2), np.float32), 0.99)
    scene = make_scene("face", 1)
    policy = ChallengePolicy(steps=5)
    challenge = draw_challenge(policy, "bench", 0)
    observed = perform(answer(challenge.steps, 0), 0, challenge.expires_at_ms - 1, fps=15)
    fr, dtn = FrLivenessScorer(), DtnAntiSpoofScorer()
    layers: dict[str, tuple[Callable[[], object], int]] = {
        "challenge verifier (whole 5-step challenge / frames)": (
            lambda: verify_challenge(challenge, observed), len(observed)),
        "challenge verifier (one call over the full history)": (
            lambda: verify_challenge(challenge, observed), 1),
        "passive cues (crop)": (lambda: measure_cues(image[140:380, 220:420]), 1),
        "fr_liveness (ONNX)": (lambda: fr.score(image, face), 1),
        "face_antispoofing (TFLite)": (lambda: dtn.score(image, face), 1),
        "depth relief (640x480)": (lambda: measure_relief(scene.depth_mm, scene.face), 1),
    }
    table = Table("layer", "p50 ms/frame", "p95 ms/frame", title="Liveness latency, 1 thread")
    results = {}
    with Progress(console=console) as progress:
        task = progress.add_task("timing", total=len(layers) * frames)
        for name, (work, per) in layers.items():
            work()  # warm-up
            times = []
            for _ in range(frames):
                start = time.perf_counter()
                work()
                times.append((time.perf_counter() - start) * 1000 / per)
                progress.advance(task)
            results[name] = {"p50_ms": float(np.percentile(times, 50)),
                             "p95_ms": float(np.percentile(times, 95))}
    for name, r in results.items():
        table.add_row(name, f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}")
    console.print(table)
    _write_json(json_out, {"command": "bench liveness", "frames": frames, "layers": results})
