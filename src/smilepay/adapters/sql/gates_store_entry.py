"""The store gates' face templates: the ``store_entry`` rows of ``gate_templates`` (copies of a
customer's payment template, sealed under their own ids when the customer turns store entry by
face on) and which of them a gate may compare a face with now.

Membership is read at every gate decision: a template whose owner revoked the consent, or
holds it only on a text version that does not cover the gates, is never a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select

from smilepay.adapters.sql.gates_schema import gate_templates, purpose_consents
from smilepay.adapters.sql.gates_templates import SqlGateTemplates
from smilepay.adapters.sql.scoped_columns import in_scope
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope


class SqlStoreEntryTemplates(SqlGateTemplates):
    def candidates(self, scope: Scope, versions: Iterable[str]) -> list[tuple[str, str]]:
        """(template id, customer id) of the scope's store-entry templates whose customer holds
        an active store-entry consent on one of ``versions``: one indexed read."""
        t, pc = gate_templates, purpose_consents
        wanted = sorted(set(versions))
        consented = exists().where(
            in_scope(pc, scope) & (pc.c.customer_id == t.c.subject_id)
            & (pc.c.purpose == Purpose.STORE_ENTRY.value) & pc.c.revoked_at_ms.is_(None)
            & pc.c.version.in_(wanted))
        rows = self._runner.run(lambda c: c.execute(
            select(t.c.id, t.c.subject_id).where(
                in_scope(t, scope) & (t.c.purpose == Purpose.STORE_ENTRY.value) & consented
            ).order_by(t.c.id)).all(), write=False)
        return [(str(r.id), str(r.subject_id)) for r in rows]
