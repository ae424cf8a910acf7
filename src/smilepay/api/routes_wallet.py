"""/v1/face/wallet/mandates: the customer's standing authorisations (wallet session only).

A mandate lets the merchant's server (secret key) debit this wallet outside the face flow;
without one such a debit is refused with ``mandate_required`` (403). Granting and revoking
are recorded in the face audit; a revoked mandate stays listed as ``revoked``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from smilepay.api.routes_face import WalletCaller, face_of, now_ms, require_wallet
from smilepay.services.mandates import grant_mandate, mandate_view, revoke_mandate

router = APIRouter(prefix="/v1/face/wallet", tags=["face"])
MANDATE_ID = Path(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_]+$")


@router.post("/mandates")
def post_mandate(request: Request, who: WalletCaller = Depends(require_wallet)
                 ) -> dict[str, Any]:
    return mandate_view(grant_mandate(face_of(request), who.scope, who.customer_id,
                                      now_ms(request)))


@router.get("/mandates")
def get_mandates(request: Request, who: WalletCaller = Depends(require_wallet)
                 ) -> dict[str, Any]:
    found = face_of(request).flow.mandates_of(who.scope, who.customer_id)
    return {"object": "list", "url": request.url.path, "has_more": False,
            "data": [mandate_view(m) for m in found]}


@router.delete("/mandates/{mandate_id}")
def delete_mandate(request: Request, mandate_id: str = MANDATE_ID,
                   who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    return mandate_view(revoke_mandate(face_of(request), who.scope, who.customer_id,
                                       mandate_id, now_ms(request)))
