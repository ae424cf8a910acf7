"""Several ingest consumers as one: an MQTT shared subscription (``$share/<group>/...``)
spreads the messages over them, each with its own in-flight window and commits. A shared
subscription gives up each publisher's message order."""

from __future__ import annotations

from smilepay.adapters.mqtt.consumer import Handler, MqttIngestConsumer


class MqttConsumerGroup:
    def __init__(self, handle: Handler, host: str, port: int, client_id: str, topic: str,
                 n: int) -> None:
        shared = topic if n == 1 else f"$share/{client_id}/{topic}"
        self.members = [MqttIngestConsumer(handle, host=host, port=port,
                                           client_id=f"{client_id}-{i}", topic=shared)
                        for i in range(n)]

    @property
    def committed_messages(self) -> int:
        return sum(c.committed_messages for c in self.members)

    def start(self) -> None:
        for c in self.members:
            c.start()

    def stop(self) -> None:
        for c in self.members:
            c.stop()

    def forget_session(self) -> None:
        for c in self.members:
            c.forget_session()
