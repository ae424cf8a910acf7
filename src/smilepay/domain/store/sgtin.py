"""SGTIN-96 EPCs (GS1 EPC Tag Data Standard) decoded into GTIN-14 and serial, and encoded.

Layout (96 bits): header 8 (``0x30``), filter 3, partition 3, company prefix and item
reference 44 bits split by the partition (table below), serial 38. The GTIN-14 is the item
reference's first digit (the indicator), the company prefix, the rest of the item reference,
then the GS1 check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smilepay.domain.store.errors import InvalidEpc
from smilepay.errors import InvalidInput

SGTIN96_HEADER = 0x30
SERIAL_BITS = 38
MAX_SERIAL = (1 << SERIAL_BITS) - 1
# partition -> (company prefix bits, digits, item reference bits, digits)
PARTITIONS: dict[int, tuple[int, int, int, int]] = {
    0: (40, 12, 4, 1),
    1: (37, 11, 7, 2),
    2: (34, 10, 10, 3),
    3: (30, 9, 14, 4),
    4: (27, 8, 17, 5),
    5: (24, 7, 20, 6),
    6: (20, 6, 24, 7),
}
_HEX24 = re.compile(r"[0-9A-Fa-f]{24}")


@dataclass(frozen=True)
class Sgtin:
    filter: int
    partition: int
    company_prefix: str
    item_reference: str  # with its leading indicator digit
    serial: int

    @property
    def gtin14(self) -> str:
        body = self.item_reference[0] + self.company_prefix + self.item_reference[1:]
        return body + str(gs1_check_digit(body))


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (weights 3,1,3,... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def decode_sgtin96(epc_hex: str) -> Sgtin:
    """The SGTIN in a 24-hex-digit EPC, or ``InvalidEpc`` saying what is wrong."""
    if not isinstance(epc_hex, str) or not _HEX24.fullmatch(epc_hex):
        shown = epc_hex[:40] if isinstance(epc_hex, str) else type(epc_hex).__name__
        raise InvalidEpc(f"expected 24 hex digits (an SGTIN-96 EPC), got {shown!r}")
    value = int(epc_hex, 16)
    header = value >> 88
    if header != SGTIN96_HEADER:
        raise InvalidEpc(f"expected the SGTIN-96 header 0x30, got 0x{header:02X}", epc=epc_hex)
    filter_value = (value >> 85) & 0b111
    partition = (value >> 82) & 0b111
    if partition not in PARTITIONS:
        raise InvalidEpc(f"expected a partition 0..6, got {partition}", epc=epc_hex)
    cp_bits, cp_digits, ir_bits, ir_digits = PARTITIONS[partition]
    company = (value >> (SERIAL_BITS + ir_bits)) & ((1 << cp_bits) - 1)
    item = (value >> SERIAL_BITS) & ((1 << ir_bits) - 1)
    if company >= 10**cp_digits:
        raise InvalidEpc(f"expected a company prefix of {cp_digits} digits, got {company}",
                         epc=epc_hex)
    if item >= 10**ir_digits:
        raise InvalidEpc(f"expected an item reference of {ir_digits} digits, got {item}",
                         epc=epc_hex)
    return Sgtin(filter=filter_value, partition=partition,
                 company_prefix=str(company).zfill(cp_digits),
                 item_reference=str(item).zfill(ir_digits), serial=value & MAX_SERIAL)


def encode_sgtin96(gtin14: str, company_prefix_digits: int, serial: int,
                   filter_value: int = 1) -> str:
    """The EPC (24 upper-case hex digits) of ``gtin14`` with a company prefix of the given
    length (6..12 digits) and ``serial`` (0..2^38-1)."""
    check_gtin14(gtin14)
    partition = next((p for p, spec in PARTITIONS.items() if spec[1] == company_prefix_digits),
                     None)
    if partition is None:
        raise InvalidEpc(f"expected a company prefix of 6..12 digits, got {company_prefix_digits}")
    if not 0 <= serial <= MAX_SERIAL:
        raise InvalidEpc(f"expected a serial 0..{MAX_SERIAL}, got {serial}")
    if not 0 <= filter_value <= 7:
        raise InvalidEpc(f"expected a filter 0..7, got {filter_value}")
    _, cp_digits, ir_bits, _ = PARTITIONS[partition]
    company = int(gtin14[1:1 + cp_digits])
    item = int(gtin14[0] + gtin14[1 + cp_digits:13])
    value = (SGTIN96_HEADER << 88) | (filter_value << 85) | (partition << 82)
    value |= (company << (SERIAL_BITS + ir_bits)) | (item << SERIAL_BITS) | serial
    return f"{value:024X}"


def check_gtin14(gtin: str) -> str:
    """``gtin`` as 14 digits (8, 12 and 13 digit GTINs are left-padded), its check digit
    verified; else ``InvalidInput``."""
    if not isinstance(gtin, str) or not gtin.isascii() or not gtin.isdigit() \
            or len(gtin) not in (8, 12, 13, 14):
        raise InvalidInput(f"expected a GTIN of 8, 12, 13 or 14 digits, got {str(gtin)[:20]!r}",
                           param="gtin")
    padded = gtin.zfill(14)
    if gs1_check_digit(padded[:13]) != int(padded[13]):
        raise InvalidInput(f"expected a GTIN with check digit {gs1_check_digit(padded[:13])}, "
                           f"got {gtin}", param="gtin")
    return padded
