"""The face at the store's gates: ``FaceGateIdentifier`` implements ``ports.store.GateIdentifier``.

- **Liveness**: the gate runs the kiosk's challenge (``face_guard.open_owned_challenge`` and
  ``face_frames.add_frame``, the same policy: smile, or the random steps of the terminal's
  capability). The gate sends its camera frames (one every 0.6 s) with the session the first
  answer named, and shows the prompt until the challenge is passed or failed. The session
  belongs to the gate (``gate:<id>``): no other caller can feed or read it.
- **Templates of its own**: store entry is a purpose of its own (``Purpose.STORE_ENTRY``). When
  the customer turns it on (``grant_store_face``), each of their payment templates is opened
  and sealed again under a new id as a ``store_entry`` gate template: a copy, kept apart.
  Erasing the payment face leaves the copy (the gates still know the customer); revoking store
  entry deletes the copy (``services.erase.erase_purpose``) and leaves the payment face.
- **Who**: the passed challenge's probe is compared with the store-entry templates of the
  scope whose customer holds an active ``store_entry`` consent on a text that covers the gates
  (``domain.purposes.STORE_FACE_VERSIONS``), read at every decision (an erased copy or a
  revoked consent is never matched), at the payment's 1:1 threshold. The same applies at the
  entry gate (opens a trip) and the exit gate (names the trip to charge).
- **False match**: the decision-level bound is ``domain.false_match`` at the match's score over
  the number of store-entry templates compared. Above the policy's ``false_match_target`` the
  gate asks for the phone's last four digits (keypad): the candidates are then the customers
  sharing them, and the named customer must be one of them. Still above the target, or the
  digits name nobody matched: not recognised.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import numpy as np

from smilepay.domain.consent import ConsentRequired
from smilepay.domain.false_match import FalseMatch, decision_false_match
from smilepay.domain.identity import (
    AuditValue,
    Candidate,
    Match,
    best_per_customer,
    decide_identity,
)
from smilepay.domain.ids import new_id
from smilepay.domain.purposes import (
    STORE_FACE_VERSIONS,
    Purpose,
    PurposeConsent,
    grant_purpose_consent,
    require_consent,
    store_consent_current,
)
from smilepay.domain.templates import SealedTemplate, Vector
from smilepay.domain.tenants import Scope
from smilepay.errors import Conflict, InvalidInput, NotFound
from smilepay.ports.gallery import GalleryMatch
from smilepay.ports.gates import GatesStore, GateTemplateStore
from smilepay.ports.money import MoneyStore, MoneyTx
from smilepay.ports.store import GateFrame, GateIdentity
from smilepay.services.attendance import passed_probe
from smilepay.services.context import MoneyContext
from smilepay.services.customers import find_customers_by_last4
from smilepay.services.face_context import FaceContext, FrameSession, now_utc
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


class StoreEntryTemplates(GateTemplateStore, Protocol):
    def candidates(self, scope: Scope, versions: Iterable[str]) -> list[tuple[str, str]]:
        """(template id, customer id) of the store-entry templates a gate may compare with:
        their customer holds an active store-entry consent on one of ``versions``."""
        ...


NO_PAYMENT_FACE = ("Enrol your face for payments first: the store's gates use a copy of "
                   "that face.")


def grant_store_face(fc: FaceContext, gates: GatesStore, templates: GateTemplateStore,
                     scope: Scope, customer_id: str, digest: str, now_ms: int
                     ) -> tuple[PurposeConsent, int]:
    """Turn store entry by face on: a grant of the current store-entry text (a grant on an
    older text is renewed), then a copy of each payment template sealed under its own id as a
    ``store_entry`` template (replacing an earlier copy: the current payment face). With no
    payment face and no earlier copy nothing is recorded (``Conflict``). The copies made."""
    payment = fc.identity.templates_of(scope, customer_id)
    kept = templates.ids_for(scope, Purpose.STORE_ENTRY, [customer_id])
    if not payment and not kept:
        raise Conflict(NO_PAYMENT_FACE, param="face")
    try:
        record = require_consent(gates.purpose_consents(scope, customer_id), customer_id,
                                 Purpose.STORE_ENTRY)
        current = store_consent_current(record.version)
    except ConsentRequired:
        current = False
    if not current:
        record = grant_purpose_consent(
            consent_id=new_id("pcon", now_ms), tenant_id=scope.tenant_id,
            customer_id=customer_id, purpose=Purpose.STORE_ENTRY, accepted_digest=digest,
            now=now_utc(now_ms))
        gates.add_purpose_consent(scope, record)
    if not payment:  # erased for payment since: the earlier copy stays the gates' face
        return record, 0
    copies = [fc.seal(scope, customer_id, fc.open_vector(t), t.model_id, t.quality, now_ms)
              for t in payment]
    templates.delete_of(scope, Purpose.STORE_ENTRY, customer_id)
    for copy in copies:
        templates.add(copy, Purpose.STORE_ENTRY)
    fc.audit(scope, "store_face_copy", "accepted", (), customer_id, now_ms,
             {"templates": len(copies), "consent_version": record.version})
    return record, len(copies)


class _Vectors:
    """The store-entry templates' opened vectors by template id (a template never changes;
    ids are never reused). Each decision keeps only the current candidates: an erased copy
    leaves memory at the next decision and is never compared before (membership is read)."""

    def __init__(self, templates: GateTemplateStore,
                 open_vector: Callable[[SealedTemplate], Vector]) -> None:
        self.templates, self.open_vector = templates, open_vector
        self._by_id: dict[str, tuple[str, Vector]] = {}  # id -> (model id, vector)
        self._lock = threading.Lock()

    def search(self, candidates: Sequence[tuple[str, str]], model_id: str, probe: Vector,
               k: int) -> tuple[list[GalleryMatch], int]:
        """The best ``k`` of the candidates of ``model_id`` for ``probe``, and how many were
        compared."""
        with self._lock:
            known = dict(self._by_id)
        missing = [t for t, _ in candidates if t not in known]
        for found in self.templates.get_many(missing):
            known[found.template_id] = (found.model_id, self.open_vector(found))
        current = {t: known[t] for t, _ in candidates if t in known}
        with self._lock:
            self._by_id = current
        pairs = [(t, c) for t, c in candidates
                 if t in current and current[t][0] == model_id
                 and current[t][1].shape == probe.shape]
        if not pairs:
            return [], 0
        matrix = np.stack([current[t][1] for t, _ in pairs]).astype(np.float32)
        scores = matrix @ probe.astype(np.float32)
        order = np.argsort(-scores)[:k]
        return [GalleryMatch(pairs[i][0], pairs[i][1], float(scores[i])) for i in order], \
            len(pairs)


class FaceGateIdentifier:
    """``GateIdentifier`` on the face engine (module docstring)."""

    def __init__(self, fc: FaceContext, gates: GatesStore, templates: StoreEntryTemplates,
                 money_store: MoneyStore, money_ctx: MoneyContext,
                 now_ms: Callable[[], int]) -> None:
        self.fc, self.gates, self.templates, self.now_ms = fc, gates, templates, now_ms
        self.money_store, self.money_ctx = money_store, money_ctx
        self._vectors = _Vectors(templates, fc.open_vector)

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
        members = self.templates.candidates(scope, STORE_FACE_VERSIONS)
        hits, searched = self._vectors.search(members, model_id, probe, policy.search_k)
        candidates = best_per_customer([Candidate(h.template_id, h.score) for h in hits],
                                       {h.template_id: h.customer_id for h in hits})
        threshold, _ = threshold_for(model_id, policy.match_far,
                                     policy.fallback_match_threshold)
        ids = [c.customer_id for c in candidates]
        compared = max(1, searched)
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
