"""Request bodies of the store's API (``api.routes_store``): sizes capped at the edge."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_FRAMES = 5
MAX_MESSAGES = 200


class StoreIn(BaseModel):
    name: str = Field(max_length=120)
    currency: str = Field(max_length=3)
    entry_hold_minor: int = Field(ge=0, le=10**12, strict=True)  # JSON integers only
    auto_refund_max_minor: int = Field(default=0, ge=0, le=10**12, strict=True)


class GateIn(BaseModel):
    kind: str = Field(max_length=8)
    terminal: str = Field(max_length=40)


class DeviceIn(BaseModel):
    kind: str = Field(max_length=16)
    zone: str = Field(max_length=40)


class SlotIn(BaseModel):
    device: str = Field(max_length=40)
    zone: str = Field(max_length=40)
    gtin: str = Field(max_length=14)


class CatalogueIn(BaseModel):
    csv: str = Field(max_length=60_000)


class EntryIn(BaseModel):
    code: str | None = Field(default=None, max_length=400)  # typed by staff or scanned
    frames: list[str] = Field(default_factory=list, max_length=MAX_FRAMES)  # base64 images
    session: str | None = Field(default=None, max_length=40)  # the gate's face session
    digits: str | None = Field(default=None, max_length=4)  # keypad: the phone's last four


class PassageIn(BaseModel):
    trip: str = Field(max_length=40)
    people_seen: int


class ExitIn(BaseModel):
    trip: str | None = Field(default=None, max_length=40)
    frames: list[str] = Field(default_factory=list, max_length=MAX_FRAMES)
    session: str | None = Field(default=None, max_length=40)
    digits: str | None = Field(default=None, max_length=4)


class MessageIn(BaseModel):
    topic: str = Field(max_length=200)
    payload: str = Field(max_length=60_000)


class EventsIn(BaseModel):
    messages: list[MessageIn] = Field(max_length=MAX_MESSAGES)


class DisputeIn(BaseModel):
    reason: str = Field(max_length=24)


class DecideIn(BaseModel):
    approve: bool


class GuestsIn(BaseModel):
    guests: int


class ResolveIn(BaseModel):
    charge: bool
