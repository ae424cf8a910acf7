"""``smilepay eval verify|identify|smile`` on small real subsets: JSON keys, plot, table."""

from __future__ import annotations

import csv
import json
import re
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


def plain(output: str) -> str:
    """The CLI's words without rich's box drawing and line wrapping."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", output).split())


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


def test_eval_verify_names_the_plot_it_wrote(data_dir: Path, tmp_path: Path):
    source = data_dir / "protocols" / "verification_pairs.csv"
    require(source.is_file(), f"protocol {source}")
    with source.open() as fh:
        genuine = [r for r in csv.DictReader(fh) if r["same"] == "1"]
    by_identity = {str(Path(r["path_a"]).parent): r for r in genuine}
    rows = list(by_identity.values())[:3]  # three people: cross-identity impostors exist
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path_a", "path_b", "same"])
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "verify.json"
    result = CliRunner().invoke(app, ["eval", "verify", "--data", str(data_dir), "--pairs",
                                      str(pairs), "--model", "fr_feature", "--json", str(out)])
    assert result.exit_code == 0, result.output
    png = out.with_suffix(".png")
    assert f"wrote plot {png}" in plain(result.output)
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("content", ["", "path_a,path_b,same\n"])
def test_eval_verify_on_a_file_without_pairs_says_so_without_a_traceback(
    data_dir: Path, tmp_path: Path, content: str
):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(content)
    result = CliRunner().invoke(app, ["eval", "verify", "--data", str(data_dir), "--pairs",
                                      str(pairs), "--model", "fr_feature", "--json",
                                      str(tmp_path / "v.json")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    text = plain(result.output)
    assert "--pairs" in text
    assert ("expected at least one pair" in text if content
            else "expected a CSV with columns path_a,path_b,same" in text), text
    assert not (tmp_path / "v.json").exists()


def test_eval_verify_without_impostor_pairs_says_so(data_dir: Path, tmp_path: Path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("path_a,path_b,same\nlfw_subset/a/1.jpg,lfw_subset/a/2.jpg,1\n")
    result = CliRunner().invoke(app, ["eval", "verify", "--data", str(data_dir), "--pairs",
                                      str(pairs), "--json", str(tmp_path / "v.json")])
    assert result.exit_code == 2, result.output
    assert "no impostor (same=0) pair" in plain(result.output)


def test_eval_smile_limit_takes_a_quick_sample(data_dir: Path, tmp_path: Path):
    out = tmp_path / "smile.json"
    result = CliRunner().invoke(app, ["eval", "smile", "--data",
                                      str(data_dir / "smile_genki4k"), "--limit", "3",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["limit"] == 3
    assert "quick sample (--limit 3): 6 images" in result.output
    assert "3 smile, 3 non-smile" in result.output


def test_eval_identify_limit_takes_a_quick_sample(data_dir: Path, tmp_path: Path):
    protocol = data_dir / "protocols" / "identification.csv"
    require(protocol.is_file(), f"protocol {protocol}")
    with protocol.open() as fh:
        rows = list(csv.DictReader(fh))
    first_two: list[str] = []
    for r in rows:
        if r["role"] != "probe_unknown" and r["identity"] not in first_two:
            first_two.append(r["identity"])
    first_two = first_two[:2]
    expected = (sum(r["identity"] in first_two and r["role"] != "probe_unknown" for r in rows)
                + min(2, sum(r["role"] == "probe_unknown" for r in rows)))
    out = tmp_path / "identify.json"
    result = CliRunner().invoke(app, ["eval", "identify", "--data", str(data_dir), "--protocol",
                                      str(protocol), "--model", "fr_feature", "--limit", "2",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["limit"] == 2
    assert report["n_gallery"] == 2
    assert report["n_probe_unknown"] <= 2
    assert f"quick sample (--limit 2): {expected} images" in result.output


def test_a_det_plot_with_perfect_separation_says_so(tmp_path: Path):
    import numpy as np
    from PIL import Image

    from smilepay.vision.liveness.det_plot import write_det_plot

    bona_fide = np.linspace(0.7, 0.99, 50)
    attack = np.linspace(0.01, 0.3, 50)
    path = write_det_plot({"perfect": (bona_fide, attack)}, tmp_path / "det.png", "separated")
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    note = np.all(np.abs(pixels - np.array([0xE3, 0xF5, 0xEC])) <= 3, axis=1).sum()
    assert note > 2_000, "expected the 'perfect separation' note on the chart"
    blue = np.all(np.abs(pixels - np.array([31, 119, 180])) <= 40, axis=1).sum()
    assert blue > 1_000, "expected the curve drawn along the chart's edges, not off the chart"


def test_a_verification_plot_with_perfect_separation_says_so(tmp_path: Path):
    import numpy as np
    from PIL import Image

    from smilepay.evaluation.plots import plot_verification

    genuine = np.linspace(0.6, 0.9, 40)
    impostor = np.linspace(-0.1, 0.3, 400)
    path = plot_verification({"perfect": (genuine, impostor)}, tmp_path / "v.png")
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(int)
    note = np.all(np.abs(pixels - np.array([0xE3, 0xF5, 0xEC])) <= 3, axis=1).sum()
    assert note > 2_000, "expected the 'perfect separation' note on the DET chart"
