"""Relief of a face in a depth map aligned to the colour frame (docs/depth-format.md).

A face has a nose that stands out of the surface its cheeks, forehead and chin describe,
and eye sockets that sink into it. A photo or a screen is a sheet: flat, tilted, or bent
into a cylinder. So: fit a low-order (quadratic) surface to the inner face *around* the
nose, then measure how far the nose tip stands out of it (``nose_protrusion_mm``) and how
far the eyes sink (``eye_recess_mm``). A quadric fits any plane or cylinder exactly, so a
bent sheet gives about 0 mm however it is bent; a face gives 10-30 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.vision.liveness.errors import InvalidDepthMap
from smilepay.vision.liveness.types import DepthMap
from smilepay.vision.types import Face

MIN_DEPTH_MM = 150
MAX_DEPTH_MM = 4000
F64 = npt.NDArray[np.float64]
_SAMPLES = 48  # grid of at most 48 x 48 points across the face box


@dataclass(frozen=True)
class DepthRelief:
    """What the depth check measured on one face."""

    valid_fraction: float
    nose_protrusion_mm: float
    eye_recess_mm: float
    ridge_mm: float  # how far cheeks beside / brow above / chin below the nose also stand out
    plane_rms_mm: float
    distance_mm: float
    reason: str = ""  # "" when measured; "depth_missing" when too few readings

    @property
    def measured(self) -> bool:
        return not self.reason


def validate_depth_map(depth_mm: npt.NDArray[np.generic], frame_hw: tuple[int, int]) -> DepthMap:
    """The depth map as uint16 millimetres, or ``InvalidDepthMap`` saying what is wrong."""
    if depth_mm.ndim != 2 or depth_mm.dtype != np.uint16:
        raise InvalidDepthMap(
            f"expected a 2-D uint16 depth map in millimetres, got {depth_mm.dtype} "
            f"with shape {depth_mm.shape}")
    if depth_mm.shape != frame_hw:
        raise InvalidDepthMap(
            f"expected a depth map aligned to the colour frame {frame_hw}, got {depth_mm.shape}")
    return depth_mm.astype(np.uint16, copy=False)


def _quadric_design(u: F64, v: F64) -> F64:
    return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=1)


def _robust_fit(design: F64, z: F64) -> F64:
    keep = np.ones(len(z), dtype=bool)
    coef: F64 = np.zeros(design.shape[1])
    for _ in range(3):
        coef = np.linalg.lstsq(design[keep], z[keep], rcond=None)[0].astype(np.float64)
        resid = z - design @ coef
        mad = float(np.median(np.abs(resid[keep] - np.median(resid[keep])))) + 0.5
        keep = np.abs(resid) < 3.5 * 1.4826 * mad
        if keep.sum() < design.shape[1] * 4:
            break
    return coef


def _patch_depth(depth: DepthMap, x: float, y: float, radius_px: float) -> float:
    h, w = depth.shape
    r = max(1, round(radius_px))
    x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
    y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
    patch = depth[y0:y1, x0:x1].astype(np.float64)
    valid = patch[(patch >= MIN_DEPTH_MM) & (patch <= MAX_DEPTH_MM)]
    return float(np.median(valid)) if valid.size >= 3 else float("nan")


def measure_relief(depth: DepthMap, face: Face) -> DepthRelief:
    """Nose protrusion and eye recess against a quadric fitted around them, in millimetres."""
    x0, y0, x1, y1 = face.box_xyxy
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    lm = np.asarray(face.landmarks5, dtype=np.float64)
    nose = lm[2]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    step = max(1, int(max(bw, bh) / _SAMPLES))
    ys, xs = np.mgrid[int(max(y0, 0)):int(min(y1, depth.shape[0])):step,
                      int(max(x0, 0)):int(min(x1, depth.shape[1])):step]
    u, v = (xs - cx) / bw, (ys - cy) / bh
    inner = (u / 0.42) ** 2 + (v / 0.46) ** 2 <= 1.0  # ellipse inside the box: skin, not background
    z = depth[ys, xs].astype(np.float64)
    ok = inner & (z >= MIN_DEPTH_MM) & (z <= MAX_DEPTH_MM)
    valid_fraction = float(ok.sum() / max(inner.sum(), 1))
    if valid_fraction < 0.4 or ok.sum() < 40:
        return DepthRelief(valid_fraction, 0.0, 0.0, 0.0, 0.0, 0.0, "depth_missing")
    du, dv = (xs - nose[0]) / bw, (ys - nose[1]) / bh
    around = ok & ((du / 0.22) ** 2 + (dv / 0.22) ** 2 > 1.0)  # leave the nose out of the fit
    eye_r = 0.10 * bw
    for eye in lm[:2]:
        around &= ((xs - eye[0]) ** 2 + (ys - eye[1]) ** 2) > eye_r**2
    uu, vv, zz = u[around].astype(np.float64), v[around].astype(np.float64), z[around]
    coef = _robust_fit(_quadric_design(uu, vv), zz)

    def surface(px: float, py: float) -> float:
        d = _quadric_design(np.array([(px - cx) / bw]), np.array([(py - cy) / bh]))
        return float((d @ coef)[0])

    def stands_out(px: float, py: float) -> float:
        z_here = _patch_depth(depth, px, py, 0.04 * bw)
        return surface(px, py) - z_here if np.isfinite(z_here) else 0.0

    protrusion = stands_out(nose[0], nose[1])
    # A nose is a local bump; a fold or wave in a sheet is a ridge that runs on past it.
    beside = [stands_out(nose[0] + dx * bw, nose[1] + dy * bh)
              for dx, dy in ((-0.26, 0.0), (0.26, 0.0), (0.0, -0.38), (0.0, 0.30))]
    ridge = max(0.0, *beside)
    eye_z = [_patch_depth(depth, e[0], e[1], 0.04 * bw) for e in lm[:2]]
    recess = [ez - surface(e[0], e[1]) for ez, e in zip(eye_z, lm[:2], strict=True)
              if np.isfinite(ez)]
    all_u, all_v, all_z = u[ok].astype(np.float64), v[ok].astype(np.float64), z[ok]
    plane = _quadric_design(all_u, all_v)[:, :3]
    pcoef, *_ = np.linalg.lstsq(plane, all_z, rcond=None)
    plane_rms = float(np.sqrt(np.mean((all_z - plane @ pcoef) ** 2)))
    return DepthRelief(valid_fraction, float(protrusion),
                       float(np.mean(recess)) if recess else 0.0, float(ridge), plane_rms,
                       float(np.median(all_z)))


def relief_score_mm(relief: DepthRelief) -> float:
    """One number per face, in millimetres: the nose's local relief plus half the eye recess."""
    if not relief.measured:
        return 0.0
    return relief.nose_protrusion_mm - relief.ridge_mm + 0.5 * max(relief.eye_recess_mm, 0.0)
