"""The README documents every ``SMILEPAY_FACE_*`` setting, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from smilepay.config import FaceSettings, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def face_rows() -> dict[str, str]:
    """variable -> default, from the README's tables."""
    rows = re.findall(r"^\| `(SMILEPAY_FACE_[A-Z_]+)` \| ([^|]*) \|", README.read_text(), re.M)
    return {name: default.strip().strip("`") for name, default in rows}


def test_every_face_setting_is_in_the_readme_with_its_default() -> None:
    documented = face_rows()
    expected = {f"SMILEPAY_FACE_{name.upper()}": field.default
                for name, field in FaceSettings.model_fields.items()}
    assert set(documented) == set(expected) | {"SMILEPAY_FACE_STRATEGY"}
    for variable, default in expected.items():
        if default == "":  # a path under var/ chosen at start-up
            assert documented[variable].startswith("var/"), variable
        elif isinstance(default, float):
            assert float(documented[variable]) == default, variable
        else:
            assert documented[variable] == str(default), variable
    assert "face_strategy" in Settings.model_fields
    assert {f"face_{name}" for name in FaceSettings.model_fields} <= set(Settings.model_fields)


def test_the_readme_explains_testing_with_a_recorded_video() -> None:
    text = README.read_text()
    section = text[text.index("## Test with a recorded video"):]
    section = section[: section.index("\n## ", 4)]
    assert "SMILEPAY_FACE_CHALLENGE=smile" in section
    assert "SMILEPAY_FACE_STEP_TIMEOUT_MS=" in section
    assert "random" in section and "--use-file-for-fake-video-capture" in section
