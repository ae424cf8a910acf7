"""The store's MQTT consumer: QoS 1, a persistent session, and acknowledgement after commit.

paho receives on its network thread and only queues; a worker thread takes up to
``max_batch`` messages (what is queued, see ``_take``), hands them to ``handle`` (which
commits them to the database) and only then acknowledges each (``manual_ack``). The session
is persistent (``clean_session=False`` and a fixed client id), so when the process dies between
the broker and the commit, the broker redelivers every unacknowledged message to the next
consumer with the same id; the event table's unique key drops what was committed already.
A ``handle`` that raises leaves the batch unacknowledged and stops the consumer (the next
start gets the batch again) rather than losing it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger("smilepay.store.mqtt")

Handler = Callable[[Sequence[tuple[str, bytes]]], None]


class MqttIngestConsumer:
    def __init__(self, handle: Handler, *, host: str = "127.0.0.1", port: int = 1883,
                 client_id: str = "smilepay-store-ingest", topic: str = "smilepay/+/stores/+/#",
                 max_batch: int = 400, max_wait_s: float = 0.002) -> None:
        self._handle = handle
        self._topic = topic
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self.failed: BaseException | None = None
        self.committed_messages = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._host, self._port, self._client_id = host, port, client_id
        self._worker = threading.Thread(target=self._work, name="store-ingest", daemon=True)

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: object,
                    _p: object) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        self._subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self._queue.put(message)

    def start(self, timeout_s: float = 10.0) -> None:
        self._client.connect(self._host, self._port, keepalive=30)
        self._client.loop_start()
        self._worker.start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise TimeoutError(f"expected a subscription within {timeout_s} s, got none")

    def stop(self) -> None:
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(timeout=10)
        self._client.disconnect()
        self._client.loop_stop()

    def forget_session(self) -> None:
        """Drop this client id's persistent session at the broker (its subscription and
        anything queued for it): for consumers that will not come back, such as a
        simulator's. Call after ``stop``."""
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self._client_id,
                             clean_session=True, protocol=mqtt.MQTTv311)
        client.connect(self._host, self._port, keepalive=5)
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()

    def _take(self) -> list[mqtt.MQTTMessage]:
        """What is queued now (up to ``max_batch``), after one short wait for stragglers: the
        broker sends at most its in-flight window (20 by default) before our acks, so waiting
        longer for a full batch would only add latency."""
        try:
            batch = [self._queue.get(timeout=0.1)]
        except queue.Empty:
            return []
        waited = False
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                if waited:
                    break
                waited = True
                time.sleep(self._max_wait_s)
        return batch

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self._take()
            if not batch:
                continue
            try:
                self._handle([(m.topic, bytes(m.payload)) for m in batch])
            except BaseException as exc:  # unacknowledged: the broker redelivers them
                log.error("store ingest batch failed, stopping unacknowledged: %s",
                          type(exc).__name__)
                self.failed = exc
                self._stop.set()
                return
            for message in batch:
                if message.qos > 0:
                    self._client.ack(message.mid, message.qos)
            self.committed_messages += len(batch)


class MqttPublisher:
    """A device's side (the simulator's): publish with QoS 1 and wait for the broker's ack."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 1883, client_id: str = "") -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=mqtt.MQTTv311)
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(0)
        self._client.connect(host, port, keepalive=30)
        self._client.loop_start()
        self._pending: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"expected the broker to take the message, got rc {info.rc}")
        self._pending.append(info)
        if len(self._pending) >= 200:
            self.flush()

    def flush(self, timeout_s: float = 30.0) -> None:
        for info in self._pending:
            info.wait_for_publish(timeout_s)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._client.disconnect()
        self._client.loop_stop()
