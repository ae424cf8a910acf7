"""The face at the store's gates, as the store API wires it (docs/store.md):

- ``build_identifier``: a ``FaceGateIdentifier`` on the container's face context (the session
  store that bootstrap chose), the identity gates' consent records and store-entry templates,
  and the money core's customers, built on the store's first face request (models load
  lazily);
- ``face_answer``: what the gate shows for an identity that is not (yet) a customer;
- ``POST /v1/wallet/store/face_consent``: the wallet grants the ``store_entry`` purpose (the
  text of ``GET /v1/identity/consent_text/store_entry``) and a copy of its payment face
  template is sealed for the gates; revoking is ``DELETE /v1/identity/consents/store_entry``,
  which deletes that copy (the payment face stays; erasing the payment face leaves the copy).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from smilepay.api.auth import container_of
from smilepay.api.built_once import built_once, gates_store
from smilepay.api.routes_face import WalletCaller, face_of, require_wallet
from smilepay.bootstrap import Container
from smilepay.ports.store import GateIdentifier, GateIdentity
from smilepay.services.store_entry import GateDecision
from smilepay.services.store_gate_face import StoreEntryTemplates, grant_store_face

face_router = APIRouter()

_ANSWERS = {  # state -> (display, reason)
    "collecting": ("Please look at the camera", "face_collecting"),
    "digits_needed": ("Please type the last four digits of your phone", "digits_needed"),
    "not_live": ("Please see staff", "not_live"),
    "no_face": ("Please look at the camera", "no_face"),
    "not_recognised": ("Please see staff", "not_recognised"),
}


def store_entry_templates(container: Container) -> StoreEntryTemplates:
    """The container's store-entry templates (``gate_templates`` rows of that purpose)."""
    from smilepay.adapters.sql.gates_store_entry import SqlStoreEntryTemplates

    return built_once(container, "store_entry_templates", lambda: cast(
        StoreEntryTemplates, SqlStoreEntryTemplates(container.store.engine)))


def build_identifier(container: Container) -> GateIdentifier:
    from smilepay.bootstrap import face_context_of
    from smilepay.services.store_gate_face import FaceGateIdentifier

    ctx = container.ctx
    return FaceGateIdentifier(face_context_of(container), gates_store(container),
                              store_entry_templates(container), container.store, ctx,
                              ctx.clock.now_ms)


def face_answer(found: GateIdentity) -> dict[str, Any]:
    display, reason = _ANSWERS[found.state]
    decision = GateDecision(False, display, reason, message=found.prompt)
    return {"object": "gate_decision", **asdict(decision), "session": found.session}


class FaceConsentIn(BaseModel):
    digest: str = Field(max_length=64)


@face_router.post("/wallet/store/face_consent")
def post_face_consent(body: FaceConsentIn, request: Request,
                      who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    """Grant store entry by face (a purpose of its own): a copy of this wallet's payment face
    template is sealed for the store's gates (entry and exit). Again later: the copy is made
    anew from the current payment face; a grant on an older text is renewed."""
    container = container_of(request)
    record, copied = grant_store_face(
        face_of(request), gates_store(container), store_entry_templates(container), who.scope,
        who.customer_id, body.digest, container.ctx.clock.now_ms())
    return {"object": "purpose_consent", "purpose": record.purpose.value,
            "version": record.version, "active": record.active, "templates_copied": copied}
