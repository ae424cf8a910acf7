"""Scoring PAD sets with passive scorers, and the ISO 30107-3 summary per source and pooled."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import cv2
import numpy as np
import numpy.typing as npt

from smilepay.ports.liveness import PassiveScorer
from smilepay.vision.liveness.dataset import Presentation
from smilepay.vision.liveness.loso import leave_one_source_out
from smilepay.vision.liveness.metrics import pad_report
from smilepay.vision.types import Face, Image

F64 = npt.NDArray[np.float64]
FaceFinder = Callable[[Image], Face | None]
DETECT_MIN_SIDE_PX = 600  # smaller images are taken as face crops in "auto" mode


def _video_frames(presentation: Presentation, count: int) -> list[Image]:
    from smilepay.vision.liveness.replay import read_video_frames

    frames = [f for _, f in read_video_frames(presentation.path)]
    if not frames:
        return []
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    return [frames[i] for i in sorted(set(picks.tolist()))]


def score_presentation(presentation: Presentation, scorers: Sequence[PassiveScorer],
                       find_face: FaceFinder | None, faces: str, video_frames: int) -> F64:
    """One row: every scorer's score (mean over sampled frames for a video)."""
    if presentation.is_video:
        images = _video_frames(presentation, video_frames)
    else:
        image = cv2.imread(str(presentation.path), cv2.IMREAD_COLOR)
        images = [] if image is None else [np.asarray(image, dtype=np.uint8)]
    rows = []
    for image in images:
        detect = faces == "detect" or presentation.is_video or (
            faces == "auto" and max(image.shape[:2]) >= DETECT_MIN_SIDE_PX)
        face = find_face(image) if detect and find_face is not None else None
        rows.append([s.score(image, face) for s in scorers])
    if not rows:
        return np.full(len(scorers), np.nan)
    return np.asarray(np.mean(rows, axis=0), dtype=np.float64)


@dataclass(frozen=True)
class PadRow:
    scorer: str
    source: str
    bona_fide: int
    attacks: int
    auc: float
    apcer_at_bpcer5: float
    bpcer_at_apcer1: float
    bpcer_at_apcer5: float
    trained: bool
    worst_species: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarise(name: str, scores: F64, presentations: Sequence[Presentation],
              trained: bool) -> list[PadRow]:
    """Rows per source (those with both classes) and pooled."""
    live = np.array([p.bona_fide for p in presentations])
    sources = np.array([p.source for p in presentations])
    species = np.array([p.species for p in presentations])
    ok = np.isfinite(scores)
    rows = []
    names = sorted(set(sources.tolist()))
    for source in [*names, "pooled"] if len(names) > 1 else names:
        pick = ok & ((sources == source) if source != "pooled" else True)
        bona = scores[pick & live]
        attack = {sp: scores[pick & ~live & (species == sp)] for sp in set(species[~live])}
        attack = {sp: v for sp, v in attack.items() if len(v)}
        if len(bona) == 0 or not attack:
            continue
        r = pad_report(bona, attack)  # APCER of the worst attack species (ISO 30107-3)
        rows.append(PadRow(name, source, r.bona_fide, r.attacks, r.auc, r.apcer_at_bpcer5,
                           r.bpcer_at_apcer1, r.bpcer_at_apcer5, trained, r.worst_species))
    return rows


def trained_scores(matrix: F64, presentations: Sequence[Presentation],
                   columns: Sequence[int]) -> F64:
    """Leave-one-source-out log-odds of a logistic model over ``columns`` (NaN rows dropped)."""
    live = np.array([p.bona_fide for p in presentations])
    sources = [p.source for p in presentations]
    sub = matrix[:, list(columns)]
    ok = np.all(np.isfinite(sub), axis=1)
    out = np.full(len(presentations), np.nan)
    out[ok] = leave_one_source_out(sub[ok], live[ok], [s for s, k in zip(sources, ok, strict=True)
                                                         if k])
    return out
