"""The document side of KYC: parse the typed document, read the portrait page's face.

Document numbers are validated here before any face work. The portrait page is decoded,
embedded and dropped; only its vector (rotated into the tenant space) leaves this module.
The 1:1 threshold comes from the document calibration tables made by ``smilepay eval
document``: ``calibration_<model>_document_chip.json`` for the chip's portrait (read over NFC),
``calibration_<model>_document.json`` for a photo of the printed portrait page.

The document's face must be near-frontal (``document_frontal``): the same pose limit as the
selfie frames that make the probe (``IDENTITY_MAX_POSE_DEG``), read by the same pipeline. A
real document portrait is frontal by the issuer's rules; a turned one is refused and goes to
the staff check. With both sides gated like this the chip portrait's TAR at FAR 1e-4 comes
within 0.013 of live vs live on the same pairs (docs/accuracy.md), and the tables are
calibrated on pairs gated the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from smilepay.domain.documents import IdentityDocument, parse_cn_resident_id, parse_td3
from smilepay.domain.documents.types import DocumentType
from smilepay.errors import InvalidInput, NotFound
from smilepay.services.face_frames import IDENTITY_MAX_POSE_DEG
from smilepay.vision.calibration import CalibrationTable, parse_table, table_filename
from smilepay.vision.types import Image, QualityReport

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_SIDE_PX = 4000


@dataclass(frozen=True)
class DocumentEntry:
    """What the customer typed: a resident ID number, or the two MRZ lines of a passport."""

    document_type: str
    number: str = ""
    mrz_line1: str = ""
    mrz_line2: str = ""


def parse_document(entry: DocumentEntry, today: date) -> IdentityDocument:
    """The validated document; ``DocumentInvalid`` / ``DocumentExpired`` otherwise."""
    try:
        kind = DocumentType(entry.document_type)
    except ValueError:
        raise InvalidInput(f"expected a document type in {[t.value for t in DocumentType]}, "
                           f"got {entry.document_type!r}", param="document_type") from None
    if kind is DocumentType.CN_RESIDENT_ID:
        return parse_cn_resident_id(entry.number, today).as_document()
    return parse_td3(entry.mrz_line1, entry.mrz_line2, today).as_document()


CHIP_MAX_SIDE_PX = 240  # a chip portrait is 102 x 126 (ICAO: up to about 240 px a side)


@dataclass(frozen=True)
class DocumentCalibration:
    table: CalibrationTable
    source: str  # "chip" (the chip's portrait) or "page" (a photo of the portrait page)


def document_model_id(model_id: str, source: str) -> str:
    return f"{model_id}_document_chip" if source == "chip" else f"{model_id}_document"


def document_source(image: Image) -> str:
    """A chip portrait is small and holds only the face; anything larger is a page photo."""
    return "chip" if max(image.shape[:2]) <= CHIP_MAX_SIDE_PX else "page"


@lru_cache(maxsize=8)
def document_calibration(model_id: str, source: str) -> DocumentCalibration:
    """The shipped table for ``model_id`` and the document source; ``NotFound`` when none
    ships (then the KYC flow refuses to decide rather than borrow the live threshold)."""
    name = table_filename(document_model_id(model_id, source))
    resource = resources.files("smilepay").joinpath("data", name)
    if not resource.is_file():
        raise NotFound(f"expected a document calibration table {name}, got none: run "
                       "`smilepay eval document --calibration-dir src/smilepay/data`",
                       model_id=model_id)
    return DocumentCalibration(parse_table(json.loads(resource.read_text())), source)


def document_frontal(quality: QualityReport) -> bool:
    """The document face's pose is within the selfie probe's limit (``IDENTITY_MAX_POSE_DEG``
    on yaw and pitch). Only the pose is asked of a document: a chip portrait's face is small
    (about 50 px) by design, so the face-size and sharpness rules of a live frame do not
    apply."""
    return max(abs(quality.yaw_deg), abs(quality.pitch_deg)) <= IDENTITY_MAX_POSE_DEG


def check_document_image(image: Image) -> Image:
    if image.shape[0] > MAX_DOCUMENT_SIDE_PX or image.shape[1] > MAX_DOCUMENT_SIDE_PX:
        raise InvalidInput(f"expected a document photo of <= {MAX_DOCUMENT_SIDE_PX} px a side, "
                           f"got {image.shape[1]}x{image.shape[0]}", param="document")
    return image
