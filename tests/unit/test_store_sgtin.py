"""SGTIN-96 decoding against GS1's example, every partition, and each kind of corruption."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smilepay.domain.store.errors import InvalidEpc
from smilepay.domain.store.sgtin import (
    PARTITIONS,
    check_gtin14,
    decode_sgtin96,
    encode_sgtin96,
    gs1_check_digit,
)
from smilepay.errors import InvalidInput

GS1_EXAMPLE = "3074257BF7194E4000001A85"


def test_gs1_example_decodes_to_its_published_fields() -> None:
    tag = decode_sgtin96(GS1_EXAMPLE)
    assert tag.company_prefix == "0614141"
    assert tag.item_reference == "812345"
    assert tag.serial == 6789
    assert tag.filter == 3
    assert tag.partition == 5
    assert tag.gtin14 == "80614141123458"


def test_lower_case_hex_is_the_same_tag() -> None:
    assert decode_sgtin96(GS1_EXAMPLE.lower()) == decode_sgtin96(GS1_EXAMPLE)


def test_gs1_example_encodes_back() -> None:
    assert encode_sgtin96("80614141123458", 7, 6789, filter_value=3) == GS1_EXAMPLE


@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_every_partition_splits_prefix_and_item_reference(partition: int) -> None:
    _, cp_digits, _, ir_digits = PARTITIONS[partition]
    body = "".join(str((i * 7 + 3) % 10) for i in range(13))
    gtin = body + str(gs1_check_digit(body))
    epc = encode_sgtin96(gtin, cp_digits, 123_456_789)
    tag = decode_sgtin96(epc)
    assert tag.partition == partition
    assert len(tag.company_prefix) == cp_digits and len(tag.item_reference) == ir_digits
    assert tag.company_prefix == gtin[1:1 + cp_digits]
    assert tag.gtin14 == gtin and tag.serial == 123_456_789


@given(
    body=st.text(alphabet="0123456789", min_size=13, max_size=13),
    cp_digits=st.integers(6, 12),
    serial=st.integers(0, 2**38 - 1),
    filter_value=st.integers(0, 7),
)
def test_encode_then_decode_round_trips(body: str, cp_digits: int, serial: int,
                                        filter_value: int) -> None:
    gtin = body + str(gs1_check_digit(body))
    tag = decode_sgtin96(encode_sgtin96(gtin, cp_digits, serial, filter_value))
    assert (tag.gtin14, tag.serial, tag.filter) == (gtin, serial, filter_value)


@pytest.mark.parametrize(("epc", "says"), [
    ("", "24 hex digits"),
    ("3074257BF7194E4000001A8", "24 hex digits"),  # 23 digits
    ("3074257BF7194E4000001A850", "24 hex digits"),  # 25 digits
    ("3074257BF7194E4000001AZ5", "24 hex digits"),  # not hex
    (" 074257BF7194E4000001A85", "24 hex digits"),
    ("3174257BF7194E4000001A85", "header 0x30, got 0x31"),  # another EPC scheme
    ("E2004257BF7194E4000001A8", "header 0x30, got 0xE2"),  # a TID, not an EPC
])
def test_malformed_epcs_are_rejected_with_what_was_wrong(epc: str, says: str) -> None:
    with pytest.raises(InvalidEpc, match=says):
        decode_sgtin96(epc)


def test_partition_seven_is_rejected() -> None:
    value = int(GS1_EXAMPLE, 16) | (0b111 << 82)
    with pytest.raises(InvalidEpc, match=r"partition 0\.\.6, got 7"):
        decode_sgtin96(f"{value:024X}")


def test_company_prefix_beyond_its_digits_is_rejected() -> None:
    # partition 5: a 24-bit prefix field that must hold at most 7 digits
    value = (0x30 << 88) | (5 << 82) | (((1 << 24) - 1) << 58)
    with pytest.raises(InvalidEpc, match="company prefix of 7 digits, got 16777215"):
        decode_sgtin96(f"{value:024X}")


def test_item_reference_beyond_its_digits_is_rejected() -> None:
    # partition 6: a 24-bit item reference that must hold at most 7 digits
    value = (0x30 << 88) | (6 << 82) | (((1 << 24) - 1) << 38)
    with pytest.raises(InvalidEpc, match="item reference of 7 digits"):
        decode_sgtin96(f"{value:024X}")


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidEpc):
        decode_sgtin96(12345)  # type: ignore[arg-type]


def test_gtin_check_digit_is_enforced_and_short_gtins_padded() -> None:
    assert check_gtin14("4006381333931") == "04006381333931"  # an EAN-13
    with pytest.raises(InvalidInput, match="check digit 1, got 4006381333932"):
        check_gtin14("4006381333932")
    with pytest.raises(InvalidInput, match="8, 12, 13 or 14 digits"):
        check_gtin14("12345")


def test_encode_refuses_impossible_requests() -> None:
    with pytest.raises(InvalidEpc, match=r"6\.\.12 digits"):
        encode_sgtin96("80614141123458", 5, 1)
    with pytest.raises(InvalidEpc, match="serial"):
        encode_sgtin96("80614141123458", 7, 2**38)
