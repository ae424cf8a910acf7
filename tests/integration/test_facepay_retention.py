"""Retention: a face whose consent has gone unused past the consent text's retention period is
erased by ``purge_expired`` (``smilepay purge-expired``), with a deletion receipt; a face used
within the period stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from facepay_support import build_face_app, enrol_from_photos

pytestmark = pytest.mark.integration
DAY_MS = int(timedelta(days=1).total_seconds() * 1000)


def test_faces_past_retention_are_erased_and_recent_ones_stay(
    tmp_path: Path, data_dir: Path
) -> None:
    from smilepay.domain.tenants import Scope
    from smilepay.services.erase import purge_expired

    world = build_face_app(tmp_path)
    try:
        enrol_from_photos(world, data_dir)
        scope = Scope(world.keys.tenant_id, livemode=False)
        now = world.clock.now_ms()
        assert sum(world.face.identity.template_counts().values()) == 1

        assert purge_expired(world.face, now + 364 * DAY_MS) == []
        assert sum(world.face.identity.template_counts().values()) == 1

        receipts = purge_expired(world.face, now + 366 * DAY_MS)
        assert [r.reason for r in receipts] == ["retention_expired"]
        assert receipts[0].template_count == 1
        assert world.face.identity.all_templates(scope) == []
        assert purge_expired(world.face, now + 367 * DAY_MS) == []  # erased once
    finally:
        world.close()
