"""The smile scorer separates smiling from neutral faces on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smilepay.config import get_settings
from smilepay.evaluation.embeddings import main_face
from smilepay.evaluation.metrics import auc
from smilepay.evaluation.smile import SMILE_THRESHOLDS
from smilepay.modelstore import load_lock
from smilepay.vision.decode import read_image
from support import require

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def models():
    for name in ("yunet", "face_landmarker"):
        require((get_settings().model_dir / load_lock()[name].filename).is_file(),
                f"model {name} (run `make models`)")
    from smilepay.adapters.models.smile import MediaPipeSmileScorer
    from smilepay.adapters.models.yunet import YuNetDetector

    scorer = MediaPipeSmileScorer()
    yield YuNetDetector(), scorer
    scorer.close()


def smile_of(path: Path, models) -> float:
    detector, scorer = models
    image = read_image(str(path))
    face = main_face(image, detector)
    assert face is not None, path
    value = scorer.score_smile(image, face)
    return 0.0 if value is None else value


def test_the_genki_subset_separates(data_dir: Path, models):
    folder = data_dir / "smile_genki4k"
    smiling = [smile_of(p, models) for p in sorted((folder / "smile").glob("*.jpg"))[::10]]
    neutral = [smile_of(p, models) for p in sorted((folder / "nonsmile").glob("*.jpg"))[::10]]
    assert len(smiling) >= 40 and len(neutral) >= 40
    assert auc(np.array(smiling), np.array(neutral)) >= 0.95
    threshold = SMILE_THRESHOLDS["mediapipe"]
    correct = sum(s >= threshold for s in smiling) + sum(s < threshold for s in neutral)
    assert correct / (len(smiling) + len(neutral)) >= 0.88


def test_each_person_smiles_more_in_the_smiling_photo(data_dir: Path, models):
    people = sorted(p for p in (data_dir / "smile_pairs").iterdir() if p.is_dir())
    assert people
    for person in people:
        assert smile_of(person / "smile.jpg", models) > smile_of(person / "neutral.jpg",
                                                                 models) + 0.3, person.name
