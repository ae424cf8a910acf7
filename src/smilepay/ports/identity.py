"""Identity ports: where templates live, how they are searched, how they are sealed.

- ``TemplateStore``  the truth: sealed templates by tenant and customer (SQL, in memory).
- ``VectorIndex``    a searchable gallery of one tenant's rotated templates (FAISS, in memory);
                     always rebuildable from the store.
- ``KeyRing``        authenticated encryption with key ids and rotation (AES-GCM).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from smilepay.domain.identity import Candidate
from smilepay.domain.templates import SealedBlob, SealedTemplate, Vector
from smilepay.domain.tenants import Scope


class TemplateStore(Protocol):
    def add_template(self, template: SealedTemplate) -> None: ...

    def templates_of(self, scope: Scope, customer_id: str) -> list[SealedTemplate]: ...

    def all_templates(self, scope: Scope) -> list[SealedTemplate]: ...

    def owners(self, scope: Scope, template_ids: Iterable[str]) -> dict[str, str]:
        """template id -> customer id, for those that exist."""
        ...

    def delete_templates_of(self, scope: Scope, customer_id: str) -> list[str]:
        """Delete every template of a customer; the ids deleted."""
        ...

    def replace_sealed(self, scope: Scope, template_id: str, sealed: SealedBlob) -> None: ...


class VectorIndex(Protocol):
    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def __contains__(self, template_id: object) -> bool: ...

    def add(self, template_ids: Sequence[str], vectors: Sequence[Vector]) -> None: ...

    def remove(self, template_ids: Iterable[str]) -> int:
        """Delete at once; the number actually removed."""
        ...

    def search(
        self, query: Vector, k: int, *, restrict_to: Collection[str] | None = None
    ) -> list[Candidate]:
        """Up to ``k`` candidates, best first; only among ``restrict_to`` when given."""
        ...


class KeyRing(Protocol):
    @property
    def active_key_id(self) -> str: ...

    def seal(self, plaintext: bytes, associated_data: bytes) -> SealedBlob: ...

    def open(self, blob: SealedBlob, associated_data: bytes) -> bytes: ...

    def reseal(self, blob: SealedBlob, associated_data: bytes) -> SealedBlob:
        """Re-encrypt under the active key (after a rotation)."""
        ...
