"""The consent texts say what the code does: store entry names the entry AND the exit gate and
the copy of the payment template, and only its current text lets the gates name someone; the
payment text no longer says the face is used for nothing else, and a grant on its first text
stays valid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smilepay.domain.consent import (
    CONSENT_TEXTS,
    CURRENT_CONSENT_VERSION,
    ConsentRequired,
    consent_text,
)
from smilepay.domain.purposes import (
    NON_FACE_ALTERNATIVE,
    Purpose,
    grant_purpose_consent,
    purpose_text,
    store_consent_current,
)

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)


def test_the_store_entry_text_names_both_gates_the_copy_and_the_way_out() -> None:
    text = purpose_text(Purpose.STORE_ENTRY)
    body = text.body
    assert "entry gate" in body and "exit gate" in body
    assert "copy of the face template you enrolled for payments" in body
    assert "erasing your payment face does not remove it" in body
    assert "entry code" in body  # the non-face way in
    assert NON_FACE_ALTERNATIVE[Purpose.STORE_ENTRY] == "a QR code from the app"
    assert "for store entry only" not in body and "entrance camera" not in body
    assert "365 days after a store gate last recognised you" in body  # the sweep's rule
    assert store_consent_current(text.version)
    assert not store_consent_current("2026-12-store-entry-v1")


def test_a_store_entry_grant_needs_the_digest_of_the_current_text() -> None:
    text = purpose_text(Purpose.STORE_ENTRY)
    record = grant_purpose_consent(consent_id="pcon_1", tenant_id="ten_1", customer_id="cus_1",
                                   purpose=Purpose.STORE_ENTRY, accepted_digest=text.digest,
                                   now=NOW)
    assert (record.version, record.text_digest) == (text.version, text.digest)
    with pytest.raises(ConsentRequired):
        grant_purpose_consent(consent_id="pcon_2", tenant_id="ten_1", customer_id="cus_1",
                              purpose=Purpose.STORE_ENTRY, accepted_digest="0" * 64, now=NOW)


def test_the_payment_text_moved_on_and_its_first_version_stays_known() -> None:
    current = consent_text()
    assert current.version == CURRENT_CONSENT_VERSION == "2026-12-face-pay-v2"
    assert "nothing else unless you turn on another use yourself" in current.body
    assert "own copy" in current.body
    first = consent_text("2026-11-face-pay-v1")  # grants on it keep their retention
    assert "Your face is used for nothing else." in first.body
    assert first.digest != current.digest and set(CONSENT_TEXTS) == {
        "2026-11-face-pay-v1", "2026-12-face-pay-v2"}


def test_texts_published_before_keep_their_wording_and_digest() -> None:
    for text in (purpose_text(Purpose.BOARDING), purpose_text(Purpose.ATTENDANCE),
                 consent_text("2026-11-face-pay-v1")):
        assert "365 days after your last face payment" in text.body or \
            f"{text.retention_days} days after your last face payment" in text.body
    assert consent_text("2026-11-face-pay-v1").digest.startswith("19f1689a8a58")
    assert purpose_text(Purpose.BOARDING).digest.startswith("0c2548d2258e")
