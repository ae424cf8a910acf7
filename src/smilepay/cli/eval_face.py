"""``smilepay eval verify|identify|smile``: face and smile accuracy on your own data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smilepay.cli.apps import eval_app

console = Console()
T = TypeVar("T")
LIMIT_HELP = "A quick sample: only the first N "

DATA_OPT = typer.Option(..., "--data", help="Folder the CSV paths are relative to.")
JSON_OPT = typer.Option(..., "--json", help="Where to write the JSON report.")
CACHE_OPT = typer.Option(None, "--cache", help="Keep embeddings here between runs (npz).")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    console.print(f"wrote {path}")


def _evaluator(data: Path, cache_dir: Path | None) -> Any:
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator

    return StrategyEvaluator(data, YuNetDetector(), EmbeddingCache(cache_dir))


def _checked(read: Callable[[], T], option: str) -> T:
    """What ``read`` returns; a bad input file becomes a usage error, not a traceback."""
    from smilepay.errors import InvalidInput

    try:
        return read()
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message, param_hint=option) from None


def _members(models: list[str]) -> int:
    """Member embeddings the models need in all (each ticks the progress bar once a file)."""
    from smilepay.adapters.models.strategies import strategy_spec

    return sum(len(strategy_spec(m).members) for m in models)


@eval_app.command("verify")
def verify(
    data: Path = DATA_OPT,
    pairs: Path = typer.Option(..., "--pairs", help="CSV with path_a,path_b,same."),
    model: str = typer.Option("", "--model", help="Strategy or model name; several with commas "
                              "(the first is reported at the top level). Default: the default."),
    json_out: Path = JSON_OPT,
    extra_impostors: bool = typer.Option(True, help="Add every cross-identity pair."),
    calibration_dir: Path | None = typer.Option(
        None, "--calibration-dir", help="Also write each model's calibration table here "
        "(calibration_<model>.json, the format smilepay ships in smilepay/data)."),
    cache: Path | None = CACHE_OPT,
) -> None:
    """Verification (1:1): AUC, EER, TAR and threshold at FAR 1e-2..1e-5, DET/ROC plot."""
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.evaluation.pairs import check_both_kinds, read_pairs, with_extra_impostors
    from smilepay.evaluation.plots import plot_verification
    from smilepay.evaluation.verify import evaluate_verification

    models = [m.strip() for m in (model or configured_strategy()).split(",") if m.strip()]
    pair_list = _checked(lambda: read_pairs(pairs), "--pairs")
    if extra_impostors:
        pair_list = with_extra_impostors(pair_list)
    _checked(lambda: check_both_kinds(pair_list), "--pairs")
    paths = sorted({p.path_a for p in pair_list} | {p.path_b for p in pair_list})
    evaluator = _evaluator(data, cache)
    reports = []
    with _progress() as progress:
        task = progress.add_task("embedding", total=len(paths) * _members(models))
        for name in models:
            vectors = evaluator.strategy_vectors(name, paths, lambda: progress.advance(task))
            reports.append(evaluate_verification(name, pair_list, vectors))
    evaluator.cache.save()
    evaluator.close()
    for report in reports:
        table = Table(title=f"verification: {report.model_id}  AUC {report.auc:.4f}  "
                            f"EER {report.eer:.4f}  no face: {report.fail_to_detect}")
        for column in ("FAR", "TAR", "threshold", "impostor pairs above / total", "supported"):
            table.add_column(column, justify="right")
        for p in report.points:
            table.add_row(f"{p.far_target:g}", f"{p.tar:.3f}", f"{p.threshold:.4f}",
                          f"{p.impostors_above} / {p.impostor_pairs}",
                          "yes" if p.supported else "no (too few impostors)")
        console.print(table)
    payload = reports[0].to_json()
    png = json_out.with_suffix(".png")
    plot_verification({r.model_id: (r.genuine, r.impostor) for r in reports}, png,
                      title=f"{pairs.name}: {len(reports[0].genuine)} genuine, "
                            f"{len(reports[0].impostor)} impostor pairs")
    payload["plot"] = str(png)
    console.print(f"wrote plot {png}")
    if len(reports) > 1:
        payload["candidates"] = {r.model_id: r.to_json() for r in reports}
    _write_json(json_out, payload)
    if calibration_dir is not None:
        from smilepay.vision.calibration import table_filename

        source = (f"{pairs.name} with "
                  f"{'all cross-identity impostors' if extra_impostors else 'its impostors'}")
        for report in reports:
            _write_json(calibration_dir / table_filename(report.model_id),
                        report.calibration_json(source=source))


@eval_app.command("identify")
def identify(
    data: Path = DATA_OPT,
    protocol: Path = typer.Option(..., "--protocol", help="CSV with path,identity,role."),
    model: str = typer.Option("", "--model", help="Strategy or model name; several with commas."),
    json_out: Path = JSON_OPT,
    cache: Path | None = CACHE_OPT,
    limit: int | None = typer.Option(None, "--limit", min=1, help=LIMIT_HELP + "identities "
                                     "(their enrol and probe images) and N unknown probes."),
) -> None:
    """Identification (1:N): rank-1 and FNIR at FPIR 0.01 / 0.1 (enrol, probe, probe_unknown)."""
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.evaluation.identify import first_identities, read_protocol
    from smilepay.evaluation.identify import identify as run_identify

    models = [m.strip() for m in (model or configured_strategy()).split(",") if m.strip()]
    entries = _checked(lambda: read_protocol(protocol), "--protocol")
    if limit is not None:
        entries = first_identities(entries, limit)
        console.print(f"quick sample (--limit {limit}): {len(entries)} images")
    paths = sorted({e.path for e in entries})
    evaluator = _evaluator(data, cache)
    results: dict[str, dict[str, Any]] = {}
    with _progress() as progress:
        task = progress.add_task("embedding", total=len(paths) * _members(models))
        for name in models:
            vectors = evaluator.strategy_vectors(name, paths, lambda: progress.advance(task))
            found = run_identify(entries, vectors)
            results[name] = {"model": name, **found.__dict__}
    evaluator.cache.save()
    evaluator.close()
    table = Table(title=f"identification: {protocol.name}")
    table.add_column("model", no_wrap=True)
    for column in ("rank-1", "FNIR @ FPIR 0.01", "FNIR @ FPIR 0.1", "gallery", "probes",
                   "unknown probes", "no face"):
        table.add_column(column, justify="right")
    for name, row in results.items():
        fnir = row["fnir_at_fpir"]
        table.add_row(name, f"{row['rank1']:.3f}", f"{fnir.get('0.01', float('nan')):.3f}",
                      f"{fnir.get('0.1', float('nan')):.3f}", str(row["n_gallery"]),
                      str(row["n_probe"]), str(row["n_probe_unknown"]),
                      str(row["fail_to_detect"]))
    console.print(table)
    payload = dict(results[models[0]])
    if limit is not None:
        payload["limit"] = limit
    if len(models) > 1:
        payload["candidates"] = results
    _write_json(json_out, payload)


@eval_app.command("smile")
def smile(
    data: Path = typer.Option(..., "--data", help="Folder with smile/ and nonsmile/ subfolders."),
    json_out: Path = JSON_OPT,
    scorer: str = typer.Option("", "--scorer", help="mediapipe (default), fer_emotion or "
                               "fr_expression; several with commas."),
    threshold: float | None = typer.Option(
        None, help="Decision threshold; default: the scorer's shipped one (0.5 if none)."),
    limit: int | None = typer.Option(None, "--limit", min=1,
                                     help=LIMIT_HELP + "images of each class (sorted by name)."),
) -> None:
    """Smile detection: AUC and accuracy at the chosen threshold (no face = scored 0)."""
    from smilepay.adapters.models.smile import DEFAULT_SMILE_SCORER, load_smile_scorer
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.errors import SmilePayError
    from smilepay.evaluation.embeddings import main_face
    from smilepay.evaluation.smile import evaluate_smile
    from smilepay.vision.decode import IMAGE_SUFFIXES, read_image

    names = [s.strip() for s in (scorer or DEFAULT_SMILE_SCORER).split(",") if s.strip()]
    files = [(p, label) for label, sub in ((1, "smile"), (0, "nonsmile"))
             for p in [q for q in sorted((data / sub).glob("*"))
                       if q.suffix.lower() in IMAGE_SUFFIXES][:limit]]
    if not files:
        raise typer.BadParameter(f"expected images in {data}/smile and {data}/nonsmile, got none",
                                 param_hint="--data")
    if limit is not None:
        console.print(f"quick sample (--limit {limit}): {len(files)} images")
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
    for model in scorers:
        close = getattr(model, "close", None)
        if callable(close):
            close()
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
    if limit is not None:
        payload["limit"] = limit
    if len(names) > 1:
        payload["candidates"] = results
    _write_json(json_out, payload)
