"""Sensor ingestion: signed device messages (from MQTT or the HTTP batch) into store events.

A message is a topic and a payload. Topics (QoS 1):
``smilepay/{tenant}/stores/{store}/{kind}/{source}`` with kind ``rfid`` (source: the reader),
``shelf`` (the slot), ``presence`` (the zone) or ``heartbeat`` (the device). The payload is
``<mac>.<json>``: ``mac`` the hex HMAC-SHA256, under the device's own secret, of
``topic + "\\n" + json``; ``json`` is ``{"device": id, "events": [...]}``. The secret is
kept sealed in the device's row and opened here (``services.store_device_secrets``, cached);
a revoked device, or one whose sealed secret does not open for it, has every message
rejected. A batch of messages is written in one transaction; duplicates (same device and
event id) are dropped by the table's unique key; the caller acknowledges the messages only
after this returns.
A message that fails its checks is rejected (counted, never retried), never half-applied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smilepay.domain.ids import new_id
from smilepay.domain.store.attribution import PresenceAction
from smilepay.domain.store.errors import DeviceAuthFailed
from smilepay.errors import InvalidInput
from smilepay.ports.store import Row, StoreTx, StoreUnit
from smilepay.services import store_device_secrets as device_secrets

log = logging.getLogger("smilepay.store.ingest")

TOPIC_ROOT = "smilepay"
TOPIC = re.compile(r"smilepay/(?P<tenant>[A-Za-z0-9_]{3,40})/stores/(?P<store>[A-Za-z0-9_]{3,40})"
                   r"/(?P<kind>rfid|shelf|presence|heartbeat)/(?P<source>[A-Za-z0-9_-]{1,40})")
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_EVENTS_PER_MESSAGE = 1000
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_EPC = re.compile(r"[0-9A-Fa-f]{24}")
_DEVICE_KINDS = {"rfid": "rfid", "shelf": "shelf", "presence": "presence"}
SILENCE_MS = 15_000


def topic_for(tenant_id: str, store_id: str, kind: str, source: str) -> str:
    return f"{TOPIC_ROOT}/{tenant_id}/stores/{store_id}/{kind}/{source}"


def sign_message(secret: str, topic: str, body: dict[str, Any]) -> bytes:
    """What a device publishes: ``<mac>.<json>`` (see the module doc)."""
    text = json.dumps(body, separators=(",", ":"))
    mac = hmac.new(secret.encode(), f"{topic}\n{text}".encode(), hashlib.sha256).hexdigest()
    return f"{mac}.{text}".encode()


@dataclass
class IngestResult:
    messages: int = 0
    events: int = 0  # valid events in accepted messages
    inserted: int = 0  # new rows (events minus duplicates)
    rejected: list[str] = field(default_factory=list)  # one reason per rejected message


def _what(value: Any) -> str:
    """What a bad value was, without echoing it (no device input in messages or logs)."""
    if isinstance(value, str):
        return f"a text of {len(value)} chars that does not fit"
    if value is None:
        return "nothing"
    return f"a value of type {type(value).__name__} that does not fit"


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"expected {name} as an integer in {low}..{high}, got {_what(value)}")
    return value


def _event_row(kind: str, source: str, store_id: str, device_id: str, event: Any,
               now_ms: int) -> Row:
    if not isinstance(event, dict):
        raise InvalidInput(f"expected an event object, got {type(event).__name__}")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise InvalidInput(f"expected an event id of 1..64 safe chars, got {_what(event_id)}")
    row: Row = {"store_id": store_id, "device_id": device_id, "event_id": event_id,
                "kind": kind, "source": source,
                "at_ms": _int(event.get("at_ms"), "at_ms", 1, 2**53), "received_ms": now_ms,
                "epc": None, "antenna": None, "rssi": None, "delta_g": None, "trip_id": None,
                "action": None}
    if kind == "rfid":
        epc = event.get("epc")
        if not isinstance(epc, str) or not _EPC.fullmatch(epc):
            raise InvalidInput(f"expected an EPC of 24 hex digits, got {_what(epc)}")
        rssi = event.get("rssi")
        if isinstance(rssi, bool) or not isinstance(rssi, int | float) or not -120 <= rssi <= 0:
            raise InvalidInput(f"expected rssi in -120..0 dBm, got {_what(rssi)}")
        row.update(epc=epc.upper(), antenna=_int(event.get("antenna", 0), "antenna", 0, 64),
                   rssi=float(rssi))
    elif kind == "shelf":
        row["delta_g"] = _int(event.get("delta_g"), "delta_g", -100_000, 100_000)
    elif kind == "presence":
        trip = event.get("trip")
        if not isinstance(trip, str) or not re.fullmatch(r"[A-Za-z0-9_]{3,40}", trip):
            raise InvalidInput(f"expected a trip id, got {_what(trip)}")
        action = event.get("action")
        if action not in (PresenceAction.ENTER.value, PresenceAction.LEAVE.value):
            raise InvalidInput(f"expected action enter or leave, got {_what(action)}")
        row.update(trip_id=trip, action=action)
    return row


def _check_topic_source(kind: str, source: str, device: Row, slots: dict[str, Row]) -> None:
    if kind in ("rfid", "heartbeat") and source != device["id"]:
        raise DeviceAuthFailed(f"expected the device's own {kind} topic, got another source")
    if kind == "shelf" and slots.get(source, {}).get("device_id") != device["id"]:
        raise DeviceAuthFailed(f"expected a slot this device weighs, got {source}")
    if kind == "presence" and device["kind"] != "presence":
        raise DeviceAuthFailed(f"expected a presence device, got a {device['kind']} device")
    if kind in _DEVICE_KINDS and device["kind"] != _DEVICE_KINDS[kind]:
        raise DeviceAuthFailed(f"expected a {kind} device, got a {device['kind']} device")


def _parse(topic: str, payload: bytes) -> tuple[re.Match[str], str, bytes, dict[str, Any]]:
    match = TOPIC.fullmatch(topic)
    if match is None:
        raise InvalidInput("expected a topic smilepay/{tenant}/stores/{store}/"
                           f"{{rfid|shelf|presence|heartbeat}}/{{source}}, got {_what(topic)}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidInput(f"expected at most {MAX_PAYLOAD_BYTES} bytes, got {len(payload)}")
    mac, dot, text = payload.partition(b".")
    if not dot or len(mac) != 64:
        raise DeviceAuthFailed("expected <mac>.<json>, got no MAC")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("expected a JSON body, got unparseable bytes") from exc
    if not isinstance(body, dict) or not isinstance(body.get("device"), str) \
            or not isinstance(body.get("events"), list):
        raise InvalidInput("expected {\"device\": id, \"events\": [...]}, got another shape")
    if len(body["events"]) > MAX_EVENTS_PER_MESSAGE:
        raise InvalidInput(f"expected at most {MAX_EVENTS_PER_MESSAGE} events, "
                           f"got {len(body['events'])}")
    return match, mac.decode("ascii", "replace"), text, body


def ingest_messages(unit: StoreUnit, messages: Sequence[tuple[str, bytes]], now_ms: int
                    ) -> IngestResult:
    """Verify and write ``messages`` in one transaction; returns what happened to them."""
    result = IngestResult(messages=len(messages))
    parsed = []
    for topic, payload in messages:
        try:
            parsed.append((topic, *_parse(topic, payload)))
        except (InvalidInput, DeviceAuthFailed) as exc:
            result.rejected.append(exc.message)
    device_ids = sorted({body["device"] for *_, body in parsed})
    slot_ids = sorted({m["source"] for _, m, *_ in parsed if m["kind"] == "shelf"})

    def work(tx: StoreTx) -> None:
        devices = {d["id"]: d for d in tx.rows_in("devices", "id", device_ids)}
        slots = {x["id"]: x for x in tx.rows_in("slots", "id", slot_ids)}
        rows: list[Row] = []
        heard: dict[str, int] = {}  # device -> latest device time in this batch
        for topic, match, mac, text, body in parsed:
            try:
                device = devices.get(body["device"])
                if device is None or device["store_id"] != match["store"] \
                        or device["tenant_id"] != match["tenant"]:
                    raise DeviceAuthFailed("expected a device of this store, got an unknown one")
                key = device_secrets.device_key(tx.device_keys, device)
                want = hmac.new(key, topic.encode() + b"\n" + text, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(want.encode(), mac.encode()):
                    raise DeviceAuthFailed("expected a message signed by its device, got a bad MAC")
                _check_topic_source(match["kind"], match["source"], device, slots)
                batch = [_event_row(match["kind"], match["source"], device["store_id"],
                                    device["id"], event, now_ms) for event in body["events"]]
            except (InvalidInput, DeviceAuthFailed) as exc:
                result.rejected.append(exc.message)
                continue
            rows.extend(batch)
            latest = max((r["at_ms"] for r in batch), default=0)
            heard[device["id"]] = max(heard.get(device["id"], 0), latest)
        result.events = len(rows)
        result.inserted = tx.insert_ignore("events", rows)
        for device_id in sorted(heard):
            mark = max(heard[device_id], devices[device_id]["watermark_ms"] or 0)
            tx.update("devices", {"id": device_id},
                      {"last_seen_ms": now_ms, "watermark_ms": mark, "silent_alerted": False})

    if parsed:
        unit.run(work)
    for reason in result.rejected:
        # the rule broken, never the input (topics and payloads are the device's words)
        log.warning("store message rejected: %s", reason.split(", got ", 1)[0])
    return result


def alert_silent_devices(unit: StoreUnit, now_ms: int, silence_ms: int = SILENCE_MS) -> int:
    """Raise one ``device_silent`` store alert per device not heard from for ``silence_ms``
    (heartbeats or events); it clears when the device speaks again."""

    def work(tx: StoreTx) -> int:
        found = tx.silent_devices(now_ms - silence_ms)
        for device in found:
            tx.insert("alerts", {
                "id": new_id("sal", now_ms), "tenant_id": device["tenant_id"],
                "livemode": device["livemode"], "store_id": device["store_id"],
                "kind": "device_silent", "subject": device["id"],
                "message": f"{device['kind']} device {device['id']} silent for "
                           f"{(now_ms - device['last_seen_ms']) // 1000} s",
                "at_ms": now_ms, "resolved_at_ms": None,
            })
            tx.update("devices", {"id": device["id"]}, {"silent_alerted": True})
        return len(found)

    return unit.run(work)


def alert_lagging_devices(unit: StoreUnit, store_id: str, silence_ms: int = SILENCE_MS) -> int:
    """The same alert by device time: a device whose latest reported time is more than
    ``silence_ms`` behind the store's most advanced device is silent, however recently a
    message of it arrived (a replay, or a clock that stopped)."""

    def work(tx: StoreTx) -> int:
        raised = 0
        devices = tx.rows("devices", store_id=store_id)
        reference_ms = max((d["watermark_ms"] or 0 for d in devices), default=0)
        for device in devices:
            if device["silent_alerted"] or device["revoked_at_ms"] is not None:
                continue
            mark = device["watermark_ms"]
            if mark is None or mark >= reference_ms - silence_ms:
                continue
            tx.insert("alerts", {
                "id": new_id("sal", reference_ms), "tenant_id": device["tenant_id"],
                "livemode": device["livemode"], "store_id": store_id, "kind": "device_silent",
                "subject": device["id"],
                "message": f"{device['kind']} device {device['id']} reported nothing for "
                           f"{(reference_ms - mark) // 1000} s of store time",
                "at_ms": reference_ms, "resolved_at_ms": None})
            tx.update("devices", {"id": device["id"]}, {"silent_alerted": True})
            raised += 1
        return raised

    return unit.run(work)
