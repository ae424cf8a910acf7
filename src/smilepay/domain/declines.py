"""What a declined payment says to the people who read it: the customer on the kiosk and the
wallet page, the merchant on the dashboard. Plain words and real amounts: never an account id,
a limit in "minor units" or the rule that fired."""

from __future__ import annotations

from smilepay.domain.money import format_money
from smilepay.domain.money_errors import PaymentDeclined


def decline_text(declined: PaymentDeclined, amount_minor: int, currency: str) -> str:
    """One sentence for ``declined`` on a payment of ``amount_minor`` ``currency``."""
    details = declined.details
    if declined.code == "insufficient_funds":
        available = details.get("available_minor")
        if not isinstance(available, int) or available <= 0:
            return (f"The wallet has no {currency.upper()} balance: top it up in "
                    f"{currency.upper()} or pay another way.")
        return (f"Not enough money in the wallet: {format_money(available, currency)} "
                f"available, {format_money(amount_minor, currency)} needed. Top it up or pay "
                "another way.")
    limit = details.get("limit_minor")
    if declined.code == "amount_limit_exceeded" and isinstance(limit, int):
        return (f"{format_money(amount_minor, currency)} is above this customer's limit of "
                f"{format_money(limit, currency)} per payment.")
    if declined.code == "daily_limit_exceeded" and isinstance(limit, int):
        return (f"This payment would pass this customer's daily limit of "
                f"{format_money(limit, currency)}: try again tomorrow or pay another way.")
    if declined.code == "customer_locked_out":
        return "Too many failed attempts: face payment is paused for a while."
    return "The payment was declined: please pay another way."
