"""What the pages and the API show: a customer's trips with their lines, and the operator's
dashboard (live trips, alerts, sensor health, the dispute and review queues).

A trip names its store and the store's currency (ISO 4217) with that currency's minor-unit
exponent (``domain.money.CURRENCY_EXPONENTS``): every amount of a trip and its lines is in
minor units of that currency, so a page formats 500 JPY as "¥500" and 370 EUR as "€3.70".
"""

from __future__ import annotations

from typing import Any

from smilepay.domain.money import CURRENCY_EXPONENTS
from smilepay.domain.store.trips import OPEN
from smilepay.domain.tenants import Scope
from smilepay.ports.store import Row, StoreTx
from smilepay.services.store_admin import get_store

MAX_ROWS = 100


def line_view(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "object": "store_line", "gtin": row["gtin"], "name": row["name"],
            "quantity": row["quantity"], "unit_price_minor": row["unit_price_minor"],
            "amount_minor": row["amount_minor"], "refunded_minor": row["refunded_minor"],
            "evidence": row["evidence"]}


def store_money(store: Row) -> dict[str, Any]:
    """The store's name, currency and that currency's exponent (a receipt's amounts)."""
    currency = str(store["currency"]).upper()
    return {"store_name": store["name"], "currency": currency,
            "currency_exponent": CURRENCY_EXPONENTS[currency]}


def trip_view(row: Row, lines: list[Row] | None = None,
              store: Row | None = None) -> dict[str, Any]:
    """A trip (with its lines when given; with its store's name and currency when given)."""
    view = {k: row[k] for k in ("id", "store_id", "customer_id", "status", "entry_method",
                                "people", "hold_minor", "total_minor", "charged_minor",
                                "debt_minor", "created_at_ms", "exited_at_ms")}
    view["object"] = "store_trip"
    if store is not None:
        view.update(store_money(store))
    if lines is not None:
        view["lines"] = [line_view(r) for r in lines]
    return view


def customer_trips(tx: StoreTx, scope: Scope, customer_id: str) -> list[dict[str, Any]]:
    trips = tx.rows("trips", order_by="created_at_ms", descending=True, limit=20,
                    tenant_id=scope.tenant_id, livemode=scope.livemode,
                    customer_id=customer_id)
    lines = tx.rows_in("lines", "trip_id", [t["id"] for t in trips])
    disputes = {d["line_id"]: d for d in tx.rows_in("disputes", "trip_id",
                                                    [t["id"] for t in trips])}
    stores = {s["id"]: s for s in tx.rows_in("stores", "id",
                                             sorted({t["store_id"] for t in trips}),
                                             tenant_id=scope.tenant_id,
                                             livemode=scope.livemode)}
    views = []
    for trip in trips:
        view = trip_view(trip, [r for r in lines if r["trip_id"] == trip["id"]],
                         stores[trip["store_id"]])
        for line in view["lines"]:
            found = disputes.get(line["id"])
            line["dispute"] = None if found is None else found["status"]
        views.append(view)
    return views


def dashboard(tx: StoreTx, scope: Scope, store_id: str, now_ms: int) -> dict[str, Any]:
    store = get_store(tx, scope, store_id)
    trips = [t for t in tx.rows("trips", order_by="created_at_ms", descending=True,
                                limit=MAX_ROWS, store_id=store_id) if t["status"] in OPEN]
    alerts = tx.rows("alerts", order_by="at_ms", descending=True, limit=MAX_ROWS,
                     store_id=store_id, resolved_at_ms=None)
    devices = tx.rows("devices", store_id=store_id)
    return {
        "object": "store_dashboard", "store": {k: store[k] for k in (
            "id", "name", "currency", "entry_hold_minor", "auto_refund_max_minor")},
        "live_trips": [trip_view(t, store=store) for t in trips],
        "alerts": [{k: a[k] for k in ("id", "kind", "subject", "message", "at_ms")}
                   for a in alerts],
        "sensors": [{"id": d["id"], "kind": d["kind"], "zone": d["zone"],
                     "last_seen_ms": d["last_seen_ms"], "silent": bool(d["silent_alerted"]),
                     "age_ms": None if d["last_seen_ms"] is None
                     else now_ms - d["last_seen_ms"]} for d in devices],
        "disputes": [{k: d[k] for k in ("id", "trip_id", "line_id", "reason", "amount_minor",
                                        "created_at_ms")}
                     for d in tx.rows("disputes", limit=MAX_ROWS, store_id=store_id,
                                      status="queued")],
        "review": [{k: r[k] for k in ("id", "trip_id", "reason", "gtin", "quantity", "ref")}
                   for r in tx.rows("review", limit=MAX_ROWS, store_id=store_id,
                                    resolved=False)],
    }
