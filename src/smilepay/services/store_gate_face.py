"""The face at the store's gates: ``FaceGateIdentifier`` implements ``ports.store.GateIdentifier``.

- **Liveness**: the gate runs the kiosk's challenge (``face_guard.open_owned_challenge`` and
  ``face_frames.add_frame``, the same policy: smile, or the random steps of the terminal's
  capability). The gate sends its camera frames (one every 0.6 s) with the session the first
  answer named, and shows the prompt until the challenge is passed or failed. The session
  belongs to the gate (``gate:<id>``): no other caller can feed or read it.
- **Who**: the passed challenge's probe is searched in the gallery (``FaceContext.search``:
  the scope's "pay" templates: store entry reuses the payment template, under a consent of
  its own); only customers holding an active ``store_entry`` purpose consent can be named
  (``GatesStore.with_active_consent``), at the payment's 1:1 threshold.
- **False match**: the face is compared with every template of the scope's gallery, so the
  decision-level bound is ``domain.false_match`` at the match's score over the gallery's size.
  Above the policy's ``false_match_target`` the gate asks for the phone's last four digits
  (keypad): the candidates are then the customers sharing them, and the named customer must be
  one of them. Still above the target, or the digits name nobody matched: not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from smilepay.domain.false_match import FalseMatch, decision_false_match
from smilepay.domain.identity import (
    AuditValue,
    Candidate,
    Match,
    best_per_customer,
    decide_identity,
)
from smilepay.domain.purposes import Purpose
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.gates import GatesStore
from smilepay.ports.money import MoneyStore, MoneyTx
from smilepay.ports.store import GateFrame, GateIdentity
from smilepay.services.attendance import passed_probe
from smilepay.services.context import MoneyContext
from smilepay.services.customers import find_customers_by_last4
from smilepay.services.face_context import FaceContext, FrameSession
from smilepay.services.face_frames import add_frame
from smilepay.services.face_guard import open_owned_challenge
from smilepay.services.face_policy import threshold_for
from smilepay.vision.liveness.types import TerminalCapability

GATE_PURPOSE = "store_gate"
DIGITS_PROMPT = "Please type the last four digits of your phone number"
_DIGITS = re.compile(r"[0-9]{4}")


def gate_bound(rows: Sequence[tuple[float, float]], score: float, compared: int
               ) -> FalseMatch:
    """The decision-level false match of a gate decision at ``score`` among ``compared``."""
    return decision_false_match(rows, score, compared)


class FaceGateIdentifier:
    """``GateIdentifier`` on the face engine (module docstring)."""

    def __init__(self, fc: FaceContext, gates: GatesStore, money_store: MoneyStore,
                 money_ctx: MoneyContext, now_ms: Callable[[], int]) -> None:
        self.fc, self.gates, self.now_ms = fc, gates, now_ms
        self.money_store, self.money_ctx = money_store, money_ctx

    def identify(self, scope: Scope, gate_id: str, frames: Sequence[GateFrame], *,
                 session: str | None = None, digits: str | None = None) -> GateIdentity:
        now = self.now_ms()
        owner = f"gate:{gate_id}"
        if digits is not None and not _DIGITS.fullmatch(digits):
            raise InvalidInput("expected the last four digits of a phone number, got other "
                               "text", param="digits")
        if session is None:
            # rate-limited per gate like a terminal's sessions (an idle gate opens one a
            # challenge's lifetime)
            s = open_owned_challenge(self.fc, scope, GATE_PURPOSE, gate_id, None, owner, now,
                                     TerminalCapability.RGB)
        else:
            s = self.fc.sessions.get(session, owner)
            if s.purpose != GATE_PURPOSE or s.subject_id != gate_id or s.scope != scope:
                raise NotFound("expected an open face session of this gate, got another",
                               param="session")
        prompt = ""
        for frame in frames:
            if s.outcome is not None:
                break
            prompt = add_frame(self.fc, s, frame.image, now, now).message
        if s.last_state == "failed":
            self.fc.sessions.drop(s.challenge_id)
            # nobody stood there (an idle gate's challenge ran out): start again quietly
            return GateIdentity("not_live" if s.good_frames else "no_face", prompt=prompt)
        if s.last_state != "passed":
            return GateIdentity("collecting", session=s.challenge_id, prompt=prompt)
        return self._decide(scope, s, digits, now)

    def _decide(self, scope: Scope, s: FrameSession, digits: str | None,
                now: int) -> GateIdentity:
        found = passed_probe(self.fc, s)
        if found is None:
            self.fc.sessions.drop(s.challenge_id)
            return GateIdentity("not_live")
        probe, model_id = found
        policy = self.fc.policy
        hits = self.fc.search(scope, model_id, probe)
        allowed = self.gates.with_active_consent(scope, Purpose.STORE_ENTRY,
                                                 {h.customer_id for h in hits})
        candidates = best_per_customer(
            [Candidate(h.template_id, h.score) for h in hits if h.customer_id in allowed],
            {h.template_id: h.customer_id for h in hits})
        threshold, _ = threshold_for(model_id, policy.match_far,
                                     policy.fallback_match_threshold)
        ids = [c.customer_id for c in candidates]
        compared = max(1, self.fc.gallery.size(scope, model_id))
        owners: set[str] = set(ids)
        if digits is not None:
            owners, compared = self._digit_owners(scope, digits, ids)
        decision = decide_identity(candidates, threshold, owners)
        values: dict[str, AuditValue] = {
            "gate": s.subject_id, "model_id": model_id, "threshold": round(threshold, 4),
            "candidates": len(candidates), "compared": compared, "digits": digits is not None}
        if not isinstance(decision, Match):
            self.fc.sessions.drop(s.challenge_id)
            self.fc.audit(scope, GATE_PURPOSE, "refused", (decision.reason,), s.subject_id, now,
                          values)
            return GateIdentity("not_recognised")
        bound = gate_bound(self._rows(model_id), decision.score, compared)
        values.update({"score": round(decision.score, 4),
                       "false_match_p": float(f"{bound.probability:.3g}")})
        if bound.probability > policy.false_match_target:
            if digits is None:
                self.fc.audit(scope, GATE_PURPOSE, "digits_needed",
                              ("false_match_above_target",), s.subject_id, now, values)
                return GateIdentity("digits_needed", session=s.challenge_id,
                                    prompt=DIGITS_PROMPT)
            self.fc.sessions.drop(s.challenge_id)
            self.fc.audit(scope, GATE_PURPOSE, "refused", ("false_match_above_target",),
                          s.subject_id, now, values)
            return GateIdentity("not_recognised")
        self.fc.sessions.drop(s.challenge_id)
        self.fc.audit(scope, GATE_PURPOSE, "accepted", (), decision.customer_id, now, values)
        return GateIdentity("recognised", decision.customer_id)

    def _digit_owners(self, scope: Scope, digits: str, ids: list[str]) -> tuple[set[str], int]:
        """Which candidates own a number ending in ``digits``, and how many customers of the
        scope share them (the face is then compared with those only)."""

        def work(tx: MoneyTx) -> tuple[set[str], int]:
            sharing = find_customers_by_last4(tx, self.money_ctx, scope, digits, None)
            return {c.id for c in sharing if c.id in ids}, max(1, len(sharing))

        return self.money_store.run(work, write=False)

    def _rows(self, model_id: str) -> list[tuple[float, float]]:
        from smilepay.vision.calibration import load_table

        try:
            return [(r.far, r.threshold) for r in load_table(model_id).rows]
        except NotFound:  # no table: the 1:1 policy rate at any score (conservative)
            return [(self.fc.policy.match_far, 0.0)]
