"""``smilepay eval document``: document portrait vs live photo, beside live vs live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import eval_app

# shared with eval_face (eval_document_adapt imports them from here)
from smilepay.cli.eval_face import _progress as _progress
from smilepay.cli.eval_face import _write_json as _write_json
from smilepay.cli.eval_face import console as console

METHODS = ("document", "document_restored", "document_vs_matched_live",
           "restored_vs_matched_live")


@eval_app.command("document")
def document(
    data: Path = typer.Option(..., "--data", help="The face data folder (celeba_wild, ...)."),
    json_out: Path = typer.Option(..., "--json", help="Where to write the JSON report."),
    model: str = typer.Option("", "--model", help="Strategy; default: the configured one."),
    sets: str = typer.Option("celeba_wild,glint24,lfw_subset", "--sets",
                             help="Identity sets under --data, comma separated."),
    work: Path | None = typer.Option(None, "--work", help="Rendered documents go here "
                                     "(default: <json dir>/document_work); never the repo."),
    seed: int = typer.Option(0, "--seed", help="Rendering seed."),
    cache: Path | None = typer.Option(None, "--cache", help="Keep embeddings here (npz)."),
    gate: float = typer.Option(0.90, "--gate", help="Quality gate on the page: the minimum "
                               "detector score of the document face (reported separately)."),
    calibration_dir: Path | None = typer.Option(
        None, "--calibration-dir", help="Write calibration_<model>_document.json (page) and "
        "..._document_chip.json here, from the pairs the KYC flow's gates keep."),
) -> None:
    """TAR at FAR 1e-2..1e-5 for rendered document portraits against live photos."""
    from smilepay.adapters.models.pipeline_factory import load_pipeline
    from smilepay.adapters.models.strategies import configured_strategy
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.document import (
        at_threshold,
        calibration_table,
        cross_scores,
        resolution,
        summarise,
    )
    from smilepay.evaluation.document_methods import document_gate, gate_files, product_gate
    from smilepay.evaluation.document_set import detector_scores, find_subjects, render_set
    from smilepay.evaluation.embeddings import EmbeddingCache
    from smilepay.evaluation.plots import plot_verification
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator

    name = model or configured_strategy()
    work_dir = work or json_out.parent / "document_work"
    subjects = find_subjects(data, [s.strip() for s in sets.split(",") if s.strip()])
    detector = YuNetDetector()
    evaluator = StrategyEvaluator(Path("/"), detector, EmbeddingCache(cache))
    with _progress() as progress:
        task = progress.add_task("rendering", total=len(subjects))
        rendered = render_set(subjects, detector, work_dir.resolve(), seed,
                              on_item=lambda: progress.advance(task))
        subjects, live = rendered.pairs_of(subjects)
        paths = rendered.image_paths(subjects, live, restored=True, matched_live=True)
        from smilepay.adapters.models.strategies import strategy_spec

        members = len(strategy_spec(name).members)
        task = progress.add_task("embedding", total=len(paths) * members)
        vectors = evaluator.strategy_vectors(name, paths, lambda: progress.advance(task))
        task = progress.add_task("gating", total=len(rendered.documents))
        gate_scores = detector_scores(rendered.documents, detector,
                                      lambda: progress.advance(task))
        # the KYC flow's own gates: the selfie's (enrolment quality gate, near-frontal) on the
        # live photos, the document's (near-frontal) on each chip and page
        pipeline = load_pipeline(name)

        def analyze(image: Any) -> Any:
            return pipeline.analyze_frame(image, embed=False)

        selfie_paths = sorted({str(p.resolve()) for _, p in live})
        task = progress.add_task("selfie gate", total=len(selfie_paths))
        selfie_gate = gate_files(selfie_paths, lambda im: product_gate(analyze, im),
                                 cache / "product_gate.json" if cache else None,
                                 lambda: progress.advance(task))
        doc_paths = sorted({str(p.resolve()) for p in rendered.chips.values()}
                           | {str(p.resolve()) for p in rendered.documents.values()})
        task = progress.add_task("document gate", total=len(doc_paths))
        doc_gate = gate_files(doc_paths, lambda im: document_gate(analyze, im),
                              cache / "document_gate.json" if cache else None,
                              lambda: progress.advance(task))
        pipeline.close()
    evaluator.cache.save()
    evaluator.close()

    def vec(path: Path) -> Any:
        return vectors[str(path.resolve())]

    live_vectors = [(ident, vec(p)) for ident, p in live]
    matched_vectors = [(ident, vec(rendered.matched_live[p])) for ident, p in live]
    sources = {s.identity: vec(s.source) for s in subjects}
    docs = {i: vec(p) for i, p in rendered.documents.items()}
    restored = {i: vec(p) for i, p in rendered.restored.items()}
    chips = {i: vec(p) for i, p in rendered.chips.items()}
    conditions = {
        "live": cross_scores(sources, live_vectors),
        "chip": cross_scores(chips, live_vectors),
        "document": cross_scores(docs, live_vectors),
        "document_restored": cross_scores(restored, live_vectors),
        "document_vs_matched_live": cross_scores(docs, matched_vectors),
        "restored_vs_matched_live": cross_scores(restored, matched_vectors),
    }
    kept = {i for i, score in gate_scores.items() if score >= gate}
    conditions["live_gated_subset"] = cross_scores(
        {i: v for i, v in sources.items() if i in kept}, live_vectors)
    conditions["document_gated"] = cross_scores(
        {i: v for i, v in docs.items() if i in kept}, live_vectors)
    live_kyc = [(ident, vec(p)) for ident, p in live
                if selfie_gate[str(p.resolve())].passed]
    kyc_docs: dict[str, set[str]] = {}
    for kind, files, probes in (("chip", rendered.chips, chips),
                                ("page", rendered.documents, docs)):
        ok = {i for i, p in files.items() if doc_gate[str(p.resolve())].passed}
        kyc_docs[kind] = ok
        conditions[f"kyc_live_for_{kind}"] = cross_scores(
            {i: v for i, v in sources.items() if i in ok}, live_kyc)
        conditions[f"kyc_{kind}"] = cross_scores(
            {i: v for i, v in probes.items() if i in ok}, live_kyc)
        # the document gate alone (every live photo): what the selfie gate adds
        conditions[f"docgate_live_for_{kind}"] = cross_scores(
            {i: v for i, v in sources.items() if i in ok}, live_vectors)
        conditions[f"docgate_{kind}"] = cross_scores(
            {i: v for i, v in probes.items() if i in ok}, live_vectors)
    report = {k: summarise(v) for k, v in conditions.items()}
    live_threshold = report["live"]["threshold_at_far"]["1e-4"]
    n_impostor = report["live"]["n_impostor"]
    best = max(METHODS, key=lambda m: report[m]["tar_at_far"]["1e-4"])
    payload: dict[str, Any] = {
        "model": name,
        "data": str(data),
        "sets": sets,
        "seed": seed,
        "identities": len(subjects),
        "identities_with_genuine_pairs": sum(1 for s in subjects if s.live),
        "sources_without_face": rendered.no_face,
        "live_photos": len(live),
        "conditions": report,
        "live_threshold_at_1e-4_on_documents": {
            m: at_threshold(conditions[m], live_threshold) for m in ("chip", *METHODS)},
        "best_method_at_1e-4": best,
        "gate": {"min_detector_score": gate, "documents_kept": len(kept),
                 "documents": len(docs),
                 "genuine_identities_kept": sum(1 for s in subjects if s.live
                                                and s.identity in kept)},
        "gap_at_1e-4": {m: report["live"]["tar_at_far"]["1e-4"] - report[m]["tar_at_far"]["1e-4"]
                        for m in ("chip", *METHODS)},
        "resolution_at_1e-4": resolution(n_impostor, 1e-4),
        "kyc_gates": {
            "live_photos": len(live), "live_photos_kept": len(live_kyc),
            "genuine_identities": sum(1 for s in subjects if s.live),
            **{f"{kind}_kept": len(ok) for kind, ok in kyc_docs.items()},
            **{f"{kind}_genuine_identities_kept": sum(1 for s in subjects if s.live
                                                      and s.identity in ok)
               for kind, ok in kyc_docs.items()},
            "gap_at_1e-4": {kind: report[f"kyc_live_for_{kind}"]["tar_at_far"]["1e-4"]
                            - report[f"kyc_{kind}"]["tar_at_far"]["1e-4"]
                            for kind in kyc_docs},
        },
    }
    table = Table(title=f"document vs live: {name}, {len(subjects)} identities, "
                        f"{report['live']['n_genuine']} genuine / {n_impostor} impostor pairs")
    for column in ("condition", "AUC", "TAR@1e-2", "TAR@1e-3", "TAR@1e-4", "TAR@1e-5",
                   "thr@1e-4"):
        table.add_column(column, justify="right")
    for cond, row in report.items():
        tar = row["tar_at_far"]
        table.add_row(cond, f"{row['auc']:.4f}", f"{tar['1e-2']:.3f}", f"{tar['1e-3']:.3f}",
                      f"{tar['1e-4']:.3f}", f"{tar['1e-5']:.3f}",
                      f"{row['threshold_at_far']['1e-4']:.4f}")
    console.print(table)
    console.print(payload["resolution_at_1e-4"])
    png = json_out.with_suffix(".png")
    plot_verification({k: (v.genuine, v.impostor) for k, v in conditions.items()}, png,
                      title=f"document vs live ({name})")
    payload["plot"] = str(png)
    console.print(f"wrote plot {png}")
    _write_json(json_out, payload)
    if calibration_dir is not None:
        from smilepay.vision.calibration import table_filename

        # the KYC flow gates both sides (services/identity_document.py), so its tables are
        # read on pairs gated the same way
        table_json = calibration_table(
            f"{name}_document", conditions["kyc_page"],
            source=f"smilepay eval document --sets {sets} --seed {seed} (kyc_page)")
        table_json["method"] = "kyc_page"
        _write_json(calibration_dir / table_filename(f"{name}_document"), table_json)
        chip_json = calibration_table(
            f"{name}_document_chip", conditions["kyc_chip"],
            source=f"smilepay eval document --sets {sets} --seed {seed} (kyc_chip)")
        chip_json["method"] = "kyc_chip"
        _write_json(calibration_dir / table_filename(f"{name}_document_chip"), chip_json)
