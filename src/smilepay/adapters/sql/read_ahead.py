"""Read-ahead: the first reads of a group-commit batch's units, made for all of them at once.

Every payment starts the same way: claim its Idempotency-Key, lock the payer's wallet, read the
payer's standing (the customer, the day's spend, recent failures) for the risk rules. Unit by
unit that is three round trips per payment, and in each the batch's leader waits on the
database and then on the GIL. Told up front what each unit will ask (``ports.money.Hint``),
the batch's transaction asks it with three statements for the whole batch (just before its
first keyed unit, see ``group_commit``), and each unit's question is answered from here.

Lock order. Units run in payer order, and each used to lock its payer's wallet in its turn, so
every batch locked wallets in payer order. The read-ahead keeps that order: it locks, in payer
order, only the wallets of the leading run of keyed units whose hints name a currency (all in
one scope and currency); a unit after that run locks its own wallet in its turn, as before.

An answer is given only when it is what the unit's own statement would return:
- A read-ahead claim answers the first claim of its key in the transaction, and only when it
  is the very claim hinted (same fingerprint and times). Any other claim of the key goes to the
  database, and the read-ahead one is dropped first, so a key is never owned twice.
- A wallet was locked here for the whole transaction; ``SqlMoneyTx`` lays its buffered balance
  saves over it (as over any locked read) and forgets all read-ahead wallets as soon as it
  writes an account balance to the database.
- A standing is read after its wallet's lock and only for a payer whose wallet was locked
  here, so the day's spend (which only payments holding that lock change) is current. It is
  dropped when this transaction writes a payment or an attempt of that customer, or any
  customer; and it answers only risk windows it counts exactly: rows counted from a window
  start are also the rows counted from any later start up to the oldest of them.

What no lock covers is read once per batch: failed attempts and customer rows (limits) that
other transactions commit between the read-ahead and a unit's turn (milliseconds) are not seen
by that unit, which decides as if it had run at the read-ahead. That is a valid serial order
(those writers read nothing a payment writes), and no weaker than before: nothing ever locked
them against a payment in flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row

from smilepay.adapters.sql import statements as st
from smilepay.adapters.sql.records import from_row
from smilepay.domain.customers import Customer
from smilepay.domain.ledger import Account, AccountKind
from smilepay.domain.tenants import Scope
from smilepay.ports.money import Hint, KeyClaim, PayerHint, PayerStanding

_KeyId = tuple[str, bool, str]  # tenant, livemode, key
_PayerId = tuple[Scope, str, str]  # scope, customer, currency


def standing_from_row(row: Row[Any]) -> tuple[PayerStanding, dict[str, Any]]:
    """A ``payer_standing_stmt`` row: the standing, and the other ``standing_*`` columns."""
    values = dict(row._mapping)
    extra = {k: values.pop(k) for k in list(values) if k.startswith("standing_")}
    standing = PayerStanding(from_row(Customer, values), int(extra.pop("standing_spent")),
                             int(extra.pop("standing_failures")),
                             bool(extra.pop("standing_mandated")))
    return standing, extra


def _leading_payers(
    hints: Sequence[Hint | None],
) -> tuple[Scope, str, dict[str, PayerHint]] | None:
    """The payers of the leading hints that name a currency, all in the first one's scope and
    currency (see "Lock order" above); None when the first does not."""
    found: dict[str, PayerHint] = {}
    group = None
    for hint in hints:
        payer = None if hint is None else hint.payer
        if hint is None or payer is None or payer.currency is None:
            break
        if group is None:
            group = (hint.scope, payer.currency)
        elif group != (hint.scope, payer.currency):
            break
        found.setdefault(payer.customer_id, payer)
    return None if group is None else (group[0], group[1], found)


def _counts_same(read_since_ms: int, oldest_ms: int | None, asked_since_ms: int) -> bool:
    """Whether rows counted from ``read_since_ms`` (the oldest at ``oldest_ms``) are the rows
    counted from ``asked_since_ms``."""
    return read_since_ms <= asked_since_ms and (oldest_ms is None or asked_since_ms <= oldest_ms)


@dataclass(frozen=True)
class _Standing:
    standing: PayerStanding
    spent_since_ms: int
    oldest_spent_ms: int | None
    failures_since_ms: int
    oldest_failure_ms: int | None

    def answers(self, spent_since_ms: int, failures_since_ms: int) -> bool:
        return (_counts_same(self.spent_since_ms, self.oldest_spent_ms, spent_since_ms)
                and _counts_same(self.failures_since_ms, self.oldest_failure_ms,
                                 failures_since_ms))


class ReadAhead:
    def __init__(self) -> None:
        self._claims: dict[_KeyId, KeyClaim] = {}
        self._wallets: dict[_PayerId, Account] = {}
        self._standings: dict[_PayerId, _Standing] = {}

    def read(self, conn: Connection, hints: Sequence[Hint | None], *, pg: bool) -> None:
        """Claim the hinted keys; lock the leading payers' wallets, then read their standings
        (after the locks: see ``MoneyTx.payer_standing``). ``hints``: the keyed units', in
        run order, None where a unit gave none."""
        self._claim(conn, hints, pg=pg)
        leading = _leading_payers(hints)
        if leading is not None:
            scope, currency, payers = leading
            self._lock_wallets(conn, scope, currency, sorted(payers), pg=pg)
            locked = [p for p in payers.values() if (scope, p.customer_id, currency)
                      in self._wallets]  # no wallet, no lock: no standing kept either
            if locked:
                self._read_standings(conn, scope, currency, locked)

    def _claim(self, conn: Connection, hints: Sequence[Hint | None], *, pg: bool) -> None:
        wanted: dict[_KeyId, KeyClaim] = {}
        for hint in hints:
            if hint is not None and hint.claim is not None:  # the batch's first of a key
                wanted.setdefault((hint.scope.tenant_id, hint.scope.livemode, hint.claim.key),
                                  hint.claim)
        if not wanted:
            return
        rows = [  # in key order: two batches wait on each other's keys in one order
            {"tenant_id": tenant, "livemode": livemode, "key": key,
             "fingerprint": claim.fingerprint, "created_at_ms": claim.now_ms,
             "expires_at_ms": claim.expires_at_ms}
            for (tenant, livemode, key), claim in sorted(wanted.items(), key=lambda kv: kv[0])
        ]
        won = {(r.tenant_id, bool(r.livemode), r.key)
               for r in conn.execute(st.claim_key_stmt(pg), rows)}
        self._claims = {k: claim for k, claim in wanted.items() if k in won}

    def _lock_wallets(self, conn: Connection, scope: Scope, currency: str, owners: list[str],
                      *, pg: bool) -> None:
        rows = conn.execute(st.lock_wallets_stmt(pg), {
            "b_tenant": scope.tenant_id, "b_livemode": scope.livemode,
            "b_kind": AccountKind.CUSTOMER_WALLET.value, "b_currency": currency,
            "b_owners": owners,
        })
        for row in rows:
            self._wallets[(scope, row.owner_id, currency)] = from_row(Account, row)

    def _read_standings(self, conn: Connection, scope: Scope, currency: str,
                        payers: Iterable[PayerHint]) -> None:
        payers = list(payers)
        # one window for all: the earliest start; ``_Standing.answers`` checks each question
        spent_since = min(p.spent_since_ms for p in payers)
        failures_since = min(p.failures_since_ms for p in payers)
        rows = conn.execute(st.payer_standing_stmt(True), {
            "b_ids": sorted(p.customer_id for p in payers), "b_tenant": scope.tenant_id,
            "b_livemode": scope.livemode, "b_currency": currency,
            "b_spent_since": spent_since, "b_failures_since": failures_since,
        })
        for row in rows:
            standing, extra = standing_from_row(row)
            self._standings[(scope, standing.customer.id, currency)] = _Standing(
                standing, spent_since, extra["standing_oldest_spent"], failures_since,
                extra["standing_oldest_failure"])

    # answers ---------------------------------------------------------------------------
    def owns_claim(self, scope: Scope, claim: KeyClaim) -> bool:
        """Whether this transaction already holds exactly ``claim``; asked once per key."""
        return self._claims.pop((scope.tenant_id, scope.livemode, claim.key), None) == claim

    def wallets(
        self, scope: Scope, keys: Sequence[tuple[AccountKind, str, str]]
    ) -> list[Account] | None:
        """The locked wallets as read (no save laid over them), or None unless all were."""
        found = []
        for kind, owner, currency in keys:
            wallet = self._wallets.get((scope, owner, currency))
            if kind is not AccountKind.CUSTOMER_WALLET or wallet is None:
                return None
            found.append(wallet)
        return found

    def standing(
        self, scope: Scope, customer_id: str, currency: str, spent_since_ms: int,
        failures_since_ms: int,
    ) -> PayerStanding | None:
        got = self._standings.get((scope, customer_id, currency))
        if got is None or not got.answers(spent_since_ms, failures_since_ms):
            return None
        return got.standing

    # what a write makes stale ------------------------------------------------------------
    def forget(self, cls: type[Any]) -> None:
        """Every row of ``cls`` may have changed in the database."""
        if cls is Account:
            self._wallets.clear()
        elif cls is Customer:
            self._standings.clear()

    def forget_payer(self, customer_id: str | None) -> None:
        """A payment or attempt of ``customer_id`` was written."""
        if customer_id is not None and self._standings:
            self._standings = {k: v for k, v in self._standings.items() if k[1] != customer_id}
