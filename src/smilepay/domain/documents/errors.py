"""Errors of document validation ("expected X, got Y"; never the full number in a message)."""

from __future__ import annotations

from smilepay.errors import InvalidInput


class DocumentInvalid(InvalidInput):
    """A document number or MRZ that fails its format, date or check-digit rules."""

    code = "document_invalid"


class DocumentExpired(InvalidInput):
    """A passport whose expiry date has passed."""

    code = "document_expired"
