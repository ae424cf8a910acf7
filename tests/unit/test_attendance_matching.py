"""The gates' candidate matcher: only the candidates given are searched, a template of another
model is ignored, the margin is over the best other subject, opened vectors are reused."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

from smilepay.domain.purposes import Purpose
from smilepay.domain.templates import SealedBlob, SealedTemplate
from smilepay.domain.tenants import Scope
from smilepay.services.identity_matching import SealedTemplateMatcher


def unit(*values: float) -> np.ndarray:
    v = np.array(values, np.float32)
    return v / np.linalg.norm(v)


class FakeTemplates:
    def __init__(self, rows: dict[str, tuple[str, str, np.ndarray]]) -> None:
        self.rows, self.opened = rows, 0

    def _template(self, tid: str) -> SealedTemplate:
        subject, model, _ = self.rows[tid]
        return SealedTemplate(tid, "ten", False, subject, model, 1, 3, 1.0,
                              datetime(2026, 1, 1, tzinfo=UTC), SealedBlob("k", b"n", tid.encode()))

    def get_many(self, template_ids: Iterable[str]) -> list[SealedTemplate]:
        return [self._template(t) for t in template_ids if t in self.rows]

    def add(self, template: SealedTemplate, purpose: Purpose) -> None:
        raise NotImplementedError

    def ids_for(self, scope: Scope, purpose: Purpose,
                subject_ids: Iterable[str]) -> list[tuple[str, str]]:
        raise NotImplementedError

    def delete_of(self, scope: Scope, purpose: Purpose, subject_id: str) -> list[str]:
        raise NotImplementedError

    def open(self, template: SealedTemplate) -> np.ndarray:
        self.opened += 1
        return self.rows[template.template_id][2]


def matcher() -> tuple[SealedTemplateMatcher, FakeTemplates]:
    store = FakeTemplates({
        "t_a": ("stf_a", "m", unit(1, 0, 0)),
        "t_b": ("stf_b", "m", unit(0.8, 0.6, 0)),
        "t_c": ("stf_c", "m", unit(0, 0, 1)),
        "t_old": ("stf_c", "other_model", unit(1, 0, 0)),
    })
    return SealedTemplateMatcher(store, store.open), store


def test_the_best_candidate_above_the_threshold_with_its_margin() -> None:
    m, _ = matcher()
    found = m.identify(unit(1, 0.05, 0), "m", ["t_a", "t_b", "t_c"], 0.9)
    assert found.match is not None and found.match.subject_id == "stf_a"
    assert found.candidates == 3
    assert found.match.margin == found.match.score - float(unit(0.8, 0.6, 0) @ unit(1, 0.05, 0))


def test_only_the_given_candidates_are_searched() -> None:
    m, _ = matcher()
    found = m.identify(unit(1, 0, 0), "m", ["t_b", "t_c"], 0.9)  # t_a is not at this gate
    assert found.match is None and found.best_score is not None and found.best_score < 0.9


def test_another_models_template_is_ignored() -> None:
    m, _ = matcher()
    found = m.identify(unit(1, 0, 0), "m", ["t_old", "t_c"], 0.5)
    assert found.match is None and found.candidates == 1


def test_opened_vectors_and_the_stacked_set_are_reused() -> None:
    m, store = matcher()
    for _ in range(3):
        m.identify(unit(1, 0, 0), "m", ["t_a", "t_b"], 0.5)
    assert store.opened == 2
    m.identify(unit(1, 0, 0), "m", ["t_a", "t_b", "t_c"], 0.5)
    assert store.opened == 3
    assert m.identify(unit(1, 0, 0), "m", [], 0.5).candidates == 0


def test_a_forgotten_template_is_opened_again_only_if_still_a_candidate() -> None:
    m, store = matcher()
    m.identify(unit(1, 0, 0), "m", ["t_a"], 0.5)
    m.forget(["t_a"])
    del store.rows["t_a"]  # erased from the store too
    found = m.identify(unit(1, 0, 0), "m", ["t_a", "t_c"], 0.5)
    assert found.match is None and found.candidates == 1
