"""Rejected payment orders from Bankgirot (``AVVISADE BET UPPDR``). ``write_rejected`` writes one the way
Bankgirot does, for tests and the demo's bank side.

TK82/TK32 with 3-10 date, 11 period, 12-14 number, 15-30 payer number, 31-42 amount, 43-58
reference, 59-60 comment code; TK09 (15-20 number and 21-32 amount outgoing, 33-38 and 39-50
incoming).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from backend_stub.formats.autogiro.records import (
    LAYOUT_REJECTED,
    AutogiroError,
    alpha,
    answer_opening,
    numeric,
    opening_answer,
    record_line,
    records_of,
    to_bytes,
)

# Rejected payment orders, positions 59-60.
REJECTION_COMMENT = {
    "01": "no mandate",
    "02": "the account is not approved or is closed",
    "03": "the mandate is stopped",
    "04": "wrong payer bankgiro number",
    "05": "wrong payee bankgiro number",
    "06": "wrong period code",
    "07": "wrong number of self-renewing payments",
    "08": "the amount is not numeric",
    "09": "outgoing payments are not allowed",
    "10": "the bankgiro number is not at Bankgirot",
    "12": "wrong payment date",
    "13": "the payment date has passed",
    "15": "the payee bankgiro number differs between the opening record and the payment",
    "24": "the amount exceeds the maximum amount",
}

MANDATE_REJECTION_CODES = frozenset({"01", "02", "03"})  # the order failed because the mandate is gone


@dataclass(frozen=True)
class RejectedOrder:
    """A payment order Bankgirot refused. ``payment_date`` is None when the date sent was not a date
    (comment 12, wrong payment date); ``payment_date_raw`` keeps it as sent."""

    record_type: str  # "82" or "32"
    payment_date: date | None
    period_code: str
    repetitions: str
    payer_number: str
    amount_ore: int
    reference: str
    comment_code: str
    line_no: int = 0
    payment_date_raw: str = ""

    @property
    def text(self) -> str:
        return REJECTION_COMMENT.get(self.comment_code, f"code {self.comment_code}")


@dataclass
class RejectedFile:
    written: date
    customer_number: str
    bankgiro: str
    orders: list[RejectedOrder] = field(default_factory=list)


def write_rejected(f: RejectedFile) -> bytes:
    """A file of rejected payment orders as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [opening_answer(f.written.strftime("%Y%m%d"), LAYOUT_REJECTED, f.customer_number, f.bankgiro, errors)]
    for o in f.orders:
        where = f"rejected order (payer {o.payer_number})"
        when = (
            o.payment_date.strftime("%Y%m%d")
            if o.payment_date
            else numeric(o.payment_date_raw, 8, "payment_date", where, errors)
        )
        lines.append(
            record_line(
                o.record_type,
                when,
                o.period_code[:1] or "0",
                numeric(o.repetitions, 3, "repetitions", where, errors) if o.repetitions.strip() else "   ",
                numeric(o.payer_number, 16, "payer_number", where, errors),
                numeric(o.amount_ore, 12, "amount_ore", where, errors),
                alpha(o.reference, 16, "reference", where, errors),
                numeric(o.comment_code, 2, "comment", where, errors),
            )
        )
    outs = [o for o in f.orders if o.record_type == "32"]
    ins = [o for o in f.orders if o.record_type == "82"]
    lines.append(
        record_line(
            "09",
            f.written.strftime("%Y%m%d"),
            "9900",
            f"{len(outs):06d}",
            f"{sum(o.amount_ore for o in outs):012d}",
            f"{len(ins):06d}",
            f"{sum(o.amount_ore for o in ins):012d}",
        )
    )
    if errors:
        raise AutogiroError(errors)
    return to_bytes(lines)


def parse_rejected(data: bytes) -> RejectedFile:
    lines = records_of(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = answer_opening(first, LAYOUT_REJECTED)
    f = RejectedFile(first.day(25, 32, "date written"), customer, bg)
    closing = None
    for line in lines[1:]:
        if closing is not None:
            line.error("a record after the closing record (TK09)")
        elif line.tc in ("82", "32"):
            reps = line.raw(12, 14)
            raw_date = line.digits(3, 10, "payment date")
            try:  # a wrong date is what some rejections are about (comment 12): kept as sent
                when: date | None = datetime.strptime(raw_date, "%Y%m%d").date()
            except ValueError:
                when = None
            f.orders.append(
                RejectedOrder(
                    line.tc,
                    when,
                    line.raw(11, 11),
                    line.digits(12, 14, "repetitions") if reps.strip() else "",
                    line.digits(15, 30, "payer_number"),
                    line.number(31, 42, "amount"),
                    line.text_(43, 58),
                    line.digits(59, 60, "comment code"),
                    line.no,
                    raw_date,
                )
            )
        elif line.tc == "09":
            closing = line
            line.day(3, 10, "date")
            line.literal(11, 14, "9900", "clearing number (9900)")
            for a, kind, what in ((15, "32", "outgoing"), (33, "82", "incoming")):
                orders = [o for o in f.orders if o.record_type == kind]
                n, amount = line.number(a, a + 5, f"number of {what}"), line.number(a + 6, a + 17, f"{what} amount")
                if n != len(orders) or amount != sum(o.amount_ore for o in orders):
                    line.error(
                        f"{what} totals (positions {a}-{a + 17}) say {n} orders of {amount} öre, the file has "
                        f"{len(orders)} of {sum(o.amount_ore for o in orders)}"
                    )
        else:
            line.error(f"transaction code {line.tc!r} does not belong in a file of rejected orders (01, 82, 32, 09)")
    if closing is None:
        errors.append(f"line {lines[-1].no + 1}: the closing record (TK09) is missing")
    if errors:
        raise AutogiroError(errors)
    return f
