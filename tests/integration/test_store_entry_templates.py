"""The store gates' templates on SQLite and PostgreSQL: which store-entry copies a gate may
compare a face with (an active grant on a text that covers the gates; not a revoked one, not
one on the first text, not another purpose's templates), and erasing one purpose's templates
leaves the other purposes'."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from smilepay.domain.consent import ConsentText
from smilepay.domain.purposes import (
    STORE_FACE_VERSIONS,
    Purpose,
    PurposeConsent,
    grant_purpose_consent,
    purpose_text,
)
from smilepay.domain.templates import SealedBlob, SealedTemplate
from smilepay.domain.tenants import Scope
from smilepay.errors import InvalidInput
from smilepay.services.erase import erase_purpose_templates

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)
SCOPE = Scope("ten_storeface", False)


@pytest.fixture(scope="module")
def stores(money_url: str) -> Iterator[tuple[object, object]]:
    from smilepay.adapters.sql.engine import make_engine
    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.adapters.sql.gates_store_entry import SqlStoreEntryTemplates

    engine = make_engine(money_url)
    yield SqlGatesStore(engine), SqlStoreEntryTemplates(engine)
    engine.dispose()


def _template(template_id: str, customer: str, scope: Scope = SCOPE) -> SealedTemplate:
    return SealedTemplate(template_id, scope.tenant_id, scope.livemode, customer, "model_a", 1,
                          4, 1.0, NOW, SealedBlob("k1", b"n" * 12, b"c" * 32))


def _grant(customer: str, purpose: Purpose, n: int) -> PurposeConsent:
    return grant_purpose_consent(consent_id=f"pcon_sf{n}", tenant_id=SCOPE.tenant_id,
                                 customer_id=customer, purpose=purpose,
                                 accepted_digest=purpose_text(purpose).digest, now=NOW)


def test_a_gate_compares_only_copies_under_a_current_active_grant(
        stores: tuple[object, object]) -> None:
    from smilepay.adapters.sql.gates_store import SqlGatesStore
    from smilepay.adapters.sql.gates_store_entry import SqlStoreEntryTemplates

    gates, templates = stores
    assert isinstance(gates, SqlGatesStore) and isinstance(templates, SqlStoreEntryTemplates)
    first_text = ConsentText("2026-12-store-entry-v1", "old", "old", 365, "old")
    assert first_text.version not in STORE_FACE_VERSIONS
    gates.add_purpose_consent(SCOPE, _grant("cus_now", Purpose.STORE_ENTRY, 1))
    gates.add_purpose_consent(SCOPE, replace(  # a grant on the first text, still active
        _grant("cus_old", Purpose.STORE_ENTRY, 2), version=first_text.version,
        text_digest=first_text.digest))
    gates.add_purpose_consent(SCOPE, _grant("cus_gone", Purpose.STORE_ENTRY, 3))
    gates.add_purpose_consent(SCOPE, _grant("cus_board", Purpose.BOARDING, 4))
    for template_id, customer in (("ftpl_now", "cus_now"), ("ftpl_old", "cus_old"),
                                  ("ftpl_gone", "cus_gone")):
        templates.add(_template(template_id, customer), Purpose.STORE_ENTRY)
    templates.add(_template("ftpl_board", "cus_board"), Purpose.BOARDING)
    templates.add(_template("ftpl_other", "cus_now", Scope(SCOPE.tenant_id, True)),
                  Purpose.STORE_ENTRY)  # live mode: another scope
    assert gates.revoke_purpose(SCOPE, "cus_gone", Purpose.STORE_ENTRY, 1) == 1
    assert templates.candidates(SCOPE, STORE_FACE_VERSIONS) == [("ftpl_now", "cus_now")]
    assert templates.candidates(SCOPE, {first_text.version}) == [("ftpl_old", "cus_old")]


def test_erasing_one_purpose_leaves_the_others(stores: tuple[object, object]) -> None:
    from smilepay.adapters.sql.gates_store_entry import SqlStoreEntryTemplates

    _, templates = stores
    assert isinstance(templates, SqlStoreEntryTemplates)
    templates.add(_template("ftpl_both_store", "cus_both"), Purpose.STORE_ENTRY)
    templates.add(_template("ftpl_both_board", "cus_both"), Purpose.BOARDING)
    removed = erase_purpose_templates(templates, SCOPE, "cus_both", Purpose.STORE_ENTRY)
    assert removed == ["ftpl_both_store"]
    assert templates.ids_for(SCOPE, Purpose.STORE_ENTRY, ["cus_both"]) == []
    assert templates.ids_for(SCOPE, Purpose.BOARDING, ["cus_both"]) == [
        ("ftpl_both_board", "cus_both")]
    with pytest.raises(InvalidInput):
        erase_purpose_templates(templates, SCOPE, "cus_both", Purpose.PAYMENT)
