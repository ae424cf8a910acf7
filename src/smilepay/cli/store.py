"""``smilepay store``: the checkout-free store's simulator, its scenarios, and the MQTT
ingest worker (docs/store.md)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from smilepay.cli.apps import app

store_app = typer.Typer(help="Checkout-free store: ingest sensors, simulate, make scenarios.")
app.add_typer(store_app, name="store")



@store_app.command("simulate")
def simulate(
    scenario: Annotated[Path, typer.Option(help="scenario JSON (docs/store.md)")],
    json_out: Annotated[Path, typer.Option("--json", help="where to write the report")],
    database: Annotated[str, typer.Option(help="database URL; default a fresh SQLite file")] = "",
    broker: Annotated[str, typer.Option(help="MQTT broker host:port")] = "127.0.0.1:1883",
    load_events: Annotated[int, typer.Option(help="then a sustained-load phase of N events "
                                                  "(0: none)")] = 0,
    load_consumers: Annotated[int, typer.Option(help="consumers of the load phase (an MQTT "
                                                     "shared subscription when > 1)")] = 1,
) -> None:
    """Drive a scenario through the broker into the services, score it, write JSON."""
    import tempfile

    from smilepay.cli._store_sim import Driver
    from smilepay.domain.store.simulation import Scenario

    data = json.loads(scenario.read_text())
    parsed = Scenario.from_json(data)
    host, _, port = broker.partition(":")
    with tempfile.TemporaryDirectory() as tmp:
        url = database or f"sqlite:///{tmp}/store-sim.db"
        driver = Driver(parsed, url, host, int(port or 1883))
        try:
            report = driver.run()
            if load_events:
                report["sustained_load"] = driver.sustained_load(load_events,
                                                                 consumers=load_consumers)
        finally:
            driver.close()
    report["engine"] = url.split(":", 1)[0]
    json_out.write_text(json.dumps(report, indent=2, sort_keys=True))
    _summary(report)


def _summary(r: dict[str, Any]) -> None:
    s, lat, ev = r["score"], r["exit_latency_ms"], r["events"]
    typer.echo(f"{r['scenario']}: {r['shoppers']} trips, precision {s['precision']:.4f}, "
               f"recall {s['recall']:.4f}, wrong-person charges {s['wrong_person_charges']}, "
               f"over {s['over_charged_minor']} / under {s['under_charged_minor']} (minor)")
    typer.echo(f"exit decision p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms; events "
               f"{ev['committed']}/{ev['published_unique']} committed ({ev['lost']} lost), "
               f"{ev['events_per_s']:.0f}/s over the run")
    typer.echo(f"trips {r['trip_status']}, review items {r['review_items']}, alerts {r['alerts']}")
    if "sustained_load" in r:
        load = r["sustained_load"]
        typer.echo(f"sustained load: {load['events_per_s']:.0f} events/s, {load['lost']} lost "
                   f"of {load['events']}")


@store_app.command("scenario")
def make_scenario(
    kind: Annotated[str, typer.Argument(help="busy_hour | noisy | hard")],
    out: Annotated[Path, typer.Option(help="where to write the scenario JSON")],
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Write a scenario made by the seeded generator (the shipped ones come from here)."""
    from smilepay.cli._store_scenarios import scenario_json

    out.write_text(json.dumps(scenario_json(kind, seed), indent=1))
    typer.echo(f"wrote {out}")


@store_app.command("ingest")
def ingest(
    broker: Annotated[str, typer.Option(help="MQTT broker host:port")] = "127.0.0.1:1883",
    client_id: Annotated[str, typer.Option(help="the persistent session's id")] =
    "smilepay-store-ingest",
) -> None:
    """Consume the store topics into the database until interrupted (QoS 1, ack after
    commit), raising silent-device alerts every 5 s."""
    from smilepay.adapters.mqtt.consumer import MqttIngestConsumer
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.migrate import upgrade_engine
    from smilepay.adapters.sql.store_repo import SqlStoreUnit
    from smilepay.config import get_settings
    from smilepay.services.context import SystemClock
    from smilepay.services.store_ingest import alert_silent_devices, ingest_messages

    logging.basicConfig(level=logging.INFO)
    engine = make_engine(os.environ.get("SMILEPAY_DATABASE_URL")
                         or get_settings().resolved_database_url())
    upgrade_engine(engine)
    unit, clock = SqlStoreUnit(engine), SystemClock()
    host, _, port = broker.partition(":")

    def handle(messages: Sequence[tuple[str, bytes]]) -> None:
        ingest_messages(unit, messages, clock.now_ms())

    consumer = MqttIngestConsumer(handle, host=host, port=int(port or 1883),
                                  client_id=client_id)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer.start()
    try:
        while not stop.wait(5.0) and consumer.failed is None:
            alert_silent_devices(unit, clock.now_ms())
    except KeyboardInterrupt:
        pass
    finally:
        consumer.stop()
        engine.dispose()
