"""Setting a store up: the store, its gates (each tied to a terminal), devices with their own
secrets (sealed at rest; rotated or revoked here), shelf slots, and the catalogue imported
from CSV."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smilepay.domain.ids import new_id
from smilepay.domain.money import check_amount_minor, parse_currency
from smilepay.domain.store.catalogue import Product, parse_catalogue_csv
from smilepay.domain.store.errors import DeviceAuthFailed
from smilepay.domain.store.sgtin import check_gtin14
from smilepay.domain.tenants import Scope, Terminal
from smilepay.errors import Conflict, InvalidInput, NotFound
from smilepay.ports.store import Row, StoreTx
from smilepay.services import store_device_secrets as device_secrets

DEVICE_KINDS = ("rfid", "shelf", "presence", "camera")
GATE_KINDS = ("entry", "exit")
_ZONE = re.compile(r"[a-z0-9_-]{1,40}")


def _zone(zone: str) -> str:
    if not _ZONE.fullmatch(zone):
        raise InvalidInput("expected a zone of 1..40 of a-z 0-9 _ -, got another value",
                           param="zone")
    return zone


def _name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 120 or not clean.isprintable():
        raise InvalidInput("expected a name of 1..120 printable chars, got another value",
                           param="name")
    return clean


def get_store(tx: StoreTx, scope: Scope, store_id: str) -> Row:
    store = tx.one("stores", id=store_id, tenant_id=scope.tenant_id, livemode=scope.livemode)
    if store is None:
        raise NotFound("expected a store id, got an unknown one", param="store")
    return store


def create_store(tx: StoreTx, scope: Scope, now_ms: int, *, name: str, currency: str,
                 entry_hold_minor: int, auto_refund_max_minor: int = 0) -> Row:
    check_amount_minor(entry_hold_minor, param="entry_hold_minor")
    if isinstance(auto_refund_max_minor, bool) or not isinstance(auto_refund_max_minor, int) \
            or auto_refund_max_minor < 0:
        raise InvalidInput("expected auto_refund_max_minor >= 0, got another value",
                           param="auto_refund_max_minor")
    row = {"id": new_id("st", now_ms), "tenant_id": scope.tenant_id, "livemode": scope.livemode,
           "name": _name(name), "currency": parse_currency(currency),
           "entry_hold_minor": entry_hold_minor, "auto_refund_max_minor": auto_refund_max_minor,
           "created_at_ms": now_ms}
    tx.insert("stores", row)
    return row


def add_gate(tx: StoreTx, scope: Scope, now_ms: int, store_id: str, *, kind: str,
             terminal_id: str) -> Row:
    get_store(tx, scope, store_id)
    if kind not in GATE_KINDS:
        raise InvalidInput(f"expected a gate kind in {GATE_KINDS}, got another value", param="kind")
    if tx.money.get(Terminal, terminal_id, scope) is None:
        raise NotFound("expected a terminal id, got an unknown one", param="terminal")
    row = {"id": new_id("gate", now_ms), "tenant_id": scope.tenant_id,
           "livemode": scope.livemode, "store_id": store_id, "kind": kind,
           "terminal_id": terminal_id, "created_at_ms": now_ms}
    tx.insert("gates", row)
    return row


def add_device(tx: StoreTx, scope: Scope, now_ms: int, store_id: str, *, kind: str,
               zone: str) -> Row:
    """A device with its own secret (returned here once: it signs the device's messages). The
    row keeps it sealed (``services.store_device_secrets``), never in clear."""
    get_store(tx, scope, store_id)
    if kind not in DEVICE_KINDS:
        raise InvalidInput(f"expected a device kind in {DEVICE_KINDS}, got another value",
                           param="kind")
    row = {"id": new_id("dev", now_ms), "tenant_id": scope.tenant_id,
           "livemode": scope.livemode, "store_id": store_id, "kind": kind, "zone": _zone(zone),
           "last_seen_ms": now_ms, "watermark_ms": None, "silent_alerted": False,
           "revoked_at_ms": None, "created_at_ms": now_ms}
    secret = device_secrets.new_device_secret()
    tx.insert("devices", {**row, **device_secrets.sealed_columns(tx.device_keys, row, secret)})
    return {**row, "secret": secret}


def get_device(tx: StoreTx, scope: Scope, store_id: str, device_id: str, *,
               for_update: bool = False) -> Row:
    get_store(tx, scope, store_id)
    device = tx.one("devices", for_update=for_update, id=device_id, store_id=store_id,
                    tenant_id=scope.tenant_id, livemode=scope.livemode)
    if device is None:
        raise NotFound("expected a device of this store, got an unknown one", param="device")
    return device


def rotate_device_secret(tx: StoreTx, scope: Scope, now_ms: int, store_id: str,
                         device_id: str) -> Row:
    """A new secret for an active device (returned here once); the old one signs nothing from
    the moment this commits."""
    device = get_device(tx, scope, store_id, device_id, for_update=True)
    if device["revoked_at_ms"] is not None:
        raise Conflict("expected an active device, got a revoked one (add a new device)",
                       param="device")
    secret = device_secrets.new_device_secret()
    tx.update("devices", {"id": device_id},
              device_secrets.sealed_columns(tx.device_keys, device, secret))
    device_secrets.forget(device_id)
    return {**device_secrets.public_view(device), "secret": secret}


def revoke_device(tx: StoreTx, scope: Scope, now_ms: int, store_id: str, device_id: str
                  ) -> Row:
    """The device's messages are rejected from the moment this commits; its sealed secret is
    dropped (revoking again changes nothing)."""
    device = get_device(tx, scope, store_id, device_id, for_update=True)
    if device["revoked_at_ms"] is None:
        device = {**device, **device_secrets.no_secret(), "revoked_at_ms": now_ms}
        tx.update("devices", {"id": device_id},
                  {**device_secrets.no_secret(), "revoked_at_ms": now_ms})
    device_secrets.forget(device_id)
    return device_secrets.public_view(device)


@dataclass(frozen=True)
class Resealed:
    moved: int  # secrets now under the active key
    unopened: list[str]  # devices whose sealed secret did not open (left as they were)


def reseal_device_secrets(tx: StoreTx) -> Resealed:
    """After a key ring ``rotate``: move every active device's secret sealed under an older
    key to the active one (run before that key is retired). A secret that does not open
    (tampered, or sealed by another key ring) is left alone and named in ``unopened``."""
    moved, unopened = 0, []
    for device in tx.rows("devices", revoked_at_ms=None):
        try:
            columns = device_secrets.reseal(tx.device_keys, device)
        except DeviceAuthFailed:
            unopened.append(device["id"])
            continue
        if columns is not None:
            tx.update("devices", {"id": device["id"]}, columns)
            device_secrets.forget(device["id"])
            moved += 1
    return Resealed(moved, unopened)


def add_slot(tx: StoreTx, scope: Scope, now_ms: int, store_id: str, *, device_id: str,
             zone: str, gtin: str) -> Row:
    get_store(tx, scope, store_id)
    device = tx.one("devices", id=device_id, store_id=store_id)
    if device is None or device["kind"] != "shelf" or device["revoked_at_ms"] is not None:
        raise NotFound("expected an active shelf device of this store, got an unknown one",
                       param="device")
    gtin = check_gtin14(gtin)
    if tx.one("products", store_id=store_id, gtin=gtin) is None:
        raise NotFound(f"expected a GTIN in the store's catalogue, got {gtin}", param="gtin")
    row = {"id": new_id("slot", now_ms), "tenant_id": scope.tenant_id,
           "livemode": scope.livemode, "store_id": store_id, "device_id": device_id,
           "zone": _zone(zone), "gtin": gtin, "created_at_ms": now_ms}
    tx.insert("slots", row)
    return row


@dataclass(frozen=True)
class CatalogueImport:
    added: int
    updated: int


def import_catalogue(tx: StoreTx, scope: Scope, store_id: str, csv_data: bytes | str
                     ) -> CatalogueImport:
    """Add or update every product of a validated CSV (all or nothing)."""
    get_store(tx, scope, store_id)
    products = parse_catalogue_csv(csv_data)
    known = {p["gtin"] for p in tx.rows_in("products", "gtin", [p.gtin for p in products],
                                           store_id=store_id)}
    fresh = [_product_row(scope, store_id, p) for p in products if p.gtin not in known]
    tx.insert_ignore("products", fresh)
    for p in products:
        if p.gtin in known:
            tx.update("products", {"store_id": store_id, "gtin": p.gtin},
                      {"name": p.name, "price_minor": p.price_minor,
                       "unit_weight_g": p.unit_weight_g})
    return CatalogueImport(added=len(fresh), updated=len(products) - len(fresh))


def _product_row(scope: Scope, store_id: str, p: Product) -> Row:
    return {"store_id": store_id, "tenant_id": scope.tenant_id, "livemode": scope.livemode,
            "gtin": p.gtin, "name": p.name, "price_minor": p.price_minor,
            "unit_weight_g": p.unit_weight_g}
