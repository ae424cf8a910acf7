"""``smilepay eval document-adapt``: document-vs-live TAR with test-time flips and an embedding
map from the document to the live domain, cross-validated over disjoint identities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import eval_app
from smilepay.cli.eval_face import _progress, _write_json, console

# (member embedder, fusion weight): the default strategy, and the same with both members
# embedding the mirror image too (fr_feature+flip's weight is fusion_full's).
VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {
    "fusion_fast": (("fr_feature", 10.22), ("mobilefacenet+flip", 7.02)),
    "fusion_fast, flip on both members": (("fr_feature+flip", 10.20),
                                          ("mobilefacenet+flip", 7.02)),
}


@eval_app.command("document-adapt")
def document_adapt(
    data: Path = typer.Option(..., "--data", help="The face data folder (celeba_wild, ...)."),
    json_out: Path = typer.Option(..., "--json", help="Where to write the JSON report."),
    sets: str = typer.Option("celeba_wild,glint24,lfw_subset", "--sets",
                             help="Identity sets under --data, comma separated."),
    work: Path | None = typer.Option(None, "--work", help="Rendered documents (reused when "
                                     "there); default <json dir>/document_work."),
    seed: int = typer.Option(0, "--seed", help="Rendering and fold seed."),
    folds: int = typer.Option(5, "--folds", help="Identity-disjoint folds for the maps."),
    cache: Path | None = typer.Option(None, "--cache", help="Keep embeddings here (npz)."),
) -> None:
    """TAR at FAR 1e-2..1e-5: baseline, flips, and cross-validated document-to-live maps."""
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.document import cross_scores, summarise
    from smilepay.evaluation.document_adapt import cross_validated
    from smilepay.evaluation.document_set import find_subjects, render_set
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.plots import plot_verification
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator
    from smilepay.vision.fusion import fuse_vectors

    work_dir = work or json_out.parent / "document_work"
    subjects = find_subjects(data, [s.strip() for s in sets.split(",") if s.strip()])
    detector = YuNetDetector()
    evaluator = StrategyEvaluator(Path("/"), detector, EmbeddingCache(cache))
    members = sorted({name for spec in VARIANTS.values() for name, _ in spec})
    with _progress() as progress:
        task = progress.add_task("rendering", total=len(subjects))
        rendered = render_set(subjects, detector, work_dir.resolve(), seed,
                              on_item=lambda: progress.advance(task))
        # the live photos of `eval document` (those its renderer could match), same pairs
        subjects, live_paths = rendered.pairs_of(subjects)
        paths = rendered.image_paths(subjects, live_paths)
        task = progress.add_task("embedding", total=len(paths) * len(members))
        tables = {m: evaluator.member_vectors(m, paths, "mediapipe",
                                              lambda: progress.advance(task))
                  for m in members}
    evaluator.cache.save()
    evaluator.close()

    def fused(spec: tuple[tuple[str, float], ...], path: Path) -> Any:
        parts = [tables[name][str(path.resolve())] for name, _ in spec]
        if any(v is None for v in parts):
            return None
        return fuse_vectors([v for v in parts if v is not None], [w for _, w in spec])

    report: dict[str, Any] = {}
    curves: dict[str, Any] = {}
    fold_reports: dict[str, Any] = {}
    for variant, spec in VARIANTS.items():
        live = [(ident, fused(spec, p)) for ident, p in live_paths]
        sources = {s.identity: fused(spec, s.source) for s in subjects}
        rows = {"live": cross_scores(sources, live)}
        for kind, files in (("chip", rendered.chips), ("page", rendered.documents)):
            docs = {i: fused(spec, p) for i, p in files.items()}
            rows[kind] = cross_scores(docs, live)
            adapted = cross_validated(docs, sources, live, folds, seed)
            for method, scores in adapted.scores.items():
                rows[f"{kind}, {method} map (cv)"] = scores
            fold_reports[f"{variant} / {kind}"] = [vars(f) for f in adapted.folds]
        for cond, scores in rows.items():
            report[f"{variant} / {cond}"] = summarise(scores)
            curves[f"{variant} / {cond}"] = (scores.genuine, scores.impostor)
    table = Table(title=f"document vs live, {len(subjects)} identities, {folds} folds")
    for column in ("condition", "AUC", "TAR@1e-2", "TAR@1e-3", "TAR@1e-4", "gap@1e-4"):
        table.add_column(column, justify="right")
    for cond, row in report.items():
        live_tar = report[cond.split(" / ")[0] + " / live"]["tar_at_far"]["1e-4"]
        tar = row["tar_at_far"]
        table.add_row(cond, f"{row['auc']:.4f}", f"{tar['1e-2']:.3f}", f"{tar['1e-3']:.3f}",
                      f"{tar['1e-4']:.3f}", f"{live_tar - tar['1e-4']:+.3f}")
    console.print(table)
    png = json_out.with_suffix(".png")
    plot_verification({k: v for k, v in curves.items() if "page" not in k}, png,
                      title="chip vs live: flips and maps")
    console.print(f"wrote plot {png}")
    _write_json(json_out, {"sets": sets, "seed": seed, "folds": folds,
                           "identities": len(subjects), "conditions": report,
                           "fold_reports": fold_reports, "plot": str(png)})
