"""Identify among a known few: a probe against the templates of a gate's candidates only.

``CandidateMatcher`` is the interface the gates use (attendance: one site's staff; boarding:
one departure's ticket holders). ``SealedTemplateMatcher`` backs it with the gates' sealed
templates: membership comes from the database at every decision (an erased template is never
matched); opened vectors are cached by template id (ids are never reused and a template never
changes), and the stacked matrix of an unchanged candidate set is reused. The gallery port of
the scale-out work can replace it behind the same interface ("search within a candidate set").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from smilepay.domain.templates import SealedTemplate, Vector
from smilepay.ports.gates import GateTemplateStore

GATE_FAR = 1e-5  # per comparison; among N candidates about N x this per probe


@dataclass(frozen=True)
class GateMatch:
    subject_id: str
    template_id: str
    score: float
    threshold: float
    margin: float  # over the best other subject (1.0 when alone)


@dataclass(frozen=True)
class GateDecision:
    match: GateMatch | None
    best_score: float | None
    candidates: int  # templates compared


class CandidateMatcher(Protocol):
    def identify(self, probe: Vector, model_id: str, template_ids: Sequence[str],
                 threshold: float) -> GateDecision:
        """The best of the candidate templates for ``probe`` (their subjects decide)."""
        ...


class SealedTemplateMatcher:
    """Opens each template once (cached by id) and keeps the stacked matrix of the last few
    candidate sets, so a gate whose candidates did not change pays one matrix product."""

    def __init__(self, templates: GateTemplateStore,
                 open_vector: Callable[[SealedTemplate], Vector], cache_size: int = 200_000,
                 matrices: int = 8):
        self.templates, self.open_vector = templates, open_vector
        self.cache_size, self.matrices = cache_size, matrices
        self._cache: OrderedDict[str, tuple[str, str, Vector]] = OrderedDict()
        self._stacked: OrderedDict[tuple[str, ...], tuple[str, list[str], list[str], Any]] = \
            OrderedDict()

    def _vectors(self, template_ids: Sequence[str]) -> None:
        missing = [t for t in template_ids if t not in self._cache]
        for template in self.templates.get_many(missing):
            self._cache[template.template_id] = (template.model_id, template.customer_id,
                                                 self.open_vector(template))
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _matrix(self, template_ids: Sequence[str],
                model_id: str) -> tuple[list[str], list[str], Any]:
        key = tuple(sorted(template_ids))
        found = self._stacked.get(key)
        if found is not None and found[0] == model_id:
            self._stacked.move_to_end(key)
            return found[1], found[2], found[3]
        self._vectors(key)
        usable = [t for t in key if t in self._cache and self._cache[t][0] == model_id]
        subjects = [self._cache[t][1] for t in usable]
        matrix = np.stack([self._cache[t][2] for t in usable]).astype(np.float32) \
            if usable else np.zeros((0, 1), np.float32)
        self._stacked[key] = (model_id, usable, subjects, matrix)
        while len(self._stacked) > self.matrices:
            self._stacked.popitem(last=False)
        return usable, subjects, matrix

    def identify(self, probe: Vector, model_id: str, template_ids: Sequence[str],
                 threshold: float) -> GateDecision:
        usable, subjects, matrix = self._matrix(template_ids, model_id)
        if not usable:
            return GateDecision(None, None, 0)
        scores = matrix @ probe.astype(np.float32)
        best = int(np.argmax(scores))
        best_score = float(scores[best])
        others = scores[np.asarray(subjects) != subjects[best]] if len(subjects) > 1 \
            else scores[:0]
        margin = best_score - float(others.max()) if others.size else 1.0
        if best_score < threshold:
            return GateDecision(None, best_score, len(usable))
        return GateDecision(GateMatch(subjects[best], usable[best], best_score, threshold,
                                      margin), best_score, len(usable))
