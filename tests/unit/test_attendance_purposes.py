"""Consent per purpose and purpose-scoped erasure; boarding tickets and the gate's two rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from smilepay.domain.boarding import (
    BoardingClosed,
    BoardMethod,
    Departure,
    GateAttempt,
    Ticket,
    TicketAlreadyUsed,
    check_open,
    consume,
    gate_rates,
)
from smilepay.domain.consent import ConsentRequired
from smilepay.domain.documents import Guardian, GuardianRequired
from smilepay.domain.purposes import (
    NON_FACE_ALTERNATIVE,
    Purpose,
    PurposeTemplate,
    grant_purpose_consent,
    parse_purpose,
    plan_purpose_erasure,
    purpose_text,
    require_consent,
    revoke_purpose_consent,
)
from smilepay.errors import InvalidInput

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)


def test_every_purpose_offers_a_non_face_way() -> None:
    assert set(NON_FACE_ALTERNATIVE) == set(Purpose)
    assert parse_purpose("boarding") is Purpose.BOARDING
    with pytest.raises(InvalidInput):
        parse_purpose("marketing")


def test_grants_are_per_purpose_and_revoked_alone() -> None:
    attendance = grant_purpose_consent(
        consent_id="pc_1", tenant_id="ten_1", customer_id="cus_a", purpose=Purpose.ATTENDANCE,
        accepted_digest=purpose_text(Purpose.ATTENDANCE).digest, now=NOW)
    boarding = grant_purpose_consent(
        consent_id="pc_2", tenant_id="ten_1", customer_id="cus_a", purpose=Purpose.BOARDING,
        accepted_digest=purpose_text(Purpose.BOARDING).digest, now=NOW)
    revoked = revoke_purpose_consent(attendance, NOW + timedelta(days=1))
    assert require_consent([revoked, boarding], "cus_a", Purpose.BOARDING) is boarding
    with pytest.raises(ConsentRequired):
        require_consent([revoked, boarding], "cus_a", Purpose.ATTENDANCE)
    with pytest.raises(ConsentRequired):
        require_consent([boarding], "cus_b", Purpose.BOARDING)


def test_a_grant_needs_the_exact_text() -> None:
    with pytest.raises(ConsentRequired):
        grant_purpose_consent(consent_id="pc_1", tenant_id="ten_1", customer_id="cus_a",
                              purpose=Purpose.BOARDING,
                              accepted_digest=purpose_text(Purpose.ATTENDANCE).digest, now=NOW)


def test_an_under_14_grant_records_a_verified_adult_guardian() -> None:
    child = date(2016, 3, 3)
    with pytest.raises(GuardianRequired):
        grant_purpose_consent(consent_id="pc_1", tenant_id="ten_1", customer_id="cus_c",
                              purpose=Purpose.BOARDING,
                              accepted_digest=purpose_text(Purpose.BOARDING).digest, now=NOW,
                              birth_date=child)
    record = grant_purpose_consent(
        consent_id="pc_1", tenant_id="ten_1", customer_id="cus_c", purpose=Purpose.BOARDING,
        accepted_digest=purpose_text(Purpose.BOARDING).digest, now=NOW, birth_date=child,
        guardian=Guardian("cus_parent", verified=True, birth_date=date(1985, 1, 1)))
    assert record.guardian_customer_id == "cus_parent"


def test_erasing_one_purpose_leaves_the_others() -> None:
    templates = [PurposeTemplate("tpl_1", "cus_a", Purpose.PAYMENT),
                 PurposeTemplate("tpl_2", "cus_a", Purpose.ATTENDANCE),
                 PurposeTemplate("tpl_3", "cus_a", Purpose.BOARDING),
                 PurposeTemplate("tpl_4", "cus_b", Purpose.ATTENDANCE)]
    plan = plan_purpose_erasure(templates, "cus_a", Purpose.ATTENDANCE)
    assert plan.remove == ("tpl_2",) and plan.keep == ("tpl_1", "tpl_3")


def test_a_ticket_is_consumed_once() -> None:
    ticket = Ticket("tk_1", "dep_1", "cus_a")
    used = consume(ticket, NOW, BoardMethod.FACE)
    assert used.consumed_at == NOW and used.method is BoardMethod.FACE
    with pytest.raises(TicketAlreadyUsed):
        consume(used, NOW, BoardMethod.QR)


def test_boarding_window_and_fare() -> None:
    departure = Departure("dep_1", "train", NOW, NOW + timedelta(minutes=30), fare_minor=450,
                          fare_currency="EUR")
    check_open(departure, NOW)
    with pytest.raises(BoardingClosed):
        check_open(departure, NOW + timedelta(minutes=30))
    with pytest.raises(InvalidInput):
        Departure("dep_2", "taxi", NOW, NOW, 0)


def test_capture_and_match_rates_are_separate() -> None:
    attempts = ([GateAttempt(True, True, BoardMethod.FACE)] * 49
                + [GateAttempt(True, False, BoardMethod.QR)]
                + [GateAttempt(False, False, BoardMethod.QR)] * 12
                + [GateAttempt(False, False, None)] * 3)
    rates = gate_rates(attempts)
    assert rates.travellers == 65 and rates.captured == 50 and rates.matched == 49
    assert rates.capture_rate == pytest.approx(50 / 65) and rates.match_rate == pytest.approx(0.98)
    assert rates.boarded_by_face == 49 and rates.boarded_by_qr == 13
    with pytest.raises(InvalidInput):
        gate_rates([GateAttempt(False, True, BoardMethod.FACE)])
