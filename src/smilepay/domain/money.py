"""Money: integer minor units with an ISO 4217 currency. No floats anywhere."""

from __future__ import annotations

import re

from smilepay.domain.money_errors import InvalidAmount
from smilepay.errors import InvalidInput

# Minor-unit exponents of the currencies we accept (ISO 4217).
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "CNY": 2, "HKD": 2, "SGD": 2, "AUD": 2,
    "CAD": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "JPY": 0, "KRW": 0, "KWD": 3,
}
MAX_AMOUNT_MINOR = 10**12  # one trillion minor units: far above any payment, far below int64

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def parse_currency(value: str) -> str:
    """The upper-case ISO code, or ``InvalidInput`` for anything we do not accept."""
    if not _CURRENCY.match(value) or value.upper() not in CURRENCY_EXPONENTS:
        raise InvalidInput(
            f"expected a currency in {sorted(CURRENCY_EXPONENTS)}, got {value!r}",
            param="currency",
        )
    return value.upper()


def check_amount_minor(amount_minor: int, *, param: str = "amount_minor") -> int:
    """A positive integer amount below ``MAX_AMOUNT_MINOR``."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmount(f"expected an integer amount, got {amount_minor!r}", param=param)
    if not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidAmount(
            f"expected 1..{MAX_AMOUNT_MINOR} minor units, got {amount_minor}", param=param
        )
    return amount_minor


def fee_minor(amount_minor: int, fee_bps: int) -> int:
    """The platform fee in basis points, rounded half up to a whole minor unit."""
    return (amount_minor * fee_bps + 5_000) // 10_000


def format_money(amount_minor: int, currency: str) -> str:
    """An amount as people read it, in the currency's own unit: ``450, "EUR"`` is
    ``"4.50 EUR"``, ``500, "JPY"`` is ``"500 JPY"``, ``1250, "KWD"`` is ``"1.250 KWD"``."""
    code = currency.upper()
    exponent = CURRENCY_EXPONENTS.get(code, 2)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**exponent)
    text = f"{whole:,}" if exponent == 0 else f"{whole:,}.{fraction:0{exponent}d}"
    return f"{sign}{text} {code}"

