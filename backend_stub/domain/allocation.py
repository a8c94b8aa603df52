"""How money on an invoice is allocated: the statutory order, and one payment over several invoices.

Allocation (räntelagen / inkassolagen practice): each payment first covers reminder fees,
then late interest, then the invoice amount, in the order things happened; what is left
over is credit balance (used on the next invoice, or refunded by an agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend_stub.domain.errors import Invalid


@dataclass(frozen=True)
class Allocation:
    """Where an invoice's money stands: what is open and what was paid, per part."""

    principal_open: int
    fees_open: int
    interest_open: int
    overpaid: int
    principal_paid: int
    fees_paid: int
    interest_paid: int

    @property
    def balance(self) -> int:
        return self.principal_open + self.fees_open + self.interest_open - self.overpaid


def allocate(
    amount_due: int,
    *,
    credits: list[tuple[date, int]],
    charges: list[tuple[date, str, int]],
    payments: list[tuple[date, int]],
    upto: date | None = None,
) -> Allocation:
    """Walk an invoice's credits (positive amounts credited), charges and payments in date order.

    On each day credits and charges come before payments. ``upto`` stops after that day.
    """
    items: list[tuple[date, int, str, int]] = []
    items += [(d, 0, "credit", a) for d, a in credits]
    items += [(d, 0, kind, a) for d, kind, a in charges]
    items += [(d, 1, "payment", a) for d, a in payments]
    items.sort(key=lambda t: (t[0], t[1]))
    principal, fees, interest, over = amount_due, 0, 0, 0
    paid = {"principal": 0, "fees": 0, "interest": 0}
    for d, _o, kind, a in items:
        if upto is not None and d > upto:
            break
        if kind == "credit":
            take = min(a, max(principal, 0))
            principal -= take
            over += a - take  # credited after it was paid: money back to the customer
        elif kind == "reminder_fee":
            fees += a
        elif kind == "interest":
            interest += a
        elif a >= 0:
            rest = a
            for part in ("fees", "interest", "principal"):
                open_ = {"fees": fees, "interest": interest, "principal": principal}[part]
                take = min(rest, max(open_, 0))
                rest -= take
                paid[part] += take
                if part == "fees":
                    fees -= take
                elif part == "interest":
                    interest -= take
                else:
                    principal -= take
            over += rest
        else:  # money out (refund, credit balance moved to another invoice): from the surplus first
            out = -a
            take = min(out, over)
            over -= take
            principal += out - take
            paid["principal"] -= out - take
    return Allocation(principal, fees, interest, over, paid["principal"], paid["fees"], paid["interest"])


def split_over_invoices(amount_ore: int, balances: list[int]) -> list[int]:
    """One payment over several invoices, given in payment order (oldest due date first): each takes
    at most its balance (nothing when it has none); what is left over goes on the last invoice, where
    it becomes credit balance. Within an invoice ``allocate`` then applies its share to fees, interest
    and the invoice amount. Returns each invoice's share; they add up to ``amount_ore``.
    """
    if not balances:
        raise Invalid("balances", "a payment needs at least one invoice")
    if amount_ore < 0:
        raise Invalid("amount_ore", "must not be negative")
    shares, rest = [], amount_ore
    for balance in balances:
        take = min(rest, max(balance, 0))
        shares.append(take)
        rest -= take
    shares[-1] += rest
    return shares
