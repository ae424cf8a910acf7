"""``smilepay eval document-methods``: the product's selfie quality gate on the live side,
JPEG-aware chip handling, and per-domain score normalisation, on the pairs of ``eval
document`` (each row read at its own threshold for FAR 1e-4, beside live vs live on the same
pairs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from smilepay.cli.apps import eval_app
from smilepay.cli.eval_face import _progress, _write_json, console

PARTS = ("gate", "chip", "norm")


@eval_app.command("document-methods")
def document_methods(
    data: Path = typer.Option(..., "--data", help="The face data folder (celeba_wild, ...)."),
    json_out: Path = typer.Option(..., "--json", help="Where to write the JSON report."),
    sets: str = typer.Option("celeba_wild,glint24,lfw_subset", "--sets",
                             help="Identity sets under --data, comma separated."),
    work: Path | None = typer.Option(None, "--work", help="Rendered documents (reused when "
                                     "there); default <json dir>/document_work."),
    seed: int = typer.Option(0, "--seed", help="Rendering seed."),
    cache: Path = typer.Option(..., "--cache", help="Embeddings, chip variants and gate "
                               "results are kept here between runs."),
    parts: str = typer.Option(",".join(PARTS), "--parts", help="Which of gate, chip, norm."),
    cohort_set: str = typer.Option("lfw_subset", "--cohort-set", help="The set whose "
                                   "identities (no live photos) form the normalisation cohorts."),
) -> None:
    """TAR at FAR 1e-2..1e-5 of further document methods beside live vs live."""
    from smilepay.adapters.models.pipeline_factory import load_pipeline
    from smilepay.adapters.models.strategies import strategy_spec
    from smilepay.adapters.models.yunet import YuNetDetector
    from smilepay.evaluation.document import PairScores, cross_scores, summarise
    from smilepay.evaluation.document_methods import (
        CHIP_VARIANTS,
        Cohorts,
        MemberEmbedder,
        chip_vector,
        gate_files,
        normalised_scores,
        product_gate,
    )
    from smilepay.evaluation.document_render import portrait_chip
    from smilepay.evaluation.document_set import find_subjects, render_set
    from smilepay.evaluation.embeddings import EmbeddingCache, alignment_points, main_face
    from smilepay.evaluation.strategy_vectors import StrategyEvaluator
    from smilepay.vision.decode import read_image

    wanted = {p.strip() for p in parts.split(",") if p.strip()}
    name = "fusion_fast"
    spec = strategy_spec(name)
    work_dir = work or json_out.parent / "document_work"
    subjects = find_subjects(data, [s.strip() for s in sets.split(",") if s.strip()])
    detector = YuNetDetector()
    store = EmbeddingCache(cache)
    evaluator = StrategyEvaluator(Path("/"), detector, store)
    report: dict[str, Any] = {}
    rows: dict[str, PairScores] = {}
    with _progress() as progress:
        task = progress.add_task("rendering", total=len(subjects))
        rendered = render_set(subjects, detector, work_dir.resolve(), seed,
                              on_item=lambda: progress.advance(task))
        # the live photos of `eval document` (those its renderer could match), same pairs
        subjects, live_paths = rendered.pairs_of(subjects)
        paths = rendered.image_paths(subjects, live_paths)
        task = progress.add_task("embedding", total=len(paths) * len(spec.members))
        vectors = evaluator.strategy_vectors(name, paths, lambda: progress.advance(task))
        store.save()

        def vec(path: Path) -> Any:
            return vectors[str(path.resolve())]

        live = [(i, vec(p)) for i, p in live_paths]
        sources = {s.identity: vec(s.source) for s in subjects}
        chips = {i: vec(p) for i, p in rendered.chips.items()}
        pages = {i: vec(p) for i, p in rendered.documents.items()}
        rows["live"] = cross_scores(sources, live)
        rows["chip"] = cross_scores(chips, live)
        rows["page"] = cross_scores(pages, live)

        if "gate" in wanted:
            pipeline = load_pipeline(name)
            todo = ([str(p.resolve()) for _, p in live_paths]
                    + [str(s.source.resolve()) for s in subjects])
            task = progress.add_task("product gate", total=len(todo))
            found_gates = gate_files(
                todo, lambda im: product_gate(
                    lambda x: pipeline.analyze_frame(x, embed=False), im),
                cache / "product_gate.json", lambda: progress.advance(task))
            pipeline.close()
            live_ok = [(i, v) for (i, p), (_, v) in zip(live_paths, live, strict=True)
                       if found_gates[str(p.resolve())].passed]
            src_ok = {s.identity for s in subjects
                      if found_gates[str(s.source.resolve())].passed}
            reasons: dict[str, int] = {}
            for _, p in live_paths:
                r = found_gates[str(p.resolve())].reason
                if r:
                    reasons[r] = reasons.get(r, 0) + 1
            kept_ids = {i for i, _ in live_ok}
            report["gate"] = {
                "live_photos": len(live_paths), "live_photos_kept": len(live_ok),
                "identities_with_live": len({i for i, _ in live_paths}),
                "identities_with_live_kept": len(kept_ids),
                "live_refusal_reasons": reasons,
                "sources": len(subjects), "sources_kept": len(src_ok),
                "genuine_sources_kept": len(src_ok & kept_ids)}
            rows["gated selfie: live"] = cross_scores(sources, live_ok)
            rows["gated selfie: chip"] = cross_scores(chips, live_ok)
            rows["gated selfie: page"] = cross_scores(pages, live_ok)
            # and a document portrait that itself was taken to ICAO rules (frontal, sharp):
            # its source photo passes the same gate
            rows["gated selfie + gated source: live"] = cross_scores(
                {i: v for i, v in sources.items() if i in src_ok}, live_ok)
            rows["gated selfie + gated source: chip"] = cross_scores(
                {i: v for i, v in chips.items() if i in src_ok}, live_ok)
            rows["gated selfie + gated source: page"] = cross_scores(
                {i: v for i, v in pages.items() if i in src_ok}, live_ok)

        if "chip" in wanted:
            reader = evaluator.reader()
            members = [evaluator.embedder(m).embed_face for m, _ in spec.members]
            embedder = MemberEmbedder(members, [w for _, w in spec.members])
            variant_vectors: dict[str, dict[str, Any]] = {}
            for variant in CHIP_VARIANTS:
                found = store.table(f"{name}:chip:{variant.name}")
                task = progress.add_task(f"chip: {variant.name}", total=len(rendered.chips))
                for chip_path in rendered.chips.values():
                    key = str(chip_path.resolve())
                    if key not in found:
                        found[key] = chip_vector(read_image(key), variant, detector, reader,
                                                 embedder)
                    progress.advance(task)
                store.save()
                variant_vectors[variant.name] = {i: found[str(c.resolve())]
                                                 for i, c in rendered.chips.items()}
            # diagnostics: the JPEG's cost on the landmarks vs on the pixels
            diag = {k: store.table(f"{name}:chip:diag:{k}")
                    for k in ("clean", "jpeg pixels, clean points", "clean pixels, jpeg points")}
            by_id = {s.identity: s for s in subjects}
            task = progress.add_task("chip: diagnostics", total=len(rendered.chips))
            for ident, chip_path in rendered.chips.items():
                key = str(chip_path.resolve())
                if not all(key in t for t in diag.values()):
                    image = read_image(str(by_id[ident].source))
                    face = main_face(image, detector)
                    jpeg = read_image(key)
                    clean = portrait_chip(image, face.landmarks5) if face is not None else None
                    f_clean = main_face(clean, detector) if clean is not None else None
                    f_jpeg = main_face(jpeg, detector)
                    pts_clean = (alignment_points(clean, f_clean, reader)
                                 if clean is not None and f_clean is not None else None)
                    pts_jpeg = (alignment_points(jpeg, f_jpeg, reader)
                                if f_jpeg is not None else None)
                    diag["clean"][key] = (embedder.embed(clean, pts_clean)
                                          if clean is not None and pts_clean is not None
                                          else None)
                    diag["jpeg pixels, clean points"][key] = (
                        embedder.embed(jpeg, pts_clean) if pts_clean is not None else None)
                    diag["clean pixels, jpeg points"][key] = (
                        embedder.embed(clean, pts_jpeg)
                        if clean is not None and pts_jpeg is not None else None)
                progress.advance(task)
            store.save()
            for variant_name, by_identity in variant_vectors.items():
                rows[f"chip: {variant_name}"] = cross_scores(by_identity, live)
            for k, t in diag.items():
                rows[f"chip diagnostic: {k}"] = cross_scores(
                    {i: t[str(c.resolve())] for i, c in rendered.chips.items()}, live)

    if "norm" in wanted:
        # identities of the set without live photos: a live photo never meets its own
        # identity in a cohort (a probe's own identity is left out by normalised_scores)
        with_live = {i for i, _ in live_paths}
        cohort_ids = {s.identity for s in subjects
                      if s.identity.startswith(cohort_set + "/") and s.identity not in with_live}
        if len(cohort_ids) < 30:
            raise typer.BadParameter(f"expected >= 30 identities without live photos in "
                                     f"{cohort_set}, got {len(cohort_ids)}",
                                     param_hint="--cohort-set")
        live_cohort = {i: v for i, v in sources.items() if i in cohort_ids and v is not None}
        for label, probes in (("live", sources), ("chip", chips), ("page", pages)):
            cohorts = Cohorts(live_cohort, {i: v for i, v in probes.items()
                                            if i in cohort_ids and v is not None})
            for mode in ("t", "z", "s"):
                rows[f"{mode.upper()}-norm: {label}"] = normalised_scores(probes, live, cohorts,
                                                                         mode)
        report["cohorts"] = {"set": cohort_set, "identities": len(cohort_ids)}
    evaluator.close()

    summaries = {k: summarise(v) for k, v in rows.items()}
    baseline = {"live": "live"}
    table = Table(title=f"document methods ({name}); TAR at each row's own FAR threshold")
    for column in ("condition", "genuine", "impostor", "AUC", "TAR@1e-2", "TAR@1e-3",
                   "TAR@1e-4", "TAR@1e-5", "live@1e-4", "gap@1e-4"):
        table.add_column(column, justify="right")
    for cond, row in summaries.items():
        prefix = cond.split(": ")[0] + ": " if ": " in cond else ""
        live_key = (prefix + "live") if prefix and (prefix + "live") in summaries else "live"
        live_tar = summaries[baseline.get(cond, live_key)]["tar_at_far"]["1e-4"]
        tar = row["tar_at_far"]
        row["live_tar_at_1e-4_same_pairs"] = live_tar
        row["gap_at_1e-4"] = live_tar - tar["1e-4"]
        table.add_row(cond, str(row["n_genuine"]), str(row["n_impostor"]), f"{row['auc']:.4f}",
                      f"{tar['1e-2']:.3f}", f"{tar['1e-3']:.3f}", f"{tar['1e-4']:.3f}",
                      f"{tar['1e-5']:.3f}", f"{live_tar:.3f}", f"{live_tar - tar['1e-4']:+.3f}")
    console.print(table)
    report.update({"model": name, "sets": sets, "seed": seed, "identities": len(subjects),
                   "conditions": summaries})
    _write_json(json_out, report)
