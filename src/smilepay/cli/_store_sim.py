"""``smilepay store simulate``: a scenario driven through the real broker into the real
services and database, then scored against its ground truth (docs/store.md).

Store time runs as fast as the pipeline takes it: sensor messages are published in device
time order (each device's own messages in order, messages of different devices delayed and
duplicated as the scenario says), with flow control so that the broker's queue for the
consumer never fills (Mosquitto drops QoS 1 messages beyond ``max_queued_messages``, 1000 by
default). Entries run at once; each exit decision runs in a worker once the tunnel's reads
are committed (``sensors_caught_up``), so publishing never waits for a decision.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from smilepay.adapters.mqtt.consumer import MqttPublisher
from smilepay.adapters.mqtt.group import MqttConsumerGroup
from smilepay.adapters.sql.engine import make_engine
from smilepay.adapters.sql.migrate import upgrade_engine
from smilepay.adapters.sql.store import SqlMoneyStore
from smilepay.adapters.sql.store_repo import SqlStoreUnit
from smilepay.cli._store_report import BASE_MS, build_report
from smilepay.cli._store_setup import SimStore, set_up
from smilepay.domain.store.simulation import GateAction, Scenario, SimEvent, expand
from smilepay.ports.store import StoreTx
from smilepay.services.context import MoneyContext, SystemClock
from smilepay.services.phones import DEV_ONLY_MASTER_KEY, PhoneCipher
from smilepay.services.store_entry import (
    StoreContext,
    enter_with_code,
    gate_passage,
    issue_entry_code,
)
from smilepay.services.store_entry import admit as admit_guests
from smilepay.services.store_evidence import sensors_caught_up
from smilepay.services.store_exit import decide_exit
from smilepay.services.store_ingest import (
    alert_lagging_devices,
    ingest_messages,
    sign_message,
    topic_for,
)

MAX_IN_FLIGHT = 100  # messages published but not committed (Mosquitto queues 1000)
CATCH_UP_TIMEOUT_S = 3.0


class Driver:
    def __init__(self, s: Scenario, url: str, host: str, port: int) -> None:
        self.s = s
        self.engine = make_engine(url)
        upgrade_engine(self.engine)
        self.money = SqlMoneyStore(self.engine)
        self.unit = SqlStoreUnit(self.engine)
        ctx = MoneyContext(SystemClock(), PhoneCipher(DEV_ONLY_MASTER_KEY))
        self.sctx = StoreContext(ctx, secrets.token_bytes(32))
        self.timeline = expand(s)
        self.sim: SimStore = set_up(self.money, self.unit, ctx, s,
                                    [x.broke for x in self.timeline.shoppers])
        self._zones = {p.gtin: p.zone for p in s.products}
        self.client_id = f"smilepay-sim-{secrets.token_hex(4)}"
        self.topic = f"smilepay/{self.sim.scope.tenant_id}/stores/{self.sim.store['id']}/#"
        self.host, self.port = host, port
        # one consumer for the trips: exits rely on each device's messages arriving in order
        self.consumer = MqttConsumerGroup(self._ingest, host, port, self.client_id, self.topic, 1)
        self.publisher = MqttPublisher(host=host, port=port)
        self.published_messages = 0
        self.published_events = 0
        self.rejected = 0
        self.trips: dict[int, str] = {}
        self.last_read_wall: dict[int, float] = {}
        self.latency_ms: list[float] = []
        self.decision_ms: list[float] = []
        self.refused_entries = 0
        self.timed_out = 0  # exits decided before their sensors caught up
        self.exits: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _ingest(self, messages: Any) -> None:
        result = ingest_messages(self.unit, messages, self.sctx.money.clock.now_ms())
        self.rejected += len(result.rejected)

    def _send(self, m: SimEvent, copy: bool = False) -> None:
        while self.published_messages - self.consumer.committed_messages > MAX_IN_FLIGHT:
            time.sleep(0.0005)
        device = self.sim.devices[self._device_key(m)]
        source = {"shelf": self.sim.slots.get(m.source, ""), "rfid": device["id"],
                  "heartbeat": device["id"], "presence": m.source}[m.kind]
        events = []
        for k, event in enumerate(m.events):
            e = {**event, "id": f"{m.kind}-{m.at_ms}-{m.source}-{k}",
                 "at_ms": BASE_MS + event["at_ms"]}
            if "trip" in e:
                e["trip"] = self.trips.get(e["trip"], f"unknown_{e['trip']}")
            events.append(e)
        topic = topic_for(self.sim.scope.tenant_id, self.sim.store["id"], m.kind, source)
        self.publisher.publish(topic, sign_message(device["secret"], topic,
                                                   {"device": device["id"], "events": events}))
        self.published_messages += 1
        if not copy:
            self.published_events += len(events)
        if m.shopper is not None and (m.kind == "rfid" or (
                m.kind == "presence" and m.source == "tunnel"
                and m.events[0]["action"] == "leave")):
            self.last_read_wall[m.shopper] = time.perf_counter()

    def _device_key(self, m: SimEvent) -> str:
        if m.kind == "shelf":
            return f"shelf:{self._zones[m.source]}"
        return "presence" if m.kind == "presence" else m.source

    def _entry(self, a: GateAction) -> None:
        shopper = self.timeline.shoppers[a.shopper]
        scope, gate = self.sim.scope, self.sim.entry_gate
        who = self.sim.customers[a.shopper]

        def work(tx: StoreTx) -> str | None:
            code = issue_entry_code(tx, self.sctx, scope, who)
            decision = enter_with_code(tx, self.sctx, scope, gate, code)
            if not decision.open or decision.trip_id is None:
                return None
            if shopper.people > 1:
                admit_guests(tx, self.sctx, scope, decision.trip_id, shopper.people - 1)
            gate_passage(tx, self.sctx, scope, gate, decision.trip_id, shopper.people_seen)
            return decision.trip_id

        trip = self.unit.run(work)
        if trip is None:
            self.refused_entries += 1
        else:
            self.trips[a.shopper] = trip

    def _exit(self, shopper: int) -> None:
        trip = self.trips.get(shopper)
        if trip is None:
            return
        store_id = self.sim.store["id"]
        deadline = time.perf_counter() + CATCH_UP_TIMEOUT_S
        while not self.unit.run(lambda tx: sensors_caught_up(tx, store_id, trip), write=False):
            if time.perf_counter() > deadline:
                self.timed_out += 1
                break
            time.sleep(0.003)
        start = time.perf_counter()
        decision = self.unit.run(lambda tx: decide_exit(tx, self.sctx, self.sim.scope,
                                                        self.sim.exit_gate, trip))
        done = time.perf_counter()
        with self._lock:
            self.decision_ms.append((done - start) * 1000)
            if shopper in self.last_read_wall:
                self.latency_ms.append((done - self.last_read_wall[shopper]) * 1000)
            self.exits.append({"shopper": shopper, "open": decision.open,
                               "reason": decision.reason})

    def run(self) -> dict[str, Any]:
        rng = random.Random(self.s.seed + 1)
        plan = self._delivery_plan(rng)
        self.consumer.start()
        pool = ThreadPoolExecutor(2, thread_name_prefix="store-exit")
        futures: list[Future[None]] = []
        started = time.perf_counter()
        next_check = 0
        try:
            for at, kind, item in plan:
                if kind == "msg":
                    assert isinstance(item, tuple)
                    self._send(*item)
                elif isinstance(item, GateAction) and item.kind == "entry":
                    self._entry(item)
                elif isinstance(item, GateAction):
                    futures.append(pool.submit(self._exit, item.shopper))
                if at >= next_check:
                    alert_lagging_devices(self.unit, self.sim.store["id"])
                    next_check = at + 5_000
            self.publisher.flush()
            for future in futures:
                future.result()
            self._drain()
            finished = time.perf_counter()
        finally:
            pool.shutdown(wait=True)
            self.consumer.stop()
            self.consumer.forget_session()
            self.publisher.close()
        return self._report(finished - started)

    def _delivery_plan(self, rng: random.Random) -> list[tuple[int, str, object]]:
        """(send time, kind, item): messages delayed and duplicated across devices, each
        device's own stream kept in order (as one MQTT connection delivers it)."""
        last_by_device: dict[str, int] = {}
        plan: list[tuple[int, str, object]] = []
        for m in self.timeline.messages:
            key = self._device_key(m)  # one device: one ordered stream, whatever the topic
            send = m.at_ms + (rng.randint(1, self.s.reorder_max_ms)
                              if rng.random() < self.s.reorder_rate else 0)
            send = max(send, last_by_device.get(key, 0))
            last_by_device[key] = send
            plan.append((send, "msg", (m, False)))
            if rng.random() < self.s.duplicate_rate:
                plan.append((send + rng.randint(0, 2_000), "msg", (m, True)))
        plan += [(a.at_ms, a.kind, a) for a in self.timeline.actions]
        order = {"msg": 0, "entry": 1, "exit": 2}
        plan.sort(key=lambda p: (p[0], order[p[1]]))
        return plan

    def _drain(self, timeout_s: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout_s
        while self.consumer.committed_messages < self.published_messages \
                and time.perf_counter() < deadline:
            time.sleep(0.01)

    def _report(self, wall_s: float) -> dict[str, Any]:
        return build_report(self, wall_s)

    def sustained_load(self, events: int, per_message: int = 25, consumers: int = 1
                       ) -> dict[str, Any]:
        """``events`` RFID reads of a back-room reader (no trip looks at them) published as
        fast as the pipeline commits them: events/s from the first publish to the last
        commit, and how many never reached the database. ``consumers`` > 1: a shared
        subscription, which gives up each device's order (so not for the trip phase)."""
        device = self.sim.devices["backroom"]
        topic = topic_for(self.sim.scope.tenant_id, self.sim.store["id"], "rfid", device["id"])
        self.consumer = MqttConsumerGroup(self._ingest, self.host, self.port,
                                          f"{self.client_id}-load", self.topic, consumers)
        self.consumer.start()
        self.publisher = MqttPublisher(host=self.host, port=self.port)
        self.published_messages = 0
        sent = 0
        started = time.perf_counter()
        try:
            while sent < events:
                batch = [{"id": f"load-{sent + k}", "at_ms": BASE_MS + sent + k,
                          "epc": f"30{sent + k:022X}", "antenna": k % 4, "rssi": -55.0}
                         for k in range(min(per_message, events - sent))]
                while self.published_messages - self.consumer.committed_messages > MAX_IN_FLIGHT:
                    time.sleep(0.0005)
                self.publisher.publish(topic, sign_message(
                    device["secret"], topic, {"device": device["id"], "events": batch}))
                self.published_messages += 1
                sent += len(batch)
            self.publisher.flush()
            self._drain()
            wall = time.perf_counter() - started
        finally:
            self.consumer.stop()
            self.consumer.forget_session()
            self.publisher.close()
        committed = len(self.unit.run(lambda tx: tx.rows("events", store_id=self.sim.store["id"],
                                                          source=device["id"]), write=False))
        return {"events": events, "per_message": per_message, "consumers": consumers,
                "committed": committed,
                "lost": events - committed, "wall_s": wall, "events_per_s": committed / wall}

    def close(self) -> None:
        self.money.dispose()
