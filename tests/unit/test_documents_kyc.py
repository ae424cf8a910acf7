"""The KYC document side: typed documents parsed before any face work, chip or page source,
size caps, the shipped document tables."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from smilepay.domain.documents import DocumentExpired, DocumentInvalid, DocumentType
from smilepay.errors import InvalidInput
from smilepay.services.identity_document import (
    DocumentEntry,
    check_document_image,
    document_calibration,
    document_source,
    parse_document,
)

TODAY = date(2026, 12, 6)


def test_a_resident_id_and_a_passport_parse() -> None:
    cn = parse_document(DocumentEntry("cn_resident_id", "11010519491231002X"), TODAY)
    assert cn.document_type is DocumentType.CN_RESIDENT_ID and cn.birth_year == 1949
    with pytest.raises(DocumentExpired):
        parse_document(DocumentEntry(
            "passport", mrz_line1="P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            mrz_line2="L898902C36UTO7408122F1204159ZE184226B<<<<<10"), TODAY)


def test_bad_entries_are_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_document(DocumentEntry("driving_licence", "X1"), TODAY)
    with pytest.raises(DocumentInvalid):
        parse_document(DocumentEntry("cn_resident_id", "11010519491231002"), TODAY)
    with pytest.raises(DocumentInvalid):
        parse_document(DocumentEntry("passport", mrz_line1="P<", mrz_line2=""), TODAY)


def test_chip_or_page_by_size_and_the_side_cap() -> None:
    assert document_source(np.zeros((126, 102, 3), np.uint8)) == "chip"
    assert document_source(np.zeros((214, 340, 3), np.uint8)) == "page"
    with pytest.raises(InvalidInput):
        check_document_image(np.zeros((4001, 10, 3), np.uint8))


def test_the_shipped_document_tables() -> None:
    chip = document_calibration("fusion_fast", "chip").table
    page = document_calibration("fusion_fast", "page").table
    assert chip.model_id == "fusion_fast_document_chip"
    assert page.model_id == "fusion_fast_document"
    assert all(r.impostor_pairs * r.far >= 1 for r in (*chip.rows, *page.rows))
    assert 0.2 < page.threshold_at_far(1e-4) < chip.threshold_at_far(1e-4) < 0.6
