"""The gallery rebuilt from the template store (``smilepay index rebuild``): after a restore, a
move to another gallery engine, or a database that predates the gallery."""

from __future__ import annotations

from smilepay.domain.tenants import Scope
from smilepay.ports.identity import IdentityStore
from smilepay.services.face_context import FaceContext


def enrolled_scopes(identity: IdentityStore) -> list[Scope]:
    """The scopes holding at least one stored template, in (tenant, mode) order: what a
    gallery's size is summed over (every gallery entry is enrolled with its template)."""
    return [Scope(tenant, live) for tenant, live in sorted(identity.template_counts())]


def rebuild_gallery(fc: FaceContext, scope: Scope) -> int:
    """Make every stored template of ``scope`` searchable again, exactly once: removed from
    the gallery and added back in one transaction (with the template rows, so an erasure
    that commits first leaves nothing behind). The number of templates."""

    def work(tx: object) -> int:
        templates = fc.identity.all_templates(scope, tx=tx)
        fc.gallery.remove(scope, [t.template_id for t in templates], tx=tx)
        entries = [fc.gallery_entry(t, fc.open_vector(t)) for t in templates]
        if entries:
            fc.gallery.add(entries, tx=tx)
        return len(entries)

    return fc.identity.transaction(work)


def unindexed(fc: FaceContext) -> dict[Scope, int]:
    """Scopes whose stored templates outnumber the gallery's (a database that predates the
    gallery, a restore, or another engine chosen): how many are missing. Empty when in step."""
    missing: dict[Scope, int] = {}
    for (tenant, live), stored in fc.identity.template_counts().items():
        scope = Scope(tenant, live)
        gap = stored - fc.gallery.size(scope)
        if gap > 0:
            missing[scope] = gap
    return missing
