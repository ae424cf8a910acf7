"""Sealed face templates of the gates, one set per purpose (attendance, boarding).

Kept apart from the payment templates: erasing one purpose deletes that purpose's rows only.
The vectors are AES-GCM ciphertext bound to the tenant space, template id and model id, as
for payment templates (``FaceContext.seal``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from smilepay.adapters.sql.engine import TransactionRunner
from smilepay.adapters.sql.gates_schema import gate_templates
from smilepay.adapters.sql.identity_store import from_ms, to_ms
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.purposes import Purpose
from smilepay.domain.templates import SealedBlob, SealedTemplate
from smilepay.domain.tenants import Scope

MAX_IN_CLAUSE = 1000


class SqlGateTemplates:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = TransactionRunner(engine)

    def add(self, template: SealedTemplate, purpose: Purpose) -> None:
        row = {"id": template.template_id, "tenant_id": template.tenant_id,
               "livemode": template.livemode, "subject_id": template.customer_id,
               "purpose": purpose.value, "model_id": template.model_id,
               "rotation_version": template.rotation_version, "dim": template.dim,
               "quality": template.quality, "created_at_ms": to_ms(template.created_at),
               "key_id": template.sealed.key_id, "nonce": template.sealed.nonce,
               "ciphertext": template.sealed.ciphertext}
        self._runner.run(lambda c: c.execute(insert(gate_templates).values(**row)), write=True)

    @staticmethod
    def _template(r: Any) -> SealedTemplate:
        return SealedTemplate(
            template_id=r.id, tenant_id=r.tenant_id, livemode=bool(r.livemode),
            customer_id=r.subject_id, model_id=r.model_id,
            rotation_version=int(r.rotation_version), dim=int(r.dim), quality=float(r.quality),
            created_at=from_ms(r.created_at_ms),  # type: ignore[arg-type]
            sealed=SealedBlob(r.key_id, bytes(r.nonce), bytes(r.ciphertext)))

    def ids_for(self, scope: Scope, purpose: Purpose,
                subject_ids: Iterable[str]) -> list[tuple[str, str]]:
        """(template id, subject id) of these subjects' templates: one indexed read."""
        wanted = list(dict.fromkeys(subject_ids))
        t = gate_templates
        found: list[tuple[str, str]] = []
        for start in range(0, len(wanted), MAX_IN_CLAUSE):
            chunk = wanted[start:start + MAX_IN_CLAUSE]
            rows = self._runner.run(lambda c, chunk=chunk: c.execute(  # type: ignore[misc]
                select(t.c.id, t.c.subject_id).where(
                    in_scope(t, scope) & (t.c.purpose == purpose.value) & t.c.subject_id.in_(chunk)
                )).all(), write=False)
            found += [(str(r.id), str(r.subject_id)) for r in rows]
        return found

    def get_many(self, template_ids: Iterable[str]) -> list[SealedTemplate]:
        wanted = list(template_ids)
        found: list[SealedTemplate] = []
        for start in range(0, len(wanted), MAX_IN_CLAUSE):
            chunk = wanted[start:start + MAX_IN_CLAUSE]
            rows = self._runner.run(lambda c, chunk=chunk: c.execute(  # type: ignore[misc]
                select(gate_templates).where(gate_templates.c.id.in_(chunk))).all(),
                write=False)
            found += [self._template(r) for r in rows]
        return found

    def delete_of(self, scope: Scope, purpose: Purpose, subject_id: str) -> list[str]:
        t = gate_templates

        def work(c: Any) -> list[str]:
            where = (in_scope(t, scope) & (t.c.purpose == purpose.value)
                     & (t.c.subject_id == subject_id))
            ids = [str(r.id) for r in c.execute(select(t.c.id).where(where)).all()]
            c.execute(delete(t).where(where))
            return ids
        return self._runner.run(work, write=True)
