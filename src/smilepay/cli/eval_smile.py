"""``smilepay eval smile``: smile detection on a folder with ``smile/`` and ``nonsmile/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import eval_app
from smilepay.cli.eval_face import JSON_OPT, _progress, _write_json, console

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@eval_app.command("smile")
def smile(
    data: Path = typer.Option(..., "--data", help="Folder with smile/ and nonsmile/ subfolders."),
    json_out: Path = JSON_OPT,
    scorer: str = typer.Option("", "--scorer", help="mediapipe (default), fer_emotion or "
                               "fr_expression; several with commas."),
    threshold: float | None = typer.Option(
        None, help="Decision threshold; default: the scorer's shipped one (0.5 if none)."),
) -> None:
    """Smile detection: AUC and accuracy at the chosen threshold (no face = scored 0)."""
    from smilepay.adapters.models.smile import DEFAULT_SMILE_SCORER, load_smile_scorer
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.errors import SmilePayError
    from smilepay.evaluation.embeddings import main_face
    from smilepay.evaluation.smile import evaluate_smile
    from smilepay.vision.decode import read_image

    names = [s.strip() for s in (scorer or DEFAULT_SMILE_SCORER).split(",") if s.strip()]
    files = [(p, label) for label, sub in ((1, "smile"), (0, "nonsmile"))
             for p in sorted((data / sub).glob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise typer.BadParameter(f"expected images in {data}/smile and {data}/nonsmile, got none")
    detector = YuNetDetector()
    scorers = [load_smile_scorer(n) for n in names]
    scores: dict[str, list[float]] = {n: [] for n in names}
    labels: list[int] = []
    no_face = 0
    with _progress() as progress:
        task = progress.add_task("scoring", total=len(files))
        for path, label in files:
            labels.append(label)
            try:
                image = read_image(str(path))
                face = main_face(image, detector)
            except SmilePayError:
                face = None
            no_face += face is None
            for name, model in zip(names, scorers, strict=True):
                value = None if face is None else model.score_smile(image, face)
                scores[name].append(0.0 if value is None else value)
            progress.advance(task)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        results[name] = evaluate_smile(name, labels, scores[name], threshold).to_json()
        results[name]["no_face"] = no_face
    table = Table(title=f"smile: {data.name}  ({sum(labels)} smile, "
                        f"{len(labels) - sum(labels)} non-smile, no face {no_face})")
    for column in ("scorer", "AUC", "threshold", "accuracy", "best accuracy (at)"):
        table.add_column(column, justify="right")
    for name, r in results.items():
        table.add_row(name, f"{r['auc']:.4f}", f"{r['threshold']:.3f}", f"{r['accuracy']:.3f}",
                      f"{r['best_accuracy']:.3f} ({r['best_threshold']:.3f})")
    console.print(table)
    payload = dict(results[names[0]])
    if len(names) > 1:
        payload["candidates"] = results
    _write_json(json_out, payload)
