"""``make run`` / ``make test`` fetch the non-commercial weights only when they are allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support import require

ROOT = Path(__file__).resolve().parents[2]


def model_commands(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The ``smilepay models`` lines ``make -n models`` would run (nothing is run)."""
    require(shutil.which("make") is not None, "make")
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS", "NONCOMMERCIAL", "MAKEFLAGS"}}
    done = subprocess.run(["make", "-n", "-C", str(ROOT), "models", *args],
                          env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=60, check=True)
    return [line.split("smilepay ", 1)[1].strip() for line in done.stdout.splitlines()
            if "smilepay models" in line]


def test_by_default_make_fetches_only_the_models_smilepay_may_use() -> None:
    assert model_commands() == ["models fetch", "models verify"]


@pytest.mark.parametrize(("args", "env"), [
    ((), {"SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS": "true"}),
    (("SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS=true",), None),
    (("NONCOMMERCIAL=1",), None),
])
def test_allowed_non_commercial_models_are_fetched_too(
    args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    assert model_commands(*args, env=env) == ["models fetch --with-noncommercial",
                                              "models verify --with-noncommercial"]


def test_a_false_setting_fetches_none_of_them() -> None:
    assert model_commands(env={"SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS": "false"}) == [
        "models fetch", "models verify"]
