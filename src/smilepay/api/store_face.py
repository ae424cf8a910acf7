"""The face at the store's gates, as the store API wires it (docs/store.md):

- ``build_identifier``: a ``FaceGateIdentifier`` on the container's face context (the gallery
  and session store that bootstrap chose), the identity gates' consent records and the money
  core's customers, built on the store's first face request (models load lazily);
- ``face_answer``: what the gate shows for an identity that is not (yet) a customer;
- ``POST /v1/wallet/store/face_consent``: the wallet grants the ``store_entry`` purpose (the
  text of ``GET /v1/identity/consent_text/store_entry``); revoking is
  ``DELETE /v1/identity/consents/store_entry``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from smilepay.api.auth import container_of
from smilepay.api.built_once import gates_store
from smilepay.api.routes_face import WalletCaller, require_wallet
from smilepay.bootstrap import Container
from smilepay.domain.consent import ConsentRequired
from smilepay.domain.ids import new_id
from smilepay.domain.purposes import Purpose, grant_purpose_consent, require_consent
from smilepay.ports.store import GateIdentifier, GateIdentity
from smilepay.services.store_entry import GateDecision

face_router = APIRouter()

_ANSWERS = {  # state -> (display, reason)
    "collecting": ("Please look at the camera", "face_collecting"),
    "digits_needed": ("Please type the last four digits of your phone", "digits_needed"),
    "not_live": ("Please see staff", "not_live"),
    "no_face": ("Please look at the camera", "no_face"),
    "not_recognised": ("Please see staff", "not_recognised"),
}


def build_identifier(container: Container) -> GateIdentifier:
    from smilepay.bootstrap import face_context_of
    from smilepay.services.store_gate_face import FaceGateIdentifier

    ctx = container.ctx
    return FaceGateIdentifier(face_context_of(container), gates_store(container), container.store,
                              ctx, ctx.clock.now_ms)


def face_answer(found: GateIdentity) -> dict[str, Any]:
    display, reason = _ANSWERS[found.state]
    decision = GateDecision(False, display, reason, message=found.prompt)
    return {"object": "gate_decision", **asdict(decision), "session": found.session}


class FaceConsentIn(BaseModel):
    digest: str = Field(max_length=64)


@face_router.post("/wallet/store/face_consent")
def post_face_consent(body: FaceConsentIn, request: Request,
                      who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    """Grant store entry by face (a purpose of its own): the gates may then name this wallet's
    customer from the payment face template."""
    container = container_of(request)
    gates = gates_store(container)
    now_ms = container.ctx.clock.now_ms()
    try:
        record = require_consent(gates.purpose_consents(who.scope, who.customer_id),
                                 who.customer_id, Purpose.STORE_ENTRY)
    except ConsentRequired:
        record = grant_purpose_consent(
            consent_id=new_id("pcon", now_ms), tenant_id=who.scope.tenant_id,
            customer_id=who.customer_id, purpose=Purpose.STORE_ENTRY,
            accepted_digest=body.digest, now=datetime.fromtimestamp(now_ms / 1000, UTC))
        gates.add_purpose_consent(who.scope, record)
    return {"object": "purpose_consent", "purpose": record.purpose.value,
            "version": record.version, "active": record.active}
