"""The gates' retention sweep on SQLite and PostgreSQL: punches past 180 days, boarding records
past 365 days, verifications past 3 years and the templates of staff, passengers and store
customers (no face accepted at a store gate) inactive that long are deleted; everything
younger, or still in use, stays; each tenant space is audited with its counts only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select

from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope

pytestmark = pytest.mark.integration
DAY = 86_400_000
NOW = 1_800_000_000_000
A, B = Scope("ten_ret_a", False), Scope("ten_ret_b", True)


@pytest.fixture(scope="module")
def engine(money_url: str) -> Iterator[Any]:
    from smilepay.adapters.sql.engine import make_engine

    built = make_engine(money_url)
    yield built
    built.dispose()


def scoped(scope: Scope, row_id: str, **values: Any) -> dict[str, Any]:
    return {"id": f"{row_id}_{scope.tenant_id}", "tenant_id": scope.tenant_id,
            "livemode": scope.livemode, **values}


def seed(engine: Any, scope: Scope) -> None:
    from smilepay.adapters.sql import gates_schema as g
    from smilepay.adapters.sql.identity_schema import face_audit

    def punch(row_id: str, staff: str, age_days: int) -> dict[str, Any]:
        at = NOW - age_days * DAY
        return scoped(scope, row_id, idempotency_key=f"{row_id}_{scope.tenant_id}",
                      staff_id=staff, site_id="site_1", kind="in", method="face", at_ms=at,
                      received_at_ms=at, flagged=False)

    def template(row_id: str, subject: str, purpose: Purpose, age_days: int) -> dict[str, Any]:
        return scoped(scope, row_id, subject_id=subject, purpose=purpose.value, model_id="m",
                      rotation_version=1, dim=4, quality=1.0,
                      created_at_ms=NOW - age_days * DAY, key_id="k", nonce=b"0" * 16,
                      ciphertext=b"sealed")

    def departure(row_id: str, closed_days_ago: int) -> dict[str, Any]:
        closes = NOW - closed_days_ago * DAY
        return scoped(scope, row_id, kind="train", name="T", opens_ms=closes - DAY,
                      closes_ms=closes, fare_minor=0)

    def ticket(row_id: str, dep: str, customer: str) -> dict[str, Any]:
        return scoped(scope, row_id, departure_id=f"{dep}_{scope.tenant_id}",
                      customer_id=customer, status="consumed",
                      qr_hash=f"{row_id}_{scope.tenant_id}")

    with engine.begin() as c:
        c.execute(insert(g.punches), [
            punch("pun_old", "stf_gone", 200),  # past 180 days
            punch("pun_new", "stf_here", 10),
        ])
        c.execute(insert(g.gate_templates), [
            template("gtp_gone", "stf_gone", Purpose.ATTENDANCE, 400),  # no punch in 180 d
            template("gtp_here", "stf_here", Purpose.ATTENDANCE, 400),  # punched 10 days ago
            template("gtp_fresh", "stf_new", Purpose.ATTENDANCE, 5),  # enrolled 5 days ago
            template("gtp_pgone", "cus_gone", Purpose.BOARDING, 800),
            template("gtp_phere", "cus_here", Purpose.BOARDING, 800),
            template("gts_gone", "cus_sgone", Purpose.STORE_ENTRY, 400),
            template("gts_here", "cus_shere", Purpose.STORE_ENTRY, 400),
        ])
        c.execute(insert(face_audit), [  # what the store gates decided about these faces
            scoped(scope, f"aud_{name}", kind="store_gate", decision=decision, reasons="",
                   subject_id=subject, at_ms=NOW - days * DAY, values_json="{}")
            for name, subject, decision, days in (
                ("old", "cus_sgone", "accepted", 400),  # last accepted past 365 days
                ("refused", "cus_sgone", "refused", 3),  # a refusal is no use
                ("new", "cus_shere", "accepted", 20))])
        c.execute(insert(g.departures), [departure("dep_old", 400), departure("dep_new", 30)])
        c.execute(insert(g.tickets), [
            ticket("tkt_old", "dep_old", "cus_gone"),  # only on a departure past 365 days
            ticket("tkt_old2", "dep_old", "cus_here"),
            ticket("tkt_new", "dep_new", "cus_here"),
        ])
        c.execute(insert(g.gate_attempts), [
            scoped(scope, "gat_old", departure_id=f"dep_old_{scope.tenant_id}", captured=True,
                   matched=True, method="face", at_ms=NOW - 400 * DAY),
            scoped(scope, "gat_new", departure_id=f"dep_new_{scope.tenant_id}", captured=True,
                   matched=False, method=None, at_ms=NOW - 30 * DAY),
        ])
        c.execute(insert(g.identity_verifications), [
            scoped(scope, f"idv_{name}", customer_id="cus_here", status="verified",
                   document_type="cn_resident_id", country="CHN", number_digest="0" * 64,
                   birth_year=1990, challenge_id="chl_1", created_at_ms=NOW - days * DAY)
            for name, days in (("old", 3 * 365 + 1), ("new", 365))
        ])


def ids(engine: Any, table: Any, scope: Scope) -> set[str]:
    with engine.connect() as c:
        rows = c.execute(select(table.c.id).where((table.c.tenant_id == scope.tenant_id)
                                                  & (table.c.livemode == scope.livemode)))
        return {r[0].removesuffix(f"_{scope.tenant_id}") for r in rows}


def test_the_sweep_deletes_what_is_past_retention_and_keeps_the_rest(engine: Any) -> None:
    from smilepay.adapters.sql import gates_schema as g
    from smilepay.adapters.sql.gates_retention import SqlGatesRetention
    from smilepay.services.gates_retention import sweep_gates

    seed(engine, A)
    seed(engine, B)
    audited: list[tuple[Scope, dict[str, int]]] = []
    report = sweep_gates(SqlGatesRetention(engine), NOW,
                         lambda scope, counts: audited.append((scope, counts)))
    per_scope = {"punches": 1, "attendance_templates": 1, "boarding_records": 3,
                 "boarding_templates": 1, "identity_verifications": 1,
                 "store_entry_templates": 1}
    assert report.deleted == {k: 2 * v for k, v in per_scope.items()}
    assert audited == [(A, per_scope), (B, per_scope)]
    for scope in (A, B):
        assert ids(engine, g.punches, scope) == {"pun_new"}
        assert ids(engine, g.gate_templates, scope) == {"gtp_here", "gtp_fresh", "gtp_phere",
                                                        "gts_here"}
        assert ids(engine, g.tickets, scope) == {"tkt_new"}
        assert ids(engine, g.gate_attempts, scope) == {"gat_new"}
        assert ids(engine, g.departures, scope) == {"dep_old", "dep_new"}  # name no person
        assert ids(engine, g.identity_verifications, scope) == {"idv_new"}
    again = sweep_gates(SqlGatesRetention(engine), NOW, lambda *_: None)
    assert set(again.deleted.values()) == {0}  # nothing left past retention


def test_only_gate_purposes_have_an_inactivity_rule(engine: Any) -> None:
    from smilepay.adapters.sql.gates_retention import SqlGatesRetention

    with pytest.raises(ValueError, match="attendance, boarding or store entry"):
        SqlGatesRetention(engine).purge_inactive_templates(Purpose.IDENTITY_VERIFICATION, NOW)


def test_the_sweep_writes_counts_to_the_face_audit(tmp_path: Any) -> None:
    from facepay_support import build_face_app
    from smilepay.adapters.sql.gates_retention import SqlGatesRetention
    from smilepay.services.gates_retention import face_audit, sweep_gates

    world = build_face_app(tmp_path)
    try:
        scope = Scope(world.keys.tenant_id, livemode=False)
        engine = world.container.store.engine
        seed(engine, scope)
        sweep_gates(SqlGatesRetention(engine), NOW, face_audit(world.face, NOW))
        [entry] = [e for e in world.face.identity.audit_entries(scope)
                   if e["kind"] == "retention"]
        assert entry["decision"] == "deleted" and entry["subject"] is None
        assert entry["values"] == {"punches": 1, "attendance_templates": 1,
                                      "boarding_records": 3, "boarding_templates": 1,
                                      "identity_verifications": 1, "store_entry_templates": 1}
    finally:
        world.close()
