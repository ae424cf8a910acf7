"""PAD evaluation sets on disk: ``<source>/live|spoof/<files>`` (images or videos).

``--data DIR`` may be one source (``DIR/live``, ``DIR/spoof``) or a folder of sources. A
spoof folder may hold species sub-folders (``spoof/print/...``, ``spoof/screen/...``);
files directly under ``spoof/`` are species ``attack``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smilepay.errors import InvalidInput
from smilepay.vision.decode import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".avi", ".mov", ".mkv", ".mjpeg"})
LIVE_DIRS = ("live", "real", "bona_fide")
SPOOF_DIRS = ("spoof", "fake", "attack")


@dataclass(frozen=True)
class Presentation:
    path: Path
    source: str
    bona_fide: bool
    species: str  # "" for bona fide

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_SUFFIXES


def _media(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)


def _named(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (folder / name).is_dir():
            return folder / name
    return None


def _source(folder: Path) -> list[Presentation]:
    live, spoof = _named(folder, LIVE_DIRS), _named(folder, SPOOF_DIRS)
    if live is None or spoof is None:
        return []
    out = [Presentation(p, folder.name, True, "") for p in _media(live)]
    for p in _media(spoof):
        rel = p.relative_to(spoof)
        species = rel.parts[0] if len(rel.parts) > 1 else "attack"
        out.append(Presentation(p, folder.name, False, species))
    return out


def find_presentations(data_dir: Path, only: tuple[str, ...] = ()) -> list[Presentation]:
    """Every presentation under ``data_dir`` (one source, or sources one level down)."""
    if not data_dir.is_dir():
        raise InvalidInput(f"expected a folder of live/ and spoof/ media, got {data_dir}")
    found = _source(data_dir)
    if not found:
        for sub in sorted(p for p in data_dir.iterdir() if p.is_dir()):
            if not only or sub.name in only:
                found += _source(sub)
    if not found:
        raise InvalidInput(
            f"expected {data_dir} to hold live/ and spoof/ folders (or sources that do), "
            "got none")
    return found
