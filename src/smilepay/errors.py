"""The one error root. Subclasses live next to the code that raises them.

``SmilePayError`` carries a stable machine-readable ``code`` and the offending values; it
knows nothing of HTTP (the API maps codes to status codes in one table).

Tree (by module):
- errors:           SmilePayError, InvalidInput, NotFound, Conflict, ModelMissing
- vision.errors:    ImageError (NotAnImage, ImageTruncated, ImageEmpty, ImageTooLarge),
                    NoFaceFound, AmbiguousFaces, PoorQuality
- domain.*:         money and ledger errors (InsufficientFunds, ...), payment state errors
"""

from __future__ import annotations

from typing import Any


class SmilePayError(Exception):
    """Root of every error SmilePay raises on purpose."""

    code: str = "smilepay_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class InvalidInput(SmilePayError):
    """Input that does not meet its contract ("expected X, got Y")."""

    code = "invalid_input"


class NotFound(SmilePayError):
    code = "not_found"


class Conflict(SmilePayError):
    code = "conflict"


class ModelMissing(SmilePayError):
    """A model file is not installed or does not match its lock entry."""

    code = "model_missing"
