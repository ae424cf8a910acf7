"""The ``smilepay`` command. Each module in this package adds its commands to ``apps``.

Heavy libraries (OpenCV, MediaPipe, onnxruntime, SQLAlchemy) are imported inside the
commands, so ``smilepay --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

from smilepay.cli.apps import app


def _load_command_modules() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "apps" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    _load_command_modules()
    app()
