"""Identify among a known few: a probe against the templates of a gate's candidates only.

``CandidateMatcher`` is the interface the gates use (attendance: one site's staff; boarding:
one departure's ticket holders). ``SealedTemplateMatcher`` backs it with the gates' sealed
templates: membership comes from the database at every decision (an erased template is never
matched), opened vectors are cached by template id (ids are never reused). The gallery port of
the scale-out work can replace it behind the same interface ("search within a candidate set").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from smilepay.domain.purposes import Purpose
from smilepay.domain.templates import SealedTemplate, Vector
from smilepay.domain.tenants import Scope
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
    def identify(self, scope: Scope, purpose: Purpose, probe: Vector, model_id: str,
                 subject_ids: Sequence[str], threshold: float) -> GateDecision: ...


class SealedTemplateMatcher:
    def __init__(self, templates: GateTemplateStore,
                 open_vector: Callable[[SealedTemplate], Vector], cache_size: int = 200_000):
        self.templates, self.open_vector, self.cache_size = templates, open_vector, cache_size
        self._cache: OrderedDict[str, tuple[str, Vector]] = OrderedDict()  # id -> (model, vec)

    def _vectors(self, template_ids: Sequence[str]) -> dict[str, tuple[str, Vector]]:
        missing = [t for t in template_ids if t not in self._cache]
        for template in self.templates.get_many(missing):
            self._cache[template.template_id] = (template.model_id, self.open_vector(template))
        found = {}
        for t in template_ids:
            if t in self._cache:
                self._cache.move_to_end(t)
                found[t] = self._cache[t]
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return found

    def identify(self, scope: Scope, purpose: Purpose, probe: Vector, model_id: str,
                 subject_ids: Sequence[str], threshold: float) -> GateDecision:
        pairs = self.templates.ids_for(scope, purpose, subject_ids)
        vectors = self._vectors([t for t, _ in pairs])
        usable = [(t, s) for t, s in pairs if t in vectors and vectors[t][0] == model_id]
        if not usable:
            return GateDecision(None, None, 0)
        matrix = np.stack([vectors[t][1] for t, _ in usable])
        scores = matrix @ probe.astype(np.float32)
        order = np.argsort(-scores)
        best = int(order[0])
        best_template, best_subject = usable[best]
        best_score = float(scores[best])
        others = [float(scores[i]) for i in order[1:] if usable[int(i)][1] != best_subject]
        margin = best_score - others[0] if others else 1.0
        if best_score < threshold:
            return GateDecision(None, best_score, len(usable))
        return GateDecision(GateMatch(best_subject, best_template, best_score, threshold, margin),
                            best_score, len(usable))
