"""Synthetic depth maps for tests: a face, and the sheets a photo or a screen makes.

A pinhole camera (640 x 480, focal 580 px, like a structured-light or stereo kiosk camera)
sees, at 350-900 mm: a head (an ellipsoid with a nose, eye sockets, lips and a chin, turned
up to 25 degrees) or a sheet that shows a face at the same place in the colour frame: flat,
tilted up to 45 degrees, bent into a cylinder, waved, or a glossy screen with missing
readings. Noise grows with distance squared, readings are rounded to 1 mm, and some pixels
are missing (0), as real depth cameras do. Every scene returns the ``Face`` a detector would
find in the aligned colour frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smilepay.vision.liveness.types import DepthMap
from smilepay.vision.types import Face

WIDTH, HEIGHT, FOCAL_PX = 640, 480, 580.0
ATTACK_KINDS = ("flat", "tilted", "bent", "wave", "screen")
KINDS = ("face", *ATTACK_KINDS)

# Face points in head coordinates (mm; x to the image right, y down, z away from the camera).
_LANDMARKS_MM = np.array([[-32, -32], [32, -32], [0, 8], [-24, 40], [24, 40]], dtype=np.float64)
_BOX_MM = (-78.0, -85.0, 78.0, 100.0)

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DepthScene:
    depth_mm: DepthMap
    face: Face
    kind: str

    @property
    def is_attack(self) -> bool:
        return self.kind != "face"


def _rotation(yaw_deg: float, pitch_deg: float) -> F64:
    y, p = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return np.asarray(ry @ rx, dtype=np.float64)


def _head_params(rng: np.random.Generator) -> dict[str, float]:
    return {"depth": rng.uniform(70, 95), "nose": rng.uniform(14, 30), "eye_l": rng.uniform(5, 12),
            "eye_r": rng.uniform(5, 12), "lips": rng.uniform(3, 7), "brow": rng.uniform(4, 10)}


def _head_relief(x: F64, y: F64, k: dict[str, float]) -> F64:
    """Depth offset (mm, negative = towards the camera) of a face at head coordinates."""
    r2 = np.clip(1 - (x / 80.0) ** 2 - (y / 105.0) ** 2, 0.0, None)
    z = -k["depth"] * np.sqrt(r2)
    z = z - k["nose"] * np.exp(-((x / 11) ** 2 + ((y - 2) / 22) ** 2))
    for ex, key in ((-32.0, "eye_r"), (32.0, "eye_l")):
        z = z + k[key] * np.exp(-(((x - ex) / 14) ** 2 + ((y + 32) / 9) ** 2))
    z = z - k["lips"] * np.exp(-((x / 22) ** 2 + ((y - 40) / 7) ** 2))
    z = z - k["brow"] * np.exp(-((x / 30) ** 2 + ((y + 60) / 18) ** 2))
    return np.asarray(np.where(r2 > 0, z, np.nan), dtype=np.float64)


def _sheet_relief(x: F64, y: F64, kind: str, rng: np.random.Generator) -> F64:
    if kind == "bent":
        radius = rng.uniform(60, 300) * rng.choice([-1.0, 1.0])  # convex or concave
        axis_x = bool(rng.integers(2))
        s = x if axis_x else y
        z = np.sign(radius) * (abs(radius) - np.sqrt(np.clip(radius**2 - s**2, 0, None)))
        return np.asarray(z, dtype=np.float64)
    if kind == "wave":
        amp, wavelength = rng.uniform(3, 12), rng.uniform(60, 160)
        phase = rng.uniform(0, 2 * np.pi)
        s = x if rng.integers(2) else y
        return np.asarray(amp * np.sin(2 * np.pi * s / wavelength + phase), dtype=np.float64)
    return np.zeros_like(x)


def make_scene(kind: str, seed: int) -> DepthScene:
    """One synthetic scene of ``kind`` (``KINDS``), reproducible from ``seed``."""
    if kind not in KINDS:
        raise ValueError(f"expected a scene kind in {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    dist = rng.uniform(350, 900)
    face_yaw, face_pitch = rng.uniform(-25, 25), rng.uniform(-15, 15)
    sheet_yaw, sheet_pitch = ((rng.uniform(-45, 45), rng.uniform(-45, 45)) if kind == "tilted"
                              else (rng.uniform(-10, 10), rng.uniform(-10, 10)))
    yaw, pitch = (face_yaw, face_pitch) if kind == "face" else (sheet_yaw, sheet_pitch)
    centre = np.array([rng.uniform(-60, 60) * dist / 500, rng.uniform(-40, 40) * dist / 500, dist])
    step = 0.6 * dist / FOCAL_PX  # under a pixel apart: no holes once projected
    gx, gy = np.meshgrid(np.arange(-105, 105, step), np.arange(-135, 135, step))
    head = _head_params(rng)
    relief = (_head_relief(gx, gy, head) if kind == "face" else _sheet_relief(gx, gy, kind, rng))
    pts = np.stack([gx.ravel(), gy.ravel(), relief.ravel()], axis=1)
    pts = pts[np.isfinite(pts[:, 2])] @ _rotation(yaw, pitch).T + centre
    depth = np.full((HEIGHT, WIDTH), np.inf)
    px = np.round(pts[:, 0] * FOCAL_PX / pts[:, 2] + WIDTH / 2).astype(int)
    py = np.round(pts[:, 1] * FOCAL_PX / pts[:, 2] + HEIGHT / 2).astype(int)
    inside = (px >= 0) & (px < WIDTH) & (py >= 0) & (py < HEIGHT)
    np.minimum.at(depth, (py[inside], px[inside]), pts[inside, 2])
    background = np.isinf(depth)
    depth[background] = rng.uniform(1500, 3000)  # a wall behind
    sigma = 1.2 * (depth / 500.0) ** 2
    depth += rng.standard_normal(depth.shape) * sigma
    missing = rng.random(depth.shape) < (0.25 if kind == "screen" else rng.uniform(0.01, 0.05))
    depth[missing] = 0
    # Where the face is drawn in the colour frame: the head's own landmarks, or the photo's.
    def project(points: F64) -> F64:
        return np.asarray(np.c_[points[:, 0] * FOCAL_PX / points[:, 2] + WIDTH / 2,
                                points[:, 1] * FOCAL_PX / points[:, 2] + HEIGHT / 2],
                          dtype=np.float64)

    def place(xy: F64) -> F64:
        z = (_head_relief(xy[:, 0], xy[:, 1], head) if kind == "face"
             else np.zeros(len(xy)))
        return np.asarray(np.c_[xy, np.nan_to_num(z)] @ _rotation(yaw, pitch).T + centre,
                          dtype=np.float64)

    landmarks = project(place(_LANDMARKS_MM)).astype(np.float32)
    x0, y0, x1, y1 = _BOX_MM
    rim = np.array([[x, y] for x in np.linspace(x0, x1, 9) for y in np.linspace(y0, y1, 9)
                    if (x / 80.0) ** 2 + (y / 105.0) ** 2 < 0.97])
    corners = project(place(rim))
    box = (float(corners[:, 0].min()), float(corners[:, 1].min()),
           float(corners[:, 0].max()), float(corners[:, 1].max()))
    out = np.clip(np.round(depth), 0, 65535).astype(np.uint16)
    return DepthScene(out, Face(box_xyxy=box, landmarks5=landmarks, score=0.99), kind)


def relief_scores(kind: str, count: int, first_seed: int,
                  on_scene: Callable[[], None] | None = None) -> F64:
    """The depth check's score (mm) on ``count`` scenes of ``kind`` from ``first_seed``."""
    from smilepay.vision.liveness.depth import measure_relief, relief_score_mm

    out = np.empty(count)
    for i in range(count):
        scene = make_scene(kind, first_seed + i)
        out[i] = relief_score_mm(measure_relief(scene.depth_mm, scene.face))
        if on_scene is not None:
            on_scene()
    return out
