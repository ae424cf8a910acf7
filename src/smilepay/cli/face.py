"""``smilepay enrol``, ``index rebuild``, ``purge-expired``, ``demo``, ``demo-seed``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smilepay.cli.apps import app

console = Console()
index_app = typer.Typer(help="The face gallery index (rebuildable from the template store).")
app.add_typer(index_app, name="index")


def _stack(database_url: str | None = None, **face: Any) -> tuple[Any, Any]:
    from smilepay.adapters.sql.identity_store import SqlIdentityStore
    from smilepay.bootstrap import build_container, build_face_context

    container = build_container(database_url, **face.pop("container", {}))
    return container, build_face_context(SqlIdentityStore(container.store.engine), **face)


def _demo_keys_file() -> Path:
    from smilepay.config import get_settings

    return get_settings().var_dir / "demo-keys.json"


def _scope_of(container: Any, key: str | None) -> Any:
    from smilepay.services.tenants import authenticate

    raw = key or json.loads(_demo_keys_file().read_text())["secret_key"]
    return container.store.run(lambda tx: authenticate(tx, raw), write=False).scope


def _images(paths: list[Path]) -> list[Path]:
    from smilepay.vision.decode import IMAGE_SUFFIXES

    found: list[Path] = []
    for p in paths:
        found += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES) \
            if p.is_dir() else [p]
    return found


@app.command("enrol")
def enrol_command(
    photos: list[Path] = typer.Argument(..., help="Photo files or folders of one person."),
    phone: str = typer.Option(..., help="The customer's verified phone number (E.164)."),
    name: str = typer.Option("", help="The customer's name."),
    key: str = typer.Option(None, help="Merchant secret key (default: the demo merchant's)."),
    consent_accepted: bool = typer.Option(
        False, "--consent-accepted", help="The customer read and accepted the current consent."),
) -> None:
    """Operator enrolment from photos: quality gate, consent, duplicate refusal, progress bar."""
    import time

    from smilepay.domain.consent import consent_text
    from smilepay.services.customers import create_customer, find_customer_by_phone
    from smilepay.services.enrol import enrol_from_images, give_consent
    from smilepay.vision.decode import read_image

    if not consent_accepted:
        console.print("[red]No consent, no template: pass --consent-accepted once the customer "
                      "has read and accepted the consent text.[/red]")
        raise typer.Exit(2)
    container, face = _stack()
    scope = _scope_of(container, key)
    files = _images(photos)
    now_ms = int(time.time() * 1000)

    def find_or_create(tx: Any) -> Any:
        return find_customer_by_phone(tx, container.ctx, scope, phone) or create_customer(
            tx, container.ctx, scope, phone, name=name)

    customer = container.store.run(find_or_create)
    text = consent_text()
    give_consent(face, scope, customer.id, text.version, text.digest, now_ms)
    from smilepay.errors import SmilePayError

    try:
        with Progress(console=console) as progress:
            task = progress.add_task("photos", total=len(files))
            images = [read_image(str(f)) for f in files]
            done = enrol_from_images(face, scope, customer.id, images, now_ms,
                                     progress=lambda: progress.advance(task))
    except SmilePayError as exc:
        console.print(f"[red]not enrolled ({exc.code}): {exc.message}[/red]")
        raise typer.Exit(1) from None
    table = Table(title=f"enrolled {customer.id}")
    for k in ("template", "model_id", "frames_used", "replaced_templates", "key_id"):
        table.add_row(k, str(done[k]))
    console.print(table)


@index_app.command("rebuild")
def index_rebuild(
    key: str = typer.Option(None, help="Merchant secret key (default: every tenant)."),
) -> None:
    """Rebuild the gallery from the encrypted template store, in the gallery every server
    worker reads (``SMILEPAY_GALLERY``): each template is removed and added again in one
    transaction per tenant and mode, so a running server sees the result at once."""
    from smilepay.services.face_index import enrolled_scopes, rebuild_gallery

    container, face = _stack()
    try:
        scopes = [_scope_of(container, key)] if key else enrolled_scopes(face.identity)
        table = Table(title=f"index rebuild ({face.gallery.name})")
        table.add_column("tenant")
        table.add_column("mode")
        table.add_column("templates", justify="right")
        for scope in scopes:
            count = rebuild_gallery(face, scope)
            table.add_row(scope.tenant_id, "live" if scope.livemode else "test", str(count))
    finally:
        face.gallery.close()
        face.close()
        container.close()
    console.print(table)


@app.command("purge-expired")
def purge_expired_command() -> None:
    """Erase the faces of customers whose consent retention has lapsed (run it daily, e.g.
    from cron); prints one deletion receipt per customer, then the gates' records (punches,
    boarding, verifications, inactive gate templates) deleted past their retention."""
    from smilepay.adapters.sql.gates_retention import SqlGatesRetention
    from smilepay.services.erase import purge_expired
    from smilepay.services.gates_retention import face_audit, sweep_gates

    container, face = _stack()
    try:
        now_ms = container.ctx.clock.now_ms()
        receipts = purge_expired(face, now_ms)
        swept = sweep_gates(SqlGatesRetention(container.store.engine), now_ms,
                            face_audit(face, now_ms))  # the gates' records (docs/identity.md)
    finally:
        face.close()
        container.close()
    for what, count in swept.deleted.items():
        console.print(f"gates: {count} {what.replace('_', ' ')} past retention deleted")
    for receipt in receipts:
        console.print(f"erased {receipt.customer_id}: {receipt.template_count} template(s), "
                      f"receipt {receipt.receipt_id}")
    console.print(f"{len(receipts)} customer(s) past retention")


@app.command("demo-seed")
def demo_seed(base_url: str = typer.Option("http://127.0.0.1:8000")) -> None:
    """Create the demo merchant and terminal once (test mode); print the page addresses."""
    from smilepay.adapters.files import write_file_atomically
    from smilepay.services.demo import seed_demo

    container, _ = _stack()
    keys, created = seed_demo(container, _demo_keys_file(),
                              lambda path, data: write_file_atomically(path, data, mode=0o600))
    console.print(f"{'created' if created else 'using'} demo merchant {keys.merchant} "
                  f"({keys.tenant_id}), test mode")
    for page, url in keys.page_addresses(base_url).items():
        console.print(f"  {page:<9} {url}", soft_wrap=True)


@app.command("demo")
def demo(
    data: Path = typer.Option(..., help="The shared data folder, or a folder with enrol/ and "
                                        "pay/ images."),
    db: Path = typer.Option(None, help="SQLite file (default: a scratch one)."),
) -> None:
    """Scripted enrol-then-pay from image files; prints the receipt."""
    import time

    from smilepay.config import FaceSettings
    from smilepay.domain.tenants import Scope
    from smilepay.services.context import FixedClock
    from smilepay.services.demo import create_demo_merchant, run_scripted_checkout, sign_up_customer
    from smilepay.services.enrol import enrol_from_images
    from smilepay.services.face_wallet import top_up_wallet
    from smilepay.vision.decode import read_image

    work = Path(tempfile.mkdtemp(prefix="smilepay-demo-"))
    url = f"sqlite:///{db or work / 'demo.db'}"
    clock = FixedClock(now=int(time.time() * 1000))
    settings = FaceSettings(challenge="smile", step_timeout_ms=9000,
                            secrets_file=str(work / "secrets.json"), index_dir=str(work / "idx"))
    container, face = _stack(url, settings=settings, container={"clock": clock})
    keys = create_demo_merchant(container)
    scope = Scope(keys.tenant_id, livemode=False)
    enrol_dir, frames = _demo_inputs(data)
    customer = sign_up_customer(face, container, scope, "+4915112345678", "Demo customer",
                                clock.now_ms())
    with Progress(console=console) as progress:
        files = _images([enrol_dir])[:8]
        task = progress.add_task("enrol", total=len(files))
        enrolled = enrol_from_images(face, scope, customer.customer_id,
                                     [read_image(str(f)) for f in files], clock.now_ms(),
                                     progress=lambda: progress.advance(task))
    top_up_wallet(container, scope, customer.customer_id, 5000, "EUR")
    result = run_scripted_checkout(face, container, scope, keys.terminal_id, frames, "5678",
                                   1250, clock)
    table = Table(title=f"SmilePay demo receipt ({result['status']})")
    table.add_column("field")
    table.add_column("value")
    rows = {"merchant": keys.merchant, "customer": customer.customer_id,
            "template": enrolled["template"], "challenge": result["challenge_state"],
            "payment": result["payment_intent"], "status": result["status"],
            "message": result["message"]}
    for k, v in {**rows, **result.get("receipt", {})}.items():
        table.add_row(k, str(v))
    console.print(table)
    if result["status"] != "succeeded":
        raise typer.Exit(1)


def _demo_inputs(data: Path) -> tuple[Path, Any]:
    from smilepay.vision.decode import read_image

    if (data / "enrol").is_dir() and (data / "pay").is_dir():
        return data / "enrol", (read_image(str(f)) for f in _images([data / "pay"]))
    from smilepay.services.demo import video_frames

    return data / "pad_apfol" / "live", video_frames(
        data / "video" / "bona_fide" / "apfol_webcam_real.webm")
