"""Money-side administration: ``smilepay db upgrade``, ``smilepay merchant create``,
``smilepay webhooks deliver`` (the outbox worker: webhooks, notifications, hold expiry)."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from smilepay.cli.apps import app

console = Console()
db_app = typer.Typer(help="The relational store: migrations.")
merchant_app = typer.Typer(help="Merchants (tenants) and their API keys.")
webhooks_app = typer.Typer(help="The outbox worker: webhooks, notifications, hold expiry.")
app.add_typer(db_app, name="db")
app.add_typer(merchant_app, name="merchant")
app.add_typer(webhooks_app, name="webhooks")


@db_app.command("upgrade")
def db_upgrade(
    database_url: str = typer.Option("", help="Default: SMILEPAY_DATABASE_URL or embedded SQLite."),
) -> None:
    """Apply every Alembic migration up to the newest."""
    from smilepay.adapters.sql.migrate import upgrade_database
    from smilepay.config import get_settings

    url = database_url or get_settings().resolved_database_url()
    upgrade_database(url)
    console.print(f"database at the newest revision ({url.split('://')[0]})")


@merchant_app.command("create")
def merchant_create(
    name: str = typer.Option(..., help="The merchant's name."),
    fee_bps: int = typer.Option(0, min=0, max=10_000, help="Platform fee in basis points."),
    database_url: str = typer.Option("", help="Default: SMILEPAY_DATABASE_URL or embedded SQLite."),
) -> None:
    """Create a merchant with a test and a live secret key, printed ONCE (stored hashed)."""
    from smilepay.bootstrap import build_container
    from smilepay.domain.tenants import KeyKind, Scope
    from smilepay.ports.money import MoneyTx
    from smilepay.services.tenants import create_tenant, issue_api_key

    container = build_container(database_url or None)
    now_ms = container.ctx.clock.now_ms()

    def work(tx: MoneyTx) -> tuple[str, str, str]:
        tenant = create_tenant(tx, name, now_ms, fee_bps)
        test = issue_api_key(tx, Scope(tenant.id, False), KeyKind.SECRET, now_ms)
        live = issue_api_key(tx, Scope(tenant.id, True), KeyKind.SECRET, now_ms)
        return tenant.id, test.raw, live.raw

    tenant_id, test_key, live_key = container.store.run(work)
    container.close()
    console.print(f"merchant         {tenant_id}", soft_wrap=True)
    console.print(f"test secret key  {test_key}", soft_wrap=True)
    console.print(f"live secret key  {live_key}", soft_wrap=True)
    console.print("[yellow]These keys are shown once; only their hashes are stored.[/yellow]")


@webhooks_app.command("deliver")
def webhooks_deliver(
    loop: bool = typer.Option(False, help="Keep running, polling every --interval-s."),
    interval_s: float = typer.Option(1.0, min=0.05, help="Pause between polls when idle."),
    database_url: str = typer.Option("", help="Default: SMILEPAY_DATABASE_URL or embedded SQLite."),
) -> None:
    """Deliver due webhooks (signed, retried with backoff), send notifications, expire holds,
    unpaid payments and idempotency keys."""
    from smilepay.bootstrap import build_container
    from smilepay.services.housekeeping import expire_due
    from smilepay.services.notifications import dispatch_notifications
    from smilepay.services.webhook_delivery import deliver_due

    container = build_container(database_url or None)
    ctx = container.ctx

    try:
        while True:
            sent = deliver_due(container.store, container.webhook_sender, ctx.clock)
            told = dispatch_notifications(container.store, container.notifier, ctx.phones,
                                          ctx.clock)
            expired = container.store.run(lambda tx: expire_due(tx, ctx))
            if sent or told or expired:
                console.print(f"webhook attempts {sent}, notifications {told}, holds and "
                              f"unpaid payments expired {expired}")
            if not loop:
                break
            if not (sent or told or expired):
                time.sleep(interval_s)
    except KeyboardInterrupt:
        pass
    finally:
        container.close()
