"""The simulator's report: charges scored against the ground truth, latencies, events,
trip outcomes and alerts (``docs/store.md`` lists the fields)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from smilepay.domain.store.misses import classify_misses
from smilepay.domain.store.scoring import percentile, score_charges
from smilepay.ports.store import StoreTx
from smilepay.services.store_after import sweep_theft

if TYPE_CHECKING:
    from smilepay.cli._store_sim import Driver

BASE_MS = 1_900_000_000_000  # the devices' clock at the scenario's start


def build_report(d: Driver, wall_s: float) -> dict[str, Any]:
    store_id = d.sim.store["id"]
    ends = BASE_MS + d.s.duration_s * 1000 + 600_000
    thefts = d.unit.run(lambda tx: sweep_theft(tx, d.sim.scope, store_id, BASE_MS,
                                                  ends, d.sctx.money.clock.now_ms()))

    def read(tx: StoreTx) -> dict[str, Any]:
        trips = {t["id"]: t for t in tx.rows("trips", store_id=store_id)}
        lines = tx.rows_in("lines", "trip_id", list(trips))
        return {"trips": trips, "lines": lines,
                "events": len(tx.rows("events", store_id=store_id)),
                "alerts": tx.rows("alerts", store_id=store_id),
                "review": tx.rows("review", store_id=store_id)}

    got = d.unit.run(read, write=False)
    by_trip = {v: k for k, v in d.trips.items()}
    charged: dict[str, dict[str, int]] = {}
    for line in got["lines"]:
        charged.setdefault(line["trip_id"], {})[line["gtin"]] = line["quantity"]
    truth = {trip: dict(d.timeline.shoppers[i].truth) for i, trip in d.trips.items()}
    prices = {p.gtin: p.price_minor for p in d.s.products}
    score = score_charges(truth, {t: charged.get(t, {}) for t in truth}, prices)
    alerts: dict[str, int] = {}
    for a in got["alerts"]:
        alerts[a["kind"]] = alerts.get(a["kind"], 0) + 1
    statuses: dict[str, int] = {}
    for t in got["trips"].values():
        statuses[t["status"]] = statuses.get(t["status"], 0) + 1
    unique_published = d.published_events
    return {
        "scenario": d.s.name, "seed": d.s.seed, "shoppers": len(d.trips),
        "refused_entries": d.refused_entries,
        "exits_decided_before_sensors_caught_up": d.timed_out,
        "score": asdict(score),
        "exit_latency_ms": {"p50": percentile(d.latency_ms, 0.5),
                            "p95": percentile(d.latency_ms, 0.95),
                            "max": max(d.latency_ms, default=0.0),
                            "n": len(d.latency_ms)},
        "exit_decision_service_ms": {"p50": percentile(d.decision_ms, 0.5),
                                     "p95": percentile(d.decision_ms, 0.95)},
        "events": {"published_unique": unique_published,
                   "published_messages": d.published_messages,
                   "committed": got["events"], "lost": unique_published - got["events"],
                   "rejected_messages": d.rejected, "wall_s": wall_s,
                   "events_per_s": got["events"] / wall_s if wall_s else 0.0},
        "trip_status": statuses, "review_items": len(got["review"]), "alerts": alerts,
        "truth": {"thefts": len(d.timeline.thefts),
                  "tailgaters": sum(x.people_seen > x.people
                                    for x in d.timeline.shoppers),
                  "broke_shoppers": sum(x.broke for x in d.timeline.shoppers),
                  "reader_outage_s": d.s.outage_s},
        "theft_alerts_raised_at_end": thefts,
        "unmatched_trips": [t for t in got["trips"] if t not in by_trip],
        "missed_units": classify_misses(d.s, d.timeline, {
            i: charged.get(t, {}) for i, t in d.trips.items()}),
        "mismatches": [{"shopper": by_trip[t], "trip": t, "truth": truth[t],
                        "charged": charged.get(t, {}),
                        "review": [(r["reason"], r["gtin"], r["ref"]) for r in got["review"]
                                   if r["trip_id"] == t]}
                       for t in truth if truth[t] != charged.get(t, {})][:40],
    }
