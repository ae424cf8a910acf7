"""Input checks every gallery adapter applies (sizes capped, vectors finite and unit length)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, select
from sqlalchemy import table as sql_table

from smilepay.domain.templates import Vector
from smilepay.errors import InvalidInput
from smilepay.ports.gallery import MAX_CANDIDATES, MAX_K, PURPOSES, GalleryEntry

MAX_DIM = 4096
MAX_BATCH = 100_000


def _id_ok(value: str) -> bool:
    return 3 <= len(value) <= 40 and all(c.isalnum() or c == "_" for c in value)


def check_vector(vector: Vector) -> np.ndarray[Any, np.dtype[np.float32]]:
    arr = np.asarray(vector, dtype=np.float32)
    if arr.ndim != 1 or not (1 <= arr.shape[0] <= MAX_DIM):
        raise InvalidInput(f"expected a vector of 1..{MAX_DIM} numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput("expected finite numbers, got NaN or inf")
    norm = float(np.linalg.norm(arr))
    if abs(norm - 1.0) > 1e-3:
        raise InvalidInput(f"expected an L2-normalised vector, got norm {norm:.4f}")
    return arr


def check_entries(entries: Sequence[GalleryEntry]) -> None:
    if len(entries) > MAX_BATCH:
        raise InvalidInput(f"expected at most {MAX_BATCH} entries, got {len(entries)}")
    seen: set[str] = set()
    for e in entries:
        for what, value in (("template", e.template_id), ("customer", e.customer_id),
                            ("tenant", e.scope.tenant_id)):
            if not _id_ok(value):
                raise InvalidInput(f"expected a {what} id of 3..40 letters, digits or _, "
                                   f"got {value!r}")
        if not (1 <= len(e.model_id) <= 80):
            raise InvalidInput(f"expected a model id of 1..80 characters, got {e.model_id!r}")
        if e.purpose not in PURPOSES:
            raise InvalidInput(f"expected a purpose in {sorted(PURPOSES)}, got {e.purpose!r}")
        if e.template_id in seen:
            raise InvalidInput(f"expected distinct template ids, got {e.template_id!r} twice")
        seen.add(e.template_id)
        check_vector(e.vector)


def check_query(query: Vector, k: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    if not (1 <= k <= MAX_K):
        raise InvalidInput(f"expected k in 1..{MAX_K}, got {k}")
    return np.ascontiguousarray(check_vector(query)[None, :])


def check_scope_ids(template_ids: Collection[str]) -> list[str]:
    ids = list(dict.fromkeys(template_ids))
    if len(ids) > MAX_CANDIDATES:
        raise InvalidInput(f"expected at most {MAX_CANDIDATES} template ids, got {len(ids)}")
    for tid in ids:
        if not _id_ok(tid):
            raise InvalidInput(f"expected a template id of 3..40 letters, digits or _, "
                               f"got {tid!r}")
    return ids


def refuse_present(conn: Connection, id_column: Any, template_ids: list[str],
                   table: str | None = None) -> None:
    """``InvalidInput`` when one of ``template_ids`` is in the gallery already (checked before
    the insert, so the caller gets a message, not a retried unique violation)."""
    query = select(id_column).where(id_column.in_(template_ids)).limit(1)
    if table is not None:
        query = query.select_from(sql_table(table))
    found = conn.execute(query).scalar()
    if found is not None:
        raise InvalidInput(f"expected new template ids, got {found!r} already in the gallery")
