"""Entry QR codes: drawn with ``segno`` for the wallet page, read with ``zxing-cpp`` from a
gate camera's frames (JPEG or PNG bytes)."""

from __future__ import annotations

import io

import numpy as np
import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from smilepay.errors import InvalidInput

MAX_IMAGE_BYTES = 2_000_000
MAX_PIXELS = 1920 * 1080


def qr_svg(text: str, *, scale: int = 6) -> str:
    """An SVG (as text) of ``text`` in a QR code, error correction M, with a quiet zone."""
    return str(segno.make_qr(text, error="m").svg_inline(scale=scale, border=4))


def qr_png(text: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def read_qr_codes(image: bytes) -> list[str]:
    """The texts of every QR code in an encoded image (empty when none)."""
    if len(image) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"expected an image of at most {MAX_IMAGE_BYTES} bytes, "
                           f"got {len(image)}")
    try:
        with Image.open(io.BytesIO(image)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InvalidInput(f"expected at most {MAX_PIXELS} pixels, "
                                   f"got {img.width}x{img.height}")
            gray = np.asarray(img.convert("L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInput("expected a JPEG or PNG image, got undecodable bytes") from exc
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(gray, formats=qr_only)
    return [code.text for code in found if code.valid]
