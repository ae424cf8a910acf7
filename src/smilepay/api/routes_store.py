"""The checkout-free store's API (docs/store.md).

- merchant (secret key): stores, gates, devices, slots, catalogue CSV, dashboard, disputes;
- gate terminals (terminal key of the gate's own terminal): entry by code, QR frames or
  face frames, passage counts, exit;
- devices (no API key: every message carries its device's HMAC): the batch event endpoint;
- the wallet (``ws_`` session): entry QR code, trips with lines, disputes, guests, debt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Depends, Request

from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.adapters.store.qr import qr_svg, read_qr_codes
from smilepay.api.auth import container_of, require_secret_key, require_terminal_key
from smilepay.api.routes_face import WalletCaller, require_wallet
from smilepay.api.schemas import check_path_ids
from smilepay.api.store_face import build_identifier, face_answer, face_router
from smilepay.api.store_models import (
    CatalogueIn,
    DecideIn,
    DeviceIn,
    DisputeIn,
    EntryIn,
    EventsIn,
    ExitIn,
    GateIn,
    GuestsIn,
    PassageIn,
    ResolveIn,
    SlotIn,
    StoreIn,
)
from smilepay.api.store_pages import pages
from smilepay.config import get_settings
from smilepay.domain.money_errors import PermissionDenied
from smilepay.domain.store.trips import EntryMethod, TripStatus
from smilepay.errors import InvalidInput, NotFound
from smilepay.ports.store import GateFrame, GateIdentifier, Row, StoreTx
from smilepay.services import store_admin, store_after, store_entry, store_review, store_views
from smilepay.services.phones import DEV_ONLY_MASTER_KEY
from smilepay.services.store_entry import GateDecision, StoreContext
from smilepay.services.store_exit import ExitDecision, decide_exit
from smilepay.services.store_ingest import IngestResult, ingest_messages
from smilepay.services.tenants import Caller

T = TypeVar("T")
# the API under /v1 (every path parameter an id, as the app checks for /v1 routers) and the
# pages at /store/...: one ``router`` for ROUTER_MODULES
api = APIRouter(prefix="/v1", tags=["store"], dependencies=[Depends(check_path_ids)])
api.include_router(face_router)


@dataclass
class StoreRuntime:
    unit: SqlStoreUnit
    sctx: StoreContext
    identifier: GateIdentifier | None  # set by the face engine when it provides one


def runtime(request: Request) -> StoreRuntime:
    container = container_of(request)
    found = container.extras.get("store")
    if not isinstance(found, StoreRuntime):
        settings = get_settings()
        master = base64.b64decode(settings.phone_key) if settings.phone_key \
            else DEV_ONLY_MASTER_KEY
        key = hashlib.sha256(b"smilepay/store/entry-codes\x00" + master).digest()
        identifier = cast(GateIdentifier | None, container.extras.get("gate_identifier"))
        found = StoreRuntime(SqlStoreUnit(container.store.engine),
                             StoreContext(container.ctx, key), identifier)
        container.extras["store"] = found
    return found


def _frames(encoded: list[str]) -> list[bytes]:
    try:
        return [base64.b64decode(f, validate=True) for f in encoded]
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("expected base64 images in frames, got other text",
                           param="frames") from exc


def _face(rt: StoreRuntime, request: Request, caller: Caller, gate_id: str) -> GateIdentifier:
    """The gate's identifier, once the gate is known to be the caller's (before any face
    work): bootstrap's ``gate_identifier`` when it registers one, else built here on the
    first face request."""
    rt.unit.run(lambda tx: _gate_for(tx, caller, gate_id), write=False)
    if rt.identifier is None:
        rt.identifier = build_identifier(container_of(request))
    return rt.identifier


def _gate_for(tx: StoreTx, caller: Caller, gate_id: str) -> Row:
    gate = tx.one("gates", id=gate_id, tenant_id=caller.scope.tenant_id,
                  livemode=caller.scope.livemode)
    if gate is None:
        raise NotFound("expected a gate id, got an unknown one", param="gate")
    if caller.terminal_id is not None and caller.terminal_id != gate["terminal_id"]:
        raise PermissionDenied("expected the gate's own terminal key, got another terminal's")
    return gate


def _at_gate(rt: StoreRuntime, caller: Caller, gate_id: str, work: Callable[[StoreTx], T]
             ) -> T:
    """``work`` in one transaction with the check that the caller may drive this gate."""

    def checked(tx: StoreTx) -> T:
        _gate_for(tx, caller, gate_id)
        return work(tx)

    return rt.unit.run(checked)


def _decision(d: GateDecision) -> dict[str, Any]:
    return {"object": "gate_decision", **asdict(d)}


def _exit_view(decided: tuple[ExitDecision, Row]) -> dict[str, Any]:
    d, store = decided  # the store: its name and currency on the receipt
    return {"object": "gate_decision", "open": d.open, "display": d.display,
            "reason": d.reason, "trip": store_views.trip_view(d.trip, d.lines, store),
            "review": d.review}


def _exit_in_store(tx: StoreTx, rt: StoreRuntime, caller: Caller, gate_id: str,
                   trip_id: str) -> tuple[ExitDecision, Row]:
    decided = decide_exit(tx, rt.sctx, caller.scope, gate_id, trip_id)
    return decided, store_admin.get_store(tx, caller.scope, decided.trip["store_id"])


@api.post("/stores")
def post_store(body: StoreIn, request: Request,
               caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.create_store(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), name=body.name, currency=body.currency,
        entry_hold_minor=body.entry_hold_minor,
        auto_refund_max_minor=body.auto_refund_max_minor))


@api.post("/stores/{store_id}/gates")
def post_gate(store_id: str, body: GateIn, request: Request,
              caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.add_gate(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), store_id, kind=body.kind,
        terminal_id=body.terminal))


@api.post("/stores/{store_id}/devices")
def post_device(store_id: str, body: DeviceIn, request: Request,
                caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """The device's ``secret`` is in this answer only: it signs the device's messages."""
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.add_device(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), store_id, kind=body.kind,
        zone=body.zone))


@api.post("/stores/{store_id}/devices/{device_id}/rotate_secret")
def post_rotate_device_secret(store_id: str, device_id: str, request: Request,
                              caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """A new ``secret`` for the device, in this answer only; the old one is refused from now
    on (load the new one into the device, then its messages are accepted again)."""
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.rotate_device_secret(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), store_id, device_id))


@api.post("/stores/{store_id}/devices/{device_id}/revoke")
def post_revoke_device(store_id: str, device_id: str, request: Request,
                       caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """The device's messages are refused from now on (a lost or retired device); its secret
    is dropped. Add a new device to replace it."""
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.revoke_device(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), store_id, device_id))


@api.post("/stores/{store_id}/slots")
def post_slot(store_id: str, body: SlotIn, request: Request,
              caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_admin.add_slot(
        tx, caller.scope, rt.sctx.money.clock.now_ms(), store_id, device_id=body.device,
        zone=body.zone, gtin=body.gtin))


@api.post("/stores/{store_id}/catalogue", openapi_extra={"x-body-limit": 1 << 20})
def post_catalogue(store_id: str, body: CatalogueIn, request: Request,
                   caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    done = rt.unit.run(lambda tx: store_admin.import_catalogue(tx, caller.scope, store_id,
                                                                 body.csv))
    return {"object": "catalogue_import", **asdict(done)}


@api.get("/stores/{store_id}/dashboard")
def get_dashboard(store_id: str, request: Request,
                  caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_views.dashboard(
        tx, caller.scope, store_id, rt.sctx.money.clock.now_ms()), write=False)


@api.post("/store_disputes/{dispute_id}/decide")
def post_decide(dispute_id: str, body: DecideIn, request: Request,
                caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_after.decide_dispute(
        tx, rt.sctx, caller.scope, dispute_id, approve=body.approve))


@api.post("/store_review/{item_id}/resolve")
def post_resolve(item_id: str, body: ResolveIn, request: Request,
                 caller: Caller = Depends(require_secret_key)) -> dict[str, Any]:
    """Staff charge a review item to its trip's customer, or drop it."""
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_review.resolve_review(tx, rt.sctx, caller.scope, item_id,
                                                             charge=body.charge))


@api.post("/store_gates/{gate_id}/entry", openapi_extra={"x-body-limit": 8 << 20})
def post_entry(gate_id: str, body: EntryIn, request: Request,
               caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    """Entry by a code (typed by staff), or by frames: a QR code in them, else the face."""
    rt = runtime(request)
    code = body.code
    frames = _frames(body.frames)
    if code is None:
        found = [text for frame in frames for text in read_qr_codes(frame)]
        code = next((t for t in found if t.startswith("SP1.")), None)
    if code is not None:
        entry_code = code
        return _decision(_at_gate(rt, caller, gate_id, lambda tx: store_entry.enter_with_code(
            tx, rt.sctx, caller.scope, gate_id, entry_code)))
    if not frames and body.session is None:
        raise InvalidInput("expected a code or frames, got neither", param="code")
    face = _face(rt, request, caller, gate_id).identify(
        caller.scope, gate_id, [GateFrame(f) for f in frames], session=body.session,
        digits=body.digits)
    if face.customer_id is None:
        return face_answer(face)
    customer = face.customer_id
    return _decision(_at_gate(rt, caller, gate_id, lambda tx: store_entry.authorise_entry(
        tx, rt.sctx, caller.scope, gate_id, customer, EntryMethod.FACE)))


@api.post("/store_gates/{gate_id}/passage")
def post_passage(gate_id: str, body: PassageIn, request: Request,
                 caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    rt = runtime(request)
    row = _at_gate(rt, caller, gate_id, lambda tx: store_entry.gate_passage(
        tx, rt.sctx, caller.scope, gate_id, body.trip, body.people_seen))
    return store_views.trip_view(row)


@api.post("/store_gates/{gate_id}/exit", openapi_extra={"x-body-limit": 8 << 20})
def post_exit(gate_id: str, body: ExitIn, request: Request,
              caller: Caller = Depends(require_terminal_key)) -> dict[str, Any]:
    """The exit decision for a trip named by the gate (its tracking) or by the face."""
    rt = runtime(request)
    trip_id = body.trip
    if trip_id is None:
        if not (body.frames or body.session):
            raise InvalidInput("expected a trip, or frames, got neither", param="trip")
        found = _face(rt, request, caller, gate_id).identify(caller.scope, gate_id,
                                       [GateFrame(f) for f in _frames(body.frames)],
                                       session=body.session, digits=body.digits)
        if found.customer_id is None:
            return face_answer(found)
        trip_id = _trip_in_store(rt, caller, gate_id, found.customer_id)
        if trip_id is None:
            return _decision(GateDecision(False, "Please see staff", "not_recognised"))
    named = trip_id
    return _exit_view(_at_gate(rt, caller, gate_id, lambda tx: _exit_in_store(
        tx, rt, caller, gate_id, named)))


def _trip_in_store(rt: StoreRuntime, caller: Caller, gate_id: str, customer: str
                   ) -> str | None:
    def work(tx: StoreTx) -> str | None:
        gate = _gate_for(tx, caller, gate_id)
        for trip in tx.rows("trips", store_id=gate["store_id"], customer_id=customer):
            if trip["status"] in (TripStatus.IN_STORE, TripStatus.AUTHORISED, TripStatus.DEBT):
                return str(trip["id"])
        return None

    return rt.unit.run(work, write=False)


@api.post("/store_events", openapi_extra={"x-body-limit": 1 << 20})
def post_events(body: EventsIn, request: Request) -> dict[str, Any]:
    """Integrators without MQTT: the same signed messages, in a batch; each message is
    authenticated by its device's HMAC (docs/store.md)."""
    rt = runtime(request)
    result: IngestResult = ingest_messages(
        rt.unit, [(m.topic, m.payload.encode()) for m in body.messages],
        rt.sctx.money.clock.now_ms())
    return {"object": "store_ingest", **asdict(result)}


@api.post("/wallet/store/entry_code")
def post_entry_code(request: Request, who: WalletCaller = Depends(require_wallet)
                    ) -> dict[str, Any]:
    rt = runtime(request)
    code = rt.unit.run(lambda tx: store_entry.issue_entry_code(tx, rt.sctx, who.scope,
                                                               who.customer_id))
    return {"object": "store_entry_code", "code": code, "svg": qr_svg(code),
            "expires_in_s": store_entry.CODE_TTL_MS // 1000}


@api.get("/wallet/store/trips")
def get_trips(request: Request, who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    rt = runtime(request)
    trips = rt.unit.run(lambda tx: store_views.customer_trips(tx, who.scope, who.customer_id),
                        write=False)
    return {"object": "list", "data": trips}


@api.post("/wallet/store/lines/{line_id}/dispute")
def post_dispute(line_id: str, body: DisputeIn, request: Request,
                 who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    rt = runtime(request)
    return rt.unit.run(lambda tx: store_after.dispute_line(tx, rt.sctx, who.scope,
                                                           who.customer_id, line_id,
                                                           body.reason))


@api.post("/wallet/store/trips/{trip_id}/guests")
def post_guests(trip_id: str, body: GuestsIn, request: Request,
                who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    rt = runtime(request)

    def work(tx: StoreTx) -> Row:
        trip = tx.one("trips", id=trip_id, customer_id=who.customer_id)
        if trip is None:
            raise NotFound(f"expected a trip of yours, got {trip_id!r}", param="trip")
        return store_entry.admit(tx, rt.sctx, who.scope, trip_id, body.guests)

    return store_views.trip_view(rt.unit.run(work))


@api.post("/wallet/store/trips/{trip_id}/pay_debt")
def post_pay_debt(trip_id: str, request: Request,
                  who: WalletCaller = Depends(require_wallet)) -> dict[str, Any]:
    rt = runtime(request)

    def work(tx: StoreTx) -> tuple[ExitDecision, Row]:
        trip = tx.one("trips", id=trip_id, customer_id=who.customer_id)
        if trip is None:
            raise NotFound(f"expected a trip of yours, got {trip_id!r}", param="trip")
        paid = store_after.pay_debt(tx, rt.sctx, who.scope, trip_id)
        return paid, store_admin.get_store(tx, who.scope, trip["store_id"])

    return _exit_view(rt.unit.run(work))


router = APIRouter()
router.include_router(api)
router.include_router(pages)
