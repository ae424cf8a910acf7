"""Identify among a known few: a probe against the templates of a gate's candidates only.

``CandidateMatcher`` is the interface the gates use (attendance: one site's staff; boarding:
one departure's ticket holders). ``SealedTemplateMatcher`` backs it with the gates' sealed
templates: membership comes from the database at every decision (an erased template is never
matched); opened vectors are kept as rows of one matrix by template id. The gallery port of
the scale-out work can replace it behind the same interface ("search within a candidate set").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

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

    def forget(self, template_ids: Sequence[str]) -> None:
        """Drop erased templates' vectors from memory."""
        ...


class SealedTemplateMatcher:
    """Opens each template once and keeps its vector as a row of one growing matrix (by
    template id: ids are never reused and a template never changes); a decision gathers its
    candidates' rows (a changed candidate set, a ticket used, costs a gather), and the gathered
    vectors of the last few sets are reused as they are (a site's unchanged staff)."""

    def __init__(self, templates: GateTemplateStore,
                 open_vector: Callable[[SealedTemplate], Vector], sets: int = 8):
        self.templates, self.open_vector, self.sets = templates, open_vector, sets
        self._sets: OrderedDict[tuple[str, tuple[str, ...]], tuple[
            list[str], npt.NDArray[np.int64], npt.NDArray[np.float32]]] = OrderedDict()
        self._row: dict[str, int] = {}
        self._models: list[str] = []
        self._subjects: list[str] = []  # by subject number
        self._subject_no: dict[str, int] = {}
        self._owner = np.zeros(0, np.int64)  # row -> subject number
        self._matrix = np.zeros((0, 0), np.float32)
        self._lock = threading.Lock()

    def _append(self, found: list[SealedTemplate]) -> None:
        vectors = [self.open_vector(t) for t in found]
        with self._lock:
            for template, vector in zip(found, vectors, strict=True):
                if template.template_id in self._row:
                    continue
                n = len(self._models)
                if self._matrix.shape[1] not in (0, vector.size):  # another model's size
                    width = max(self._matrix.shape[1], vector.size)
                    grown = np.zeros((self._matrix.shape[0], width), np.float32)
                    grown[:, :self._matrix.shape[1]] = self._matrix
                    self._matrix = grown
                width = max(self._matrix.shape[1], vector.size)
                if n >= self._matrix.shape[0]:
                    grown = np.zeros((max(64, 2 * n), width), np.float32)
                    grown[:n, :self._matrix.shape[1]] = self._matrix[:n]
                    self._matrix = grown
                self._matrix[n, :vector.size] = vector
                self._row[template.template_id] = n
                self._models.append(template.model_id)
                number = self._subject_no.setdefault(template.customer_id, len(self._subjects))
                if number == len(self._subjects):
                    self._subjects.append(template.customer_id)
                if n >= self._owner.size:
                    self._owner = np.concatenate([self._owner,
                                                  np.zeros(max(64, n + 1), np.int64)])
                self._owner[n] = number

    def _gather(self, model_id: str, template_ids: Sequence[str],
                dim: int) -> tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The candidates' ids, subject numbers and vectors (a copy: later growth of the big
        matrix cannot change it)."""
        missing = [t for t in template_ids if t not in self._row]
        if missing:
            self._append(self.templates.get_many(missing))
        with self._lock:
            pairs = [(r, t) for t in template_ids
                     if (r := self._row.get(t)) is not None and self._models[r] == model_id]
            index = np.fromiter((r for r, _ in pairs), dtype=np.int64, count=len(pairs))
            return [t for _, t in pairs], self._owner[index], self._matrix[index, :dim]

    def forget(self, template_ids: Sequence[str]) -> None:
        with self._lock:
            self._sets.clear()
            for t in template_ids:
                row = self._row.pop(t, None)
                if row is not None:
                    self._matrix[row] = 0.0
                    self._models[row] = ""

    def identify(self, probe: Vector, model_id: str, template_ids: Sequence[str],
                 threshold: float) -> GateDecision:
        key = (model_id, tuple(template_ids))
        with self._lock:
            found = self._sets.get(key)
        if found is None:
            found = self._gather(model_id, template_ids, probe.size)
            with self._lock:
                self._sets[key] = found
                while len(self._sets) > self.sets:
                    self._sets.popitem(last=False)
        ids, owners, matrix = found
        if not ids:
            return GateDecision(None, None, 0)
        scores = matrix @ probe.astype(np.float32)
        names = self._subjects
        rows = ids
        best = int(np.argmax(scores))
        best_score = float(scores[best])
        others = scores[owners != owners[best]]
        margin = best_score - float(others.max()) if others.size else 1.0
        if best_score < threshold:
            return GateDecision(None, best_score, len(rows))
        return GateDecision(GateMatch(names[int(owners[best])], ids[best], best_score, threshold,
                                      margin), best_score, len(rows))
