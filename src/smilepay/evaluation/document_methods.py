"""More attempts at the document-vs-live gap, each scored on the pairs of ``eval document``.

- **Product quality gate on the live side**: the KYC selfie passes the same quality gate as
  enrolment (``FacePipeline.analyze_frame``: face size, exposure, sharpness, pose; and the
  probe is made only from frames within ``IDENTITY_MAX_POSE_DEG`` of frontal). ``product_gate``
  runs exactly that code on a photo; the gated conditions keep only the live photos that pass,
  for the document and the live baseline alike.
- **JPEG-aware chip handling** (``CHIP_VARIANTS``): a mild Gaussian or bilateral filter before
  landmarks and embedding; landmarks read on a 2x upscale and the face aligned on the original;
  test-time alignment jitter (the mean of the embeddings of a few shifted and scaled copies of
  the alignment points). Two diagnostics split the JPEG's cost between the landmarks and the
  pixels: the JPEG chip aligned on the clean chip's points, and the clean chip on the JPEG's.
- **Score normalisation per domain** (``normalised_scores``): the raw cosine of a document and
  a live photo turned into a T-norm (document against a cohort of live photos), Z-norm (live
  photo against a cohort of documents) or S-norm (their mean). The cohorts are ``lfw_subset``,
  whose identities have no live photos here: a live photo never meets its own identity in a
  cohort, and a document's own identity is left out of every cohort it meets (leave one out).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.evaluation.document import PairScores
from smilepay.evaluation.embeddings import alignment_points, main_face
from smilepay.ports.vision import FaceDetector, FaceReader
from smilepay.services.face_frames import (  # the selfie step's pose limit
    IDENTITY_MAX_POSE_DEG as IDENTITY_MAX_POSE_DEG,
)
from smilepay.vision.fusion import fuse_vectors, unit
from smilepay.vision.types import FrameAnalysis, Image, Vector

Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str  # "" when passed


def product_gate(analyze: Callable[[Image], FrameAnalysis], image: Image) -> GateResult:
    """What the selfie step does with a frame: ``analyze`` is a ``FacePipeline``'s
    ``analyze_frame`` (embedding off); the frame counts when it has one clear face that passes
    the quality gate and is within ``IDENTITY_MAX_POSE_DEG`` of frontal."""
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound

    try:
        analysis = analyze(image)
    except NoFaceFound:
        return GateResult(False, "no_face")
    except AmbiguousFaces:
        return GateResult(False, "two_faces")
    quality = analysis.quality
    if not quality.passed:
        return GateResult(False, quality.reasons[0].split(":")[0])
    if max(abs(quality.yaw_deg), abs(quality.pitch_deg)) > IDENTITY_MAX_POSE_DEG:
        return GateResult(False, "not frontal for identity")
    return GateResult(True, "")


def document_gate(analyze: Callable[[Image], FrameAnalysis], image: Image) -> GateResult:
    """What the KYC flow asks of a document (``identity_document.document_frontal``): one
    clear face within the selfie's pose limit (a chip's small face is not held to the live
    frame's size and sharpness rules)."""
    from smilepay.services.identity_document import document_frontal
    from smilepay.vision.errors import AmbiguousFaces, NoFaceFound

    try:
        analysis = analyze(image)
    except NoFaceFound:
        return GateResult(False, "no_face")
    except AmbiguousFaces:
        return GateResult(False, "two_faces")
    if not document_frontal(analysis.quality):
        return GateResult(False, "not frontal for identity")
    return GateResult(True, "")


def gate_files(paths: Sequence[str], check: Callable[[Image], GateResult],
               cache_file: Path | None, on_item: Callable[[], None] | None = None,
               ) -> dict[str, GateResult]:
    """``check`` of each image file, kept in ``cache_file`` (JSON) between runs."""
    from smilepay.vision.decode import read_image

    known: dict[str, list[Any]] = ({} if cache_file is None or not cache_file.is_file()
                                   else json.loads(cache_file.read_text()))
    for path in paths:
        if path not in known:
            result = check(read_image(path))
            known[path] = [result.passed, result.reason]
        if on_item is not None:
            on_item()
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(known, indent=0, sort_keys=True))
    return {p: GateResult(bool(known[p][0]), str(known[p][1])) for p in paths}


# --- chip handling ---------------------------------------------------------------------------

def gaussian(sigma: float) -> Callable[[Image], Image]:
    def run(image: Image) -> Image:
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)
    return run


def bilateral(image: Image) -> Image:
    return np.asarray(cv2.bilateralFilter(image, 5, 25, 3), dtype=np.uint8)


def upscale_points(image: Image, detector: FaceDetector, reader: FaceReader | None,
                   factor: float = 2.0) -> Points | None:
    """Alignment points read on a ``factor``x cubic upscale, in the original's pixels."""
    big = np.asarray(cv2.resize(image, None, fx=factor, fy=factor,
                                interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    face = main_face(big, detector)
    if face is None:
        return None
    points = alignment_points(big, face, reader)
    # pixel centres: x_big = factor * (x + 0.5) - 0.5
    return ((points + 0.5) / factor - 0.5).astype(np.float32)


def jittered(points: Points, shift_px: float = 1.0,
             scales: Sequence[float] = (0.98, 1.02)) -> list[Points]:
    """The points, shifted by +-``shift_px`` along x and y, and scaled about their centre."""
    out = [points]
    for dx, dy in ((shift_px, 0.0), (-shift_px, 0.0), (0.0, shift_px), (0.0, -shift_px)):
        out.append((points + np.array([dx, dy], np.float32)).astype(np.float32))
    centre = points.mean(axis=0)
    for s in scales:
        out.append(((points - centre) * s + centre).astype(np.float32))
    return out


@dataclass(frozen=True)
class ChipVariant:
    name: str
    pixels: Callable[[Image], Image] | None = None  # filter before landmarks and embedding
    upscale_landmarks: bool = False
    jitter: bool = False


CHIP_VARIANTS = (
    ChipVariant("baseline"),
    ChipVariant("gaussian 0.5", gaussian(0.5)),
    ChipVariant("gaussian 0.8", gaussian(0.8)),
    ChipVariant("bilateral 5/25/3", bilateral),
    ChipVariant("landmarks on 2x upscale", upscale_landmarks=True),
    ChipVariant("alignment jitter (7 copies)", jitter=True),
    ChipVariant("landmarks 2x + jitter", upscale_landmarks=True, jitter=True),
    ChipVariant("gaussian 0.5 + landmarks 2x + jitter", gaussian(0.5), True, True),
)


class MemberEmbedder:
    """The strategy's member embedders fused with its weights (``embed(image, points)``)."""

    def __init__(self, embed_members: Sequence[Callable[[Image, Points], Vector]],
                 weights: Sequence[float]) -> None:
        self.embed_members, self.weights = list(embed_members), list(weights)

    def embed(self, image: Image, points: Points) -> Vector:
        parts = [f(image, points) for f in self.embed_members]
        return fuse_vectors(parts, self.weights)

    def embed_mean(self, image: Image, many: Sequence[Points]) -> Vector:
        stacked = np.stack([self.embed(image, p) for p in many]).astype(np.float64)
        return unit(stacked.mean(axis=0))


def chip_vector(image: Image, variant: ChipVariant, detector: FaceDetector,
                reader: FaceReader | None, embedder: MemberEmbedder) -> Vector | None:
    pixels = variant.pixels(image) if variant.pixels is not None else image
    if variant.upscale_landmarks:
        points = upscale_points(pixels, detector, reader)
    else:
        face = main_face(pixels, detector)
        points = None if face is None else alignment_points(pixels, face, reader)
    if points is None:
        return None
    if variant.jitter:
        return embedder.embed_mean(pixels, jittered(points))
    return embedder.embed(pixels, points)


# --- score normalisation ---------------------------------------------------------------------

def _cohort_stats(rows: npt.NDArray[np.float64],
                  leave_out: npt.NDArray[np.float64] | None) -> tuple[
                      npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean and sd of each row's cohort scores (rows x cohort), optionally leaving out one
    score per row (``leave_out``, NaN where nothing is left out)."""
    n = rows.shape[1]
    s1, s2 = rows.sum(axis=1), (rows**2).sum(axis=1)
    count = np.full(rows.shape[0], float(n))
    if leave_out is not None:
        drop = ~np.isnan(leave_out)
        s1 = np.where(drop, s1 - np.nan_to_num(leave_out), s1)
        s2 = np.where(drop, s2 - np.nan_to_num(leave_out) ** 2, s2)
        count = np.where(drop, count - 1, count)
    mean = s1 / count
    sd = np.sqrt(np.maximum(s2 / count - mean**2, 1e-12))
    return mean, sd


@dataclass(frozen=True)
class Cohorts:
    live: dict[str, Vector]  # cohort identity -> a live-domain vector (T-norm of the probe)
    documents: dict[str, Vector]  # cohort identity -> a document vector (Z-norm of live)


def normalised_scores(probes: Mapping[str, Vector | None],
                      live: Sequence[tuple[str, Vector | None]], cohorts: Cohorts,
                      mode: str) -> PairScores:
    """``cross_scores`` with each score normalised (``mode`` "t", "z" or "s").

    T-norm: (s - mean) / sd of the probe's scores against ``cohorts.live`` without the probe's
    identity; Z-norm: the same for the live photo against ``cohorts.documents`` without the
    probe's identity; S-norm: their mean. A probe without a face scores ``-inf``."""
    kept = [(i, v) for i, v in live if v is not None]
    live_ids = np.array([i for i, _ in kept])
    live_m = np.stack([v for _, v in kept]).astype(np.float64)
    t_ids = list(cohorts.live)
    t_m = np.stack([cohorts.live[i] for i in t_ids]).astype(np.float64)
    z_ids = list(cohorts.documents)
    z_m = np.stack([cohorts.documents[i] for i in z_ids]).astype(np.float64)
    live_vs_z = live_m @ z_m.T  # live x document cohort
    z_mean_all, z_sd_all = _cohort_stats(live_vs_z, None)
    z_index = {i: k for k, i in enumerate(z_ids)}
    t_index = {i: k for k, i in enumerate(t_ids)}
    genuine: list[npt.NDArray[np.float64]] = []
    impostor: list[npt.NDArray[np.float64]] = []
    missing = 0
    for ident, vector in probes.items():
        same = live_ids == ident
        if vector is None:
            missing += 1
            row = np.full(live_ids.size, -np.inf)
        else:
            v = vector.astype(np.float64)
            raw = live_m @ v
            t_row = t_m @ v
            drop = t_row[t_index[ident]] if ident in t_index else np.nan
            t_mean, t_sd = _cohort_stats(t_row[None, :], np.array([drop]))
            if ident in z_index:  # the live photos' cohorts without this document's identity
                z_mean, z_sd = _cohort_stats(live_vs_z, live_vs_z[:, z_index[ident]])
            else:
                z_mean, z_sd = z_mean_all, z_sd_all
            t_score = (raw - t_mean[0]) / t_sd[0]
            z_score = (raw - z_mean) / z_sd
            row = {"t": t_score, "z": z_score, "s": (t_score + z_score) / 2}[mode]
        genuine.append(row[same])
        impostor.append(row[~same])
    return PairScores(np.concatenate(genuine), np.concatenate(impostor), missing)
