"""``smilepay docs api``: write the endpoint reference from the app's OpenAPI schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from smilepay.cli.apps import app

docs_app = typer.Typer(help="Documentation generated from the code.")
app.add_typer(docs_app, name="docs")
REFERENCE = Path("docs") / "api-reference.md"


def current_reference() -> str:
    """The reference as the code stands (an app on a scratch SQLite database: no data read)."""
    from smilepay.api.app import create_app
    from smilepay.api.reference import render_reference
    from smilepay.bootstrap import build_container

    with tempfile.TemporaryDirectory() as tmp:
        container = build_container(f"sqlite:///{Path(tmp) / 'schema.db'}")
        try:
            return render_reference(create_app(container).openapi())
        finally:
            container.close()


@docs_app.command("api")
def docs_api(
    out: Path = typer.Option(REFERENCE, help="Where to write the Markdown reference."),
    check: bool = typer.Option(False, help="Only say whether OUT is current (exit 1 if not)."),
) -> None:
    """Render docs/api-reference.md from the server's OpenAPI schema."""
    text = current_reference()
    if check:
        current = out.read_text() if out.exists() else ""
        if current != text:
            typer.echo(f"{out} is stale: run `smilepay docs api`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is current")
        return
    out.write_text(text)
    typer.echo(f"wrote {out} ({text.count('### ')} operations)")
