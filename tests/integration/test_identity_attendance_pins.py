"""Guessing staff PINs at a clock terminal (issue #14's PIN/badge fallback) on SQLite and
PostgreSQL, through two app instances on one database (two workers): wrong PINs are counted in
the database per terminal and per site, the 6th wrong one in 15 minutes is refused with 429, a
right PIN during the lock is refused too and punches nothing, another terminal of the site still
works, the window moving on (the injectable clock) lifts the lock, and the manager's PIN at the
approval has the same limit. The lock is audited for the employer; no PIN is in the audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration
T0 = 1_800_000_000_000
WINDOW_S = 15 * 60
TOO_MANY = "Too many wrong PINs. Ask your manager."


@dataclass
class Workers:
    clients: list[TestClient]
    closers: list[Any]
    clock: Any
    secret_key: str
    terminal_keys: list[str]
    tenant_id: str
    engine: Any

    def post(self, worker: int, path: str, body: dict[str, Any], *, merchant: bool = False,
             terminal: int = 0) -> Any:
        key = self.secret_key if merchant else self.terminal_keys[terminal]
        return self.clients[worker].post(f"/v1/identity{path}", json=body,
                                         headers={"Authorization": f"Bearer {key}"})

    def audit(self) -> list[dict[str, Any]]:
        r = self.clients[0].get("/v1/face/audit", params={"limit": 200},
                                headers={"Authorization": f"Bearer {self.secret_key}"})
        assert r.status_code == 200, r.text
        return list(r.json()["data"])


@pytest.fixture(scope="module")
def w(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.api.app import create_app
    from smilepay.bootstrap import build_container, build_face_context
    from smilepay.config import FaceSettings, Settings
    from smilepay.domain.tenants import KeyKind, Scope
    from smilepay.services.context import FixedClock
    from smilepay.services.demo import create_demo_merchant
    from smilepay.services.tenants import create_terminal, issue_api_key

    tmp = tmp_path_factory.mktemp("pins")
    clock = FixedClock(now=T0)
    settings = FaceSettings(challenge="smile", secrets_file=str(tmp / "secrets.json"),
                            index_dir=str(tmp / "index"))
    clients, closers = [], []
    for _ in range(2):  # two workers: own container, engine, face context; one database
        container = build_container(money_url, migrate=False, clock=clock)
        face = build_face_context(SqlIdentityStore(container.store.engine), settings,
                                  app=Settings(var_dir=tmp))
        container.extras["face"] = face
        clients.append(TestClient(create_app(container)))
        closers += [face, container]
    first = closers[1]
    keys = create_demo_merchant(first)
    scope = Scope(keys.tenant_id, livemode=False)

    def second_terminal(tx: Any) -> str:
        terminal = create_terminal(tx, scope, "Back door clock", T0)
        return str(issue_api_key(tx, scope, KeyKind.TERMINAL, T0, terminal.id).raw)

    other_key = first.store.run(second_terminal)
    assert closers[1].store.engine is not closers[3].store.engine  # no shared in-process state
    yield Workers(clients, closers, clock, keys.secret_key, [keys.terminal_key, other_key],
                  keys.tenant_id, first.store.engine)
    for closer in closers:
        closer.close()


def _site(w: Workers, name: str) -> str:
    site = w.post(0, "/sites", {"name": name}, merchant=True).json()["id"]
    for worker, staff in enumerate(({"name": "Ada", "pin": "1234"},
                                    {"name": "Max", "role": "manager", "pin": "8765"})):
        r = w.post(worker, "/staff", {"site": site, **staff}, merchant=True)
        assert r.status_code == 200, r.text
    w.clock.advance_s(WINDOW_S + 1)  # earlier tests' wrong PINs are out of the window
    return site


def _punches(w: Workers, site: str) -> list[Any]:
    from smilepay.adapters.sql.gates_attendance import SqlAttendance
    from smilepay.domain.tenants import Scope

    return SqlAttendance(w.engine).punches_between(Scope(w.tenant_id, False), site, 0,
                                                   w.clock.now + 1)


def _pin(w: Workers, worker: int, site: str, pin: str, key: str, terminal: int = 0) -> Any:
    return w.post(worker, f"/sites/{site}/punches",
                  {"method": "pin", "secret": pin, "idempotency_key": key}, terminal=terminal)


def test_the_sixth_wrong_pin_locks_the_terminal_until_the_window_passes(w: Workers) -> None:
    site = _site(w, "Guessed site")
    for i in range(5):  # five wrong PINs, from both workers
        r = _pin(w, i % 2, site, f"{1000 + i}", f"key-wrong-{i}")
        assert r.status_code == 404, r.text
        w.clock.advance_s(1)
    sixth = _pin(w, 1, site, "1005", "key-wrong-5")
    assert sixth.status_code == 429, sixth.text
    assert sixth.json()["error"]["message"] == TOO_MANY
    assert sixth.json()["error"]["code"] == "rate_limited"
    right = _pin(w, 0, site, "1234", "key-right-locked")  # no oracle: refused like a wrong one
    assert right.status_code == 429 and right.json()["error"]["message"] == TOO_MANY
    assert _punches(w, site) == []
    other = _pin(w, 1, site, "1234", "key-other-terminal", terminal=1)  # the count is per terminal
    assert other.status_code == 200, other.text
    audit = w.audit()
    locks = [e for e in audit if e["kind"] == "clock_pin_lock" and e["subject"] == site]
    assert len(locks) == 1 and locks[0]["decision"] == "locked"
    assert locks[0]["values"]["count"] == "clock_pin_terminal"
    secrets = {"1234", "8765", *(f"{1000 + i}" for i in range(6))}
    assert not [e for e in audit for v in e["values"].values() if str(v) in secrets]
    w.clock.advance_s(WINDOW_S - 10)  # still inside the window of the first wrong PIN
    assert _pin(w, 0, site, "1234", "key-right-still").status_code == 429
    w.clock.advance_s(15)  # the first wrong PINs have left the window
    again = _pin(w, 1, site, "1234", "key-right-after")
    assert again.status_code == 200, again.text
    assert again.json()["manual"] and again.json()["kind"] == "out"
    assert len(_punches(w, site)) == 2  # the other terminal's and this one


def test_the_manager_pin_at_the_approval_has_the_same_limit(w: Workers) -> None:
    site = _site(w, "Approval site")
    punch = _pin(w, 0, site, "1234", "key-approve-me").json()
    assert punch["manual"] and not punch["counts"]
    for i in range(5):
        r = w.post(i % 2, f"/punches/{punch['id']}/approve", {"manager_pin": f"{2000 + i}"})
        assert r.status_code == 404, r.text
    sixth = w.post(0, f"/punches/{punch['id']}/approve", {"manager_pin": "2005"})
    assert sixth.status_code == 429 and sixth.json()["error"]["message"] == TOO_MANY
    right = w.post(1, f"/punches/{punch['id']}/approve", {"manager_pin": "8765"})
    assert right.status_code == 429
    assert [p.approved_by for p in _punches(w, site)] == [None]
    assert _pin(w, 0, site, "1234", "key-pin-while-locked").status_code == 429  # one count
    w.clock.advance_s(WINDOW_S + 1)
    approved = w.post(1, f"/punches/{punch['id']}/approve", {"manager_pin": "8765"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["counts"] and approved.json()["approved_by"] is not None


def test_wrong_badges_count_like_wrong_pins(w: Workers) -> None:
    site = _site(w, "Badge site")
    for i in range(5):
        r = w.post(i % 2, f"/sites/{site}/punches",
                   {"method": "badge", "secret": f"BADGE-{i}", "idempotency_key": f"key-badge-{i}"})
        assert r.status_code == 404, r.text
    assert _pin(w, 0, site, "1234", "key-after-badges").status_code == 429


def test_wrong_pins_at_one_site_lock_all_its_terminals_past_the_site_limit(w: Workers) -> None:
    """Several terminal keys cannot multiply the guesses: the site has its own count (its
    default, 20 per 15 minutes, lowered to 3 here on both workers)."""
    from dataclasses import replace

    from smilepay.services.attendance import Attendance, PinLimits

    site = _site(w, "Many doors")
    containers = [c for c in w.closers if hasattr(c, "extras")]
    kept: list[Attendance] = [c.extras["attendance"] for c in containers]
    try:
        for container, att in zip(containers, kept, strict=True):
            container.extras["attendance"] = replace(att, pin_limits=PinLimits(
                per_terminal=((WINDOW_S * 1000, 5),), per_site=((WINDOW_S * 1000, 3),)))
        for i in range(3):
            assert _pin(w, i % 2, site, f"{3000 + i}", f"key-site-{i}").status_code == 404
        other = _pin(w, 1, site, "1234", "key-site-other", terminal=1)
        assert other.status_code == 429 and other.json()["error"]["message"] == TOO_MANY
        assert _punches(w, site) == []
        locks = [e for e in w.audit() if e["kind"] == "clock_pin_lock" and e["subject"] == site]
        assert [e["values"]["count"] for e in locks] == ["clock_pin_site"]
    finally:
        for container, att in zip(containers, kept, strict=True):
            container.extras["attendance"] = att
