"""Errors of the store: bad tags, bad catalogue rows, forbidden trip moves, refused entries."""

from __future__ import annotations

from smilepay.errors import Conflict, InvalidInput, SmilePayError


class InvalidEpc(InvalidInput):
    """An EPC that is not a well-formed SGTIN-96."""

    code = "invalid_epc"


class InvalidCatalogue(InvalidInput):
    code = "invalid_catalogue"


class InvalidTripState(Conflict):
    code = "trip_unexpected_state"


class EntryRefused(SmilePayError):
    """The entry gate stays shut: unpaid debt, a hold that failed, a bad or used QR code."""

    code = "entry_refused"


class DeviceAuthFailed(SmilePayError):
    code = "device_auth_failed"
