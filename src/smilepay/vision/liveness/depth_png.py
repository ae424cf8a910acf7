"""Reading the depth map a 3D-camera terminal sends: a 16-bit greyscale PNG in millimetres,
the size of the colour frame (docs/depth-format.md)."""

from __future__ import annotations

import struct

import cv2
import numpy as np

from smilepay.vision.liveness.depth import validate_depth_map
from smilepay.vision.liveness.errors import InvalidDepthMap
from smilepay.vision.liveness.types import DepthMap

MAX_DEPTH_BYTES = 5_000_000  # a 1920 x 1080 16-bit map that does not compress at all: 4.1 MB
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COLOUR_KINDS = {0: "greyscale", 2: "RGB", 3: "palette", 4: "grey + alpha", 6: "RGBA"}


def decode_depth_png(png: bytes, frame_hw: tuple[int, int]) -> DepthMap:
    """A 16-bit single-channel PNG in millimetres, the size of the colour frame, as uint16.

    The PNG header is checked before any pixel is decoded (so a map of the wrong size or
    kind, or a decompression bomb, never expands); ``validate_depth_map`` checks the result.
    Raises ``InvalidDepthMap`` saying what is wrong.
    """
    if len(png) > MAX_DEPTH_BYTES:
        raise InvalidDepthMap(f"expected a depth map of <= {MAX_DEPTH_BYTES} bytes, got {len(png)}")
    if len(png) < 33 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise InvalidDepthMap(f"expected a PNG depth map, got {len(png)} bytes of another format")
    width, height, bits, colour = struct.unpack(">IIBB", png[16:26])
    if bits != 16 or colour != 0:
        kind = PNG_COLOUR_KINDS.get(colour, f"colour type {colour}")
        raise InvalidDepthMap(f"expected a 16-bit greyscale PNG depth map, got {bits}-bit {kind}")
    if (height, width) != frame_hw:
        raise InvalidDepthMap(f"expected a depth map of the colour frame's size {frame_hw[1]}x"
                              f"{frame_hw[0]}, got {width}x{height}")
    depth = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if depth is None:
        raise InvalidDepthMap("expected a complete PNG depth map, got a truncated or corrupt one")
    return validate_depth_map(depth, frame_hw)
