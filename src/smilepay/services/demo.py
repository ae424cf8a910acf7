"""The demo merchant: a tenant with a test-mode secret key, a terminal and its terminal key.

``seed_demo`` runs on first start (``make run``): it creates them once and keeps the raw
test-mode keys in ``var/demo-keys.json`` (mode 0600) so the page addresses can be printed
again on every start. Test mode only: these keys never move real money.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from smilepay.bootstrap import Container
from smilepay.domain.tenants import KeyKind, Scope
from smilepay.ports.money import MoneyTx
from smilepay.services.tenants import create_tenant, create_terminal, issue_api_key


@dataclass(frozen=True)
class DemoKeys:
    tenant_id: str
    merchant: str
    secret_key: str
    terminal_id: str
    terminal_key: str

    def page_addresses(self, base_url: str) -> dict[str, str]:
        return {
            "kiosk": f"{base_url}/kiosk#key={self.terminal_key}",
            "enrol": f"{base_url}/enrol#key={self.terminal_key}",
            "wallet": f"{base_url}/wallet",
            "dashboard": f"{base_url}/dashboard#key={self.secret_key}",
        }


def create_demo_merchant(container: Container, name: str = "Demo Café") -> DemoKeys:
    now_ms = container.ctx.clock.now_ms()

    def work(tx: MoneyTx) -> DemoKeys:
        tenant = create_tenant(tx, name, now_ms)
        scope = Scope(tenant.id, livemode=False)
        secret = issue_api_key(tx, scope, KeyKind.SECRET, now_ms)
        terminal = create_terminal(tx, scope, "Counter 1", now_ms)
        terminal_key = issue_api_key(tx, scope, KeyKind.TERMINAL, now_ms, terminal.id)
        return DemoKeys(tenant.id, tenant.name, secret.raw, terminal.id, terminal_key.raw)

    return container.store.run(work)


def seed_demo(container: Container, keys_file: Path) -> tuple[DemoKeys, bool]:
    """(the demo keys, whether they were created now)."""
    if keys_file.exists():
        return DemoKeys(**json.loads(keys_file.read_text())), False
    keys = create_demo_merchant(container)
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(keys), fh)
    return keys, True
