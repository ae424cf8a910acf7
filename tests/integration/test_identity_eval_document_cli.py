"""`smilepay eval document` on three real identities: it renders their documents, scores them
against live photos, writes the JSON report and the plot, and names the plot it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import smilepay.cli.eval_document  # noqa: F401  (registers the command)
from smilepay.cli.apps import app
from support import require

pytestmark = pytest.mark.integration
PEOPLE = ("id07201", "id07206", "id07210")


def test_eval_document_names_the_plot_it_wrote(data_dir: Path, tmp_path: Path) -> None:
    source = data_dir / "celeba_wild"
    require(all((source / p).is_dir() for p in PEOPLE), f"identities {PEOPLE} in {source}")
    folder = tmp_path / "data" / "celeba_wild"
    for person in PEOPLE:
        (folder / person).mkdir(parents=True)
        for path in sorted((source / person).iterdir())[:4]:
            (folder / person / path.name).symlink_to(path)
    out = tmp_path / "out" / "document.json"
    result = CliRunner().invoke(app, ["eval", "document", "--data", str(tmp_path / "data"),
                                      "--sets", "celeba_wild", "--json", str(out)])
    assert result.exit_code == 0, result.output
    png = out.with_suffix(".png")
    assert f"wroteplot{png}" in "".join(result.output.split())  # rich may wrap the path
    assert png.stat().st_size > 10_000
    report = json.loads(out.read_text())
    assert report["plot"] == str(png)
    # the KYC flow's gates: selfies and documents kept, each gated condition beside its live one
    gates = report["kyc_gates"]
    assert 0 < gates["live_photos_kept"] <= gates["live_photos"] == 9
    assert 0 < gates["chip_kept"] <= 3 and 0 < gates["page_kept"] <= 3
    for kind in ("chip", "page"):
        assert (report["conditions"][f"kyc_{kind}"]["n_genuine"]
                == report["conditions"][f"kyc_live_for_{kind}"]["n_genuine"] > 0)


def test_eval_document_adapt_reports_cross_validated_maps_and_names_its_plot(
        data_dir: Path, tmp_path: Path) -> None:
    import smilepay.cli.eval_document_adapt  # noqa: F401  (registers the command)

    source = data_dir / "celeba_wild"
    require(all((source / p).is_dir() for p in PEOPLE), f"identities {PEOPLE} in {source}")
    folder = tmp_path / "data" / "celeba_wild"
    for person in PEOPLE:
        (folder / person).mkdir(parents=True)
        for path in sorted((source / person).iterdir())[:4]:
            (folder / person / path.name).symlink_to(path)
    out = tmp_path / "out" / "adapt.json"
    result = CliRunner().invoke(app, ["eval", "document-adapt", "--data", str(tmp_path / "data"),
                                      "--sets", "celeba_wild", "--folds", "3",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    png = out.with_suffix(".png")
    assert f"wroteplot{png}" in "".join(result.output.split())
    report = json.loads(out.read_text())
    folds = report["fold_reports"]["fusion_fast / chip"]
    assert [f["test_identities"] for f in folds] == [1, 1, 1]  # one identity held out each
    assert all(f["train_pairs"] == 2 for f in folds)
    live = report["conditions"]["fusion_fast / live"]
    for name in ("chip, ridge map (cv)", "page, procrustes map (cv)"):
        row = report["conditions"][f"fusion_fast / {name}"]
        assert (row["n_genuine"], row["n_impostor"]) == (live["n_genuine"], live["n_impostor"])


def test_eval_document_methods_scores_each_method_on_the_baselines_pairs(
        data_dir: Path, tmp_path: Path) -> None:
    """`smilepay eval document-methods --parts gate,chip` on three identities: the product's
    gates report what they kept, and every chip method is scored on the baseline's pairs."""
    import smilepay.cli.eval_document_methods  # noqa: F401  (registers the command)

    source = data_dir / "celeba_wild"
    require(all((source / p).is_dir() for p in PEOPLE), f"identities {PEOPLE} in {source}")
    folder = tmp_path / "data" / "celeba_wild"
    for person in PEOPLE:
        (folder / person).mkdir(parents=True)
        for path in sorted((source / person).iterdir())[:4]:
            (folder / person / path.name).symlink_to(path)
    out = tmp_path / "out" / "methods.json"
    result = CliRunner().invoke(app, ["eval", "document-methods", "--data",
                                      str(tmp_path / "data"), "--sets", "celeba_wild",
                                      "--parts", "gate,chip", "--cache", str(tmp_path / "cache"),
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    gate = report["gate"]
    assert gate["sources"] == 3 and 0 < gate["live_photos_kept"] <= gate["live_photos"] == 9
    base = report["conditions"]["chip: baseline"]
    assert (base["n_genuine"], base["n_impostor"]) == (9, 18)
    methods = [k for k in report["conditions"] if k.startswith("chip: ") and k != "chip: baseline"]
    assert "chip: gaussian 0.5" in methods
    for name in methods:
        row = report["conditions"][name]
        assert (row["n_genuine"], row["n_impostor"]) == (9, 18), name
