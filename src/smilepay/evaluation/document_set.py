"""The document-vs-live evaluation set: one rendered document per identity, its other photos live.

Per identity folder (sorted file names) the first photo with a face becomes the document
portrait (rendered by ``document_render``) and the rest are the live photos. An identity with
one photo (``lfw_subset``) gives an impostor document only. Rendered files go under a work
folder (never the repository); the same photo and seed always give the same file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.errors import SmilePayError
from smilepay.evaluation.document_render import (
    RenderSettings,
    chip_image,
    document_seed,
    portrait_chip,
    render_document,
    scan,
)
from smilepay.evaluation.embeddings import main_face
from smilepay.ports.vision import FaceDetector
from smilepay.vision.decode import IMAGE_SUFFIXES, read_image
from smilepay.vision.types import Image

DEFAULT_SETS = ("celeba_wild", "glint24", "lfw_subset")


@dataclass(frozen=True)
class Subject:
    identity: str  # "<set>/<folder>"
    source: Path  # the photo the document is rendered from
    live: tuple[Path, ...]  # the identity's other photos


def find_subjects(data: Path, sets: Sequence[str] = DEFAULT_SETS) -> list[Subject]:
    subjects: list[Subject] = []
    for name in sets:
        root = data / name
        if not root.is_dir():
            raise SmilePayError(f"expected a folder {root}, got none")
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if files:
                subjects.append(Subject(f"{name}/{folder.name}", files[0], tuple(files[1:])))
    return subjects


def restore(image: Image) -> Image:
    """Upscale 2x (Lanczos) after removing JPEG noise, then an unsharp mask."""
    clean = cv2.fastNlMeansDenoisingColored(image, None, 4, 4, 5, 15)
    big = cv2.resize(clean, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LANCZOS4)
    soft = cv2.GaussianBlur(big, (0, 0), 1.5)
    return np.asarray(cv2.addWeighted(big, 1.6, soft, -0.6, 0), dtype=np.uint8)


def match_to_document(image: Image, landmarks5: npt.NDArray[np.float32], seed: int) -> Image:
    """A live photo brought to the document's resolution and scan (no print overlays): the
    portrait crop at chip size, blurred and JPEG-compressed like the document."""
    chip = portrait_chip(image, landmarks5)
    framed = np.asarray(cv2.copyMakeBorder(chip, 40, 40, 40, 40, cv2.BORDER_REPLICATE),
                        dtype=np.uint8)
    return scan(framed, np.random.default_rng(seed), RenderSettings())


@dataclass(frozen=True)
class RenderedSet:
    documents: dict[str, Path]  # identity -> rendered document page
    chips: dict[str, Path]  # identity -> the portrait as the chip stores it
    restored: dict[str, Path]  # identity -> restored document page
    matched_live: dict[Path, Path]  # live photo -> its document-resolution copy
    no_face: list[str]  # sources without a face (no document rendered)

    def pairs_of(self, subjects: Sequence[Subject]
                 ) -> tuple[list[Subject], list[tuple[str, Path]]]:
        """The subjects with a rendered document, and their live photos the renderer could
        match (identity, photo): the same pairs for every document evaluation."""
        kept = [s for s in subjects if s.identity in self.documents]
        return kept, [(s.identity, p) for s in kept for p in s.live if p in self.matched_live]

    def image_paths(self, subjects: Sequence[Subject], live: Sequence[tuple[str, Path]], *,
                    restored: bool = False, matched_live: bool = False) -> list[str]:
        """Every image to embed, resolved and sorted: sources, live photos, pages and chips
        (plus the restored pages and the resolution-matched live copies when asked)."""
        found = ({str(s.source.resolve()) for s in subjects}
                 | {str(p.resolve()) for _, p in live}
                 | {str(p.resolve()) for p in self.documents.values()}
                 | {str(p.resolve()) for p in self.chips.values()})
        if restored:
            found |= {str(p.resolve()) for p in self.restored.values()}
        if matched_live:
            found |= {str(self.matched_live[p].resolve()) for _, p in live}
        return sorted(found)


def _write(path: Path, image: Image) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise SmilePayError(f"expected to write {path}, got a failure")
    return path


def render_set(subjects: Sequence[Subject], detector: FaceDetector, work: Path, seed: int,
               with_matched_live: bool = True,
               on_item: Callable[[], None] | None = None) -> RenderedSet:
    """Render (or reuse, when already on disk) each subject's document and variants."""
    documents: dict[str, Path] = {}
    chips: dict[str, Path] = {}
    restored: dict[str, Path] = {}
    matched: dict[Path, Path] = {}
    no_face: list[str] = []
    for subject in subjects:
        doc_path = work / "document" / f"{subject.identity}.png"
        restored_path = work / "document_restored" / f"{subject.identity}.png"
        chip_path = work / "document_chip" / f"{subject.identity}.png"
        if not doc_path.is_file() or not chip_path.is_file():
            image = read_image(str(subject.source))
            face = main_face(image, detector)
            if face is None:
                no_face.append(subject.identity)
                if on_item is not None:
                    on_item()
                continue
            page = render_document(image, face.landmarks5,
                                   document_seed(subject.identity, seed))
            _write(doc_path, page)
            _write(restored_path, restore(page))
            _write(chip_path, chip_image(image, face.landmarks5,
                                         document_seed(subject.identity, seed + 1)))
        documents[subject.identity] = doc_path
        chips[subject.identity] = chip_path
        restored[subject.identity] = restored_path
        if with_matched_live:
            for live in subject.live:
                out = work / "live_matched" / subject.identity / f"{live.stem}.png"
                if not out.is_file():
                    try:
                        image = read_image(str(live))
                        face = main_face(image, detector)
                    except SmilePayError:
                        face = None
                    if face is None:
                        continue
                    _write(out, match_to_document(image, face.landmarks5,
                                                  document_seed(str(out.name), seed)))
                matched[live] = out
        if on_item is not None:
            on_item()
    return RenderedSet(documents, chips, restored, matched, no_face)


def detector_scores(documents: dict[str, Path], detector: FaceDetector,
                    on_item: Callable[[], None] | None = None) -> dict[str, float]:
    """The detector's confidence in each document's face (0 when none): a quality gate."""
    found: dict[str, float] = {}
    for identity, path in documents.items():
        face = main_face(read_image(str(path)), detector)
        found[identity] = 0.0 if face is None else float(face.score)
        if on_item is not None:
            on_item()
    return found
