from __future__ import annotations

import pytest

from smilepay import modelstore
from smilepay.errors import ModelMissing


def test_lock_names_every_model_once_with_a_full_sha256() -> None:
    lock = modelstore.load_lock()
    assert {"yunet", "face_landmarker", "fr_feature", "mobilefacenet", "dlib_resnet"} <= set(lock)
    for spec in lock.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert spec.registry in {"pypi", "npm"}


def test_only_the_noncommercial_model_is_optional() -> None:
    optional = {s.name for s in modelstore.load_lock().values() if s.optional}
    assert optional == {"w600k_mbf"}


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelMissing, match="expected a model named"):
        modelstore.model_path("no_such_model")


def test_installed_models_match_their_lock() -> None:
    for spec in modelstore.load_lock().values():
        status = modelstore.verify(spec)
        if status == "missing" and spec.optional:
            continue
        assert status == "ok", f"{spec.name}: {status} ({modelstore.FETCH_HINT})"
