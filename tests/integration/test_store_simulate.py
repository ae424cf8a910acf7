"""A miniature run of ``smilepay store simulate`` through the real broker: the report is
complete, nothing is lost, and nobody is charged for what they did not take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smilepay.cli import _load_command_modules
from smilepay.cli._store_scenarios import scenario_json
from smilepay.cli.apps import app
from store_support import broker_available

pytestmark = pytest.mark.integration


def test_a_small_scenario_runs_end_to_end_and_scores(tmp_path: Path) -> None:
    broker_available()
    scenario = scenario_json("noisy", seed=5)
    scenario.update(duration_s=300, shoppers_per_hour=120, outage_start_s=None, outage_s=0,
                    thefts=1)
    path = tmp_path / "small.json"
    path.write_text(json.dumps(scenario))
    out = tmp_path / "report.json"
    _load_command_modules()
    result = CliRunner().invoke(app, ["store", "simulate", "--scenario", str(path), "--json",
                                      str(out), "--load-events", "2000"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["shoppers"] >= 3
    assert report["score"]["wrong_person_charges"] == 0
    assert report["score"]["precision"] == 1.0
    assert 0.5 < report["score"]["recall"] <= 1.0
    assert report["events"]["lost"] == 0 and report["events"]["rejected_messages"] == 0
    assert report["events"]["committed"] == report["events"]["published_unique"] > 1000
    assert report["exit_latency_ms"]["n"] == report["shoppers"]
    assert report["exits_decided_before_sensors_caught_up"] == 0
    assert report["sustained_load"]["lost"] == 0
    assert report["sustained_load"]["committed"] == 2000
    assert "precision" in result.output
