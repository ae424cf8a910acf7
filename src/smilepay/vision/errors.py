"""Errors the face pipeline raises on purpose (all subclasses of ``SmilePayError``).

- ``ImageError``: the bytes are not a usable picture
  - ``NotAnImage``: no known image format
  - ``ImageTruncated``: a known format, cut short or corrupt
  - ``ImageEmpty``: zero bytes or zero pixels
  - ``ImageTooLarge``: more pixels than allowed (checked from the header, before decoding)
- ``NoFaceFound``: no face (or none good enough) in the picture
- ``AmbiguousFaces``: two or more faces too alike in size and place to tell who is paying
- ``PoorQuality``: a face was found but fails the quality gate; ``reasons`` says why
"""

from __future__ import annotations

from typing import Any

from smilepay.errors import InvalidInput, SmilePayError


class ImageError(InvalidInput):
    code = "image_invalid"


class NotAnImage(ImageError):
    code = "not_an_image"


class ImageTruncated(ImageError):
    code = "image_truncated"


class ImageEmpty(ImageError):
    code = "image_empty"


class ImageTooLarge(ImageError):
    code = "image_too_large"


class NoFaceFound(SmilePayError):
    code = "no_face_found"


class AmbiguousFaces(SmilePayError):
    code = "ambiguous_faces"


class PoorQuality(SmilePayError):
    code = "poor_quality"

    def __init__(self, message: str, reasons: tuple[str, ...], **details: Any) -> None:
        super().__init__(message, reasons=reasons, **details)
        self.reasons = reasons
