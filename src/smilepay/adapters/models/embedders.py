"""Embedders behind the ``Embedder`` port, each aligning and normalising as its model wants.

Channel order and input scaling were chosen by measurement (docs/accuracy.md): fr_feature scores
better fed BGR, MobileFaceNet and w600k_mbf RGB. ``flip=True`` adds the mirrored chip and
averages the two vectors (free for MobileFaceNet, whose batch is fixed at 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from smilepay.adapters.models.runtime import (
    litert_interpreter,
    onnx_session,
    require_licence_opt_in,
)
from smilepay.modelstore import model_path
from smilepay.vision.align import align_face
from smilepay.vision.fusion import unit
from smilepay.vision.types import Image, Vector

Landmarks = npt.NDArray[np.float32]


def _nchw(chips: list[Image], rgb: bool, mean: float, scale: float) -> npt.NDArray[np.float32]:
    batch = np.stack([c[:, :, ::-1] if rgb else c for c in chips]).astype(np.float32)
    return np.ascontiguousarray(((batch - mean) / scale).transpose(0, 3, 1, 2))


class OnnxArcFaceEmbedder:
    """An ArcFace-style ONNX model on 112x112 chips, NCHW, ``(x - mean) / scale``."""

    def __init__(self, model: str, *, rgb: bool, mean: float, scale: float, flip: bool,
                 model_id: str | None = None) -> None:
        self._session = onnx_session(model_path(model))
        inputs = self._session.get_inputs()
        self._input = inputs[0].name
        self._batch_fixed = isinstance(inputs[0].shape[0], int)
        self.dim = int(self._session.get_outputs()[0].shape[1])
        self.rgb, self.mean, self.scale, self.flip = rgb, mean, scale, flip
        self.model_id = model_id or (f"{model}+flip" if flip else model)

    def embed_chip(self, chip: Image) -> Vector:
        chips = [chip, np.ascontiguousarray(chip[:, ::-1])] if self.flip else [chip]
        if self._batch_fixed:
            outs = [self._session.run(None, {self._input: _nchw([c], self.rgb, self.mean,
                                                                 self.scale)})[0][0]
                    for c in chips]
        else:
            outs = list(self._session.run(None, {self._input: _nchw(chips, self.rgb, self.mean,
                                                                    self.scale)})[0])
        return unit(np.sum([unit(o) for o in outs], axis=0))

    def embed_face(self, image: Image, landmarks5: Landmarks) -> Vector:
        return self.embed_chip(align_face(image, landmarks5))


class FrFeatureEmbedder(OnnxArcFaceEmbedder):
    """Faceplugin fr_feature, 512-d; BGR, ``(x - 127) / 128``."""

    def __init__(self, flip: bool = False, rgb: bool = False) -> None:
        model_id = "fr_feature" + ("_rgb" if rgb else "") + ("+flip" if flip else "")
        super().__init__("fr_feature", rgb=rgb, mean=127.0, scale=128.0, flip=flip,
                         model_id=model_id)


class W600kMbfEmbedder(OnnxArcFaceEmbedder):
    """InsightFace w600k_mbf, 512-d. NON-COMMERCIAL weights: refused without the opt-in."""

    def __init__(self, flip: bool = False, allow_noncommercial: bool | None = None) -> None:
        require_licence_opt_in("w600k_mbf", allow_noncommercial)
        super().__init__("w600k_mbf", rgb=True, mean=127.5, scale=127.5, flip=flip)


class MobileFaceNetEmbedder:
    """MobileFaceNet TFLite, 192-d, NHWC RGB ``(x - 127.5) / 128``; batch fixed at 2."""

    def __init__(self, flip: bool = True, rgb: bool = True) -> None:
        self._interp = litert_interpreter(model_path("mobilefacenet"))
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]
        self.dim = 192
        self.flip, self.rgb = flip, rgb
        self.model_id = "mobilefacenet" + ("_bgr" if not rgb else "") + ("+flip" if flip else "")

    def embed_chip(self, chip: Image) -> Vector:
        second = np.ascontiguousarray(chip[:, ::-1]) if self.flip else chip
        batch = np.stack([chip, second]).astype(np.float32)
        if self.rgb:
            batch = batch[..., ::-1]
        self._interp.set_tensor(self._in, np.ascontiguousarray((batch - 127.5) / 128.0))
        self._interp.invoke()
        out = self._interp.get_tensor(self._out)
        if not self.flip:
            return unit(out[0])
        return unit(unit(out[0]) + unit(out[1]))

    def embed_face(self, image: Image, landmarks5: Landmarks) -> Vector:
        return self.embed_chip(align_face(image, landmarks5))


# dlib's own 150x150 chip (get_face_chip_details, padding 0.25) puts the eye centres at
# (0.324, 0.315) and (0.669, 0.315) of the chip: higher and slightly larger than ArcFace's.
# The ArcFace 5 points are mapped into that frame (same eye midpoint and eye distance).
_ARC_EYE_MID = np.array([55.912, 51.599], dtype=np.float32) / 112.0
_DLIB_EYE_MID = np.array([0.4965, 0.3150], dtype=np.float32)
_DLIB_SCALE = 0.3453 / 0.3146  # dlib eye distance / ArcFace eye distance (chip fractions)


def dlib_template(zoom: float = 1.0, shift_y: float = 0.0) -> Landmarks:
    """The ArcFace 5-point template moved onto dlib's chip geometry, in 112-pixel units

    (``align_face`` scales a template to the chip size)."""
    from smilepay.vision.align import ARCFACE_TEMPLATE_112

    unit = (ARCFACE_TEMPLATE_112 / 112.0 - _ARC_EYE_MID) * _DLIB_SCALE * zoom + _DLIB_EYE_MID
    return ((unit + np.array([0.0, shift_y], dtype=np.float32)) * 112.0).astype(np.float32)


class DlibResnetEmbedder:
    """dlib ResNet v1, 128-d, on its own 150x150 RGB chip (about 75-100 ms on one core)."""

    def __init__(self, flip: bool = False, zoom: float = 1.0, shift_y: float = 0.0) -> None:
        import dlib

        self._net: Any = dlib.face_recognition_model_v1(str(model_path("dlib_resnet")))
        self.dim = 128
        self.flip = flip
        self._template = dlib_template(zoom, shift_y)
        self.model_id = "dlib_resnet" + ("+flip" if flip else "")

    def chip(self, image: Image, landmarks5: Landmarks) -> Image:
        return align_face(image, landmarks5, size=150, template=self._template)

    def embed_chip(self, chip: Image) -> Vector:
        rgb = np.ascontiguousarray(chip[:, :, ::-1])
        vec = unit(np.array(self._net.compute_face_descriptor(rgb)))
        if self.flip:
            mirrored = np.ascontiguousarray(rgb[:, ::-1])
            vec = unit(vec + unit(np.array(self._net.compute_face_descriptor(mirrored))))
        return vec

    def embed_face(self, image: Image, landmarks5: Landmarks) -> Vector:
        return self.embed_chip(self.chip(image, landmarks5))
