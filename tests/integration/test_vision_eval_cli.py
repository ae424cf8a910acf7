"""``smilepay eval verify|identify|smile`` on small real subsets: JSON keys, plot, table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import smilepay.cli.eval_face  # noqa: F401  (registers the commands)
from smilepay.cli.apps import app
from smilepay.config import get_settings
from smilepay.modelstore import load_lock
from support import require

pytestmark = pytest.mark.integration
FAR_KEYS = {"1e-2", "1e-3", "1e-4", "1e-5"}


@pytest.fixture(scope="module", autouse=True)
def models():
    for name in ("yunet", "fr_feature", "face_landmarker"):
        require((get_settings().model_dir / load_lock()[name].filename).is_file(),
                f"model {name} (run `make models`)")


def test_eval_verify_writes_the_documented_json_and_a_plot(data_dir: Path, tmp_path: Path):
    source = data_dir / "protocols" / "verification_pairs.csv"
    require(source.is_file(), f"protocol {source}")
    with source.open() as fh:
        rows = [r for r in csv.DictReader(fh) if r["same"] == "1"][::30]
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path_a", "path_b", "same"])
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "verify.json"
    result = CliRunner().invoke(app, ["eval", "verify", "--data", str(data_dir), "--pairs",
                                      str(pairs), "--model", "fr_feature", "--json", str(out),
                                      "--calibration-dir", str(tmp_path / "cal")])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert {"auc", "eer", "fail_to_detect", "n_genuine", "n_impostor", "tar_at_far",
            "threshold_at_far"} <= set(report)
    assert set(report["tar_at_far"]) == FAR_KEYS == set(report["threshold_at_far"])
    assert report["n_genuine"] == len(rows)
    assert report["n_impostor"] > 10 * len(rows)  # the extra cross-identity impostors
    assert report["auc"] > 0.9
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert f"/ {report['n_impostor']}" in result.output  # impostor support per row
    assert (tmp_path / "cal" / "calibration_fr_feature.json").is_file()


def test_eval_identify_reports_rank1_and_fnir(data_dir: Path, tmp_path: Path):
    with (data_dir / "protocols" / "identification.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    enrolled = {r["identity"] for r in rows if r["role"] == "enrol"
                and r["identity"].startswith("celeba_wild")}
    keep = sorted(enrolled)[:8]
    subset = [r for r in rows if r["identity"] in keep][:40] + [
        r for r in rows if r["role"] == "probe_unknown"][:10]
    protocol = tmp_path / "ident.csv"
    with protocol.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "identity", "role"])
        writer.writeheader()
        writer.writerows(subset)
    out = tmp_path / "identify.json"
    result = CliRunner().invoke(app, ["eval", "identify", "--data", str(data_dir), "--protocol",
                                      str(protocol), "--model", "fr_feature", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report["fnir_at_fpir"]) == {"0.01", "0.1"}
    assert report["rank1"] >= 0.8


def test_eval_smile_reports_auc_and_accuracy(data_dir: Path, tmp_path: Path):
    folder = tmp_path / "smiles"
    for label in ("smile", "nonsmile"):
        (folder / label).mkdir(parents=True)
        for path in sorted((data_dir / "smile_genki4k" / label).glob("*.jpg"))[:12]:
            (folder / label / path.name).symlink_to(path)
    out = tmp_path / "smile.json"
    result = CliRunner().invoke(app, ["eval", "smile", "--data", str(folder), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["auc"] >= 0.85 and 0.0 <= report["accuracy"] <= 1.0
