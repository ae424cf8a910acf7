"""Gallery port: the searchable face templates of every tenant, shared by all workers.

One ``Gallery`` serves every scope (tenant + livemode) and every model; a search never crosses
scopes or models. Adapters (``adapters.gallery``): FAISS in process kept exact by a change log
in the SQL database, pgvector (HNSW in PostgreSQL), Milvus.

Transactions: ``add`` and ``remove`` take an optional ``tx``, the caller's open SQL
transaction (a SQLAlchemy ``Connection`` inside ``TransactionRunner`` work): the SQL adapters
write inside it, so enrolment, erasure and the gallery change commit or roll back together.
Without ``tx`` each call is its own transaction. An engine outside the database (Milvus) cannot
join it: it deletes before the caller commits (never the other way round) and adds at once.

Freshness: after ``remove`` returns (and its transaction commits) no search on any worker
returns the template. A worker process of an in-process adapter applies the changes it has
not seen before every search (``catch_up``); ``applied``/``head`` tell how far behind it is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from smilepay.domain.templates import Vector
from smilepay.domain.tenants import Scope

PURPOSES = frozenset({"pay", "verify"})
MAX_K = 1000
MAX_CANDIDATES = 10_000


@dataclass(frozen=True)
class GalleryEntry:
    """One template to make searchable: an L2-normalised vector in the tenant's rotated space."""

    template_id: str
    scope: Scope
    customer_id: str
    model_id: str
    vector: Vector
    purpose: str = "pay"  # "pay": 1:N identification; "verify": 1:1 only (not in ``search``)


@dataclass(frozen=True)
class GalleryMatch:
    """One hit: the template, its owner and the inner product (cosine) with the query."""

    template_id: str
    customer_id: str
    score: float


class Gallery(Protocol):
    @property
    def name(self) -> str:
        """"faiss", "pgvector" or "milvus"."""
        ...

    def add(self, entries: Sequence[GalleryEntry], *, tx: object | None = None) -> None:
        """Make ``entries`` searchable (a template id already present is an error)."""
        ...

    def add_unless_duplicate(self, entry: GalleryEntry, threshold: float, *,
                             tx: object | None = None) -> GalleryMatch | None:
        """Enrolment's duplicate check and add as one step: the best "pay" template of
        another customer in the scope scoring >= ``threshold`` is returned and nothing is
        added; otherwise ``entry`` is added and ``None`` returned. Two enrolments of one face
        racing on two workers cannot both pass (writers serialise on the change log)."""
        ...

    def remove(self, scope: Scope, template_ids: Collection[str], *,
               tx: object | None = None) -> int:
        """Make these templates unsearchable everywhere; the number that were present."""
        ...

    def search(self, scope: Scope, model_id: str, query: Vector, k: int) -> list[GalleryMatch]:
        """Up to ``k`` nearest "pay" templates of ``scope`` and ``model_id``, best first."""
        ...

    def search_among(self, scope: Scope, model_id: str, query: Vector, k: int,
                     template_ids: Collection[str]) -> list[GalleryMatch]:
        """Up to ``k`` nearest among ``template_ids`` only (any purpose), exact, best first."""
        ...

    def size(self, scope: Scope, model_id: str | None = None) -> int:
        """Templates searchable in ``scope`` (of one model when given)."""
        ...

    def catch_up(self) -> int:
        """Apply the changes this worker has not seen yet; how many (0 for shared engines)."""
        ...

    def applied(self) -> int:
        """The last change-log sequence number this worker has applied."""
        ...

    def head(self) -> int:
        """The newest committed change-log sequence number (``head() - applied()`` = lag)."""
        ...

    def close(self) -> None: ...
