"""Cursor pagination parameters: ``limit`` and ``starting_after`` (the last id you saw)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from smilepay.api.schemas import ID_LIMITS


@dataclass(frozen=True)
class Paging:
    limit: int
    starting_after: str | None


def paging(
    limit: int = Query(10, ge=1, le=100),
    starting_after: str | None = Query(None, **ID_LIMITS),
) -> Paging:
    return Paging(limit, starting_after)
