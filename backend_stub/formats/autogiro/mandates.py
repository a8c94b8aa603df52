"""Mandate advice from Bankgirot (``AG-MEDAVI``): what became of each mandate. ``write_mandate_advice``
writes one the way Bankgirot does, for tests and the demo's bank side.

TK01 (25-32 date, 45-64 layout name, 65-70 customer number, 71-80 bankgiro), TK73 per mandate (3-12
bankgiro, 13-28 payer number, 29-44 account, 45-56 personal number, 62-63 information code, 64-65
comment code, 66-73 date), TK09 (3-10 date, 11-14 ``9900``, 15-21 number of TK73).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from backend_stub.formats.autogiro.records import (
    LAYOUT_MANDATE_ADVICE,
    AutogiroError,
    answer_opening,
    numeric,
    opening_answer,
    record_line,
    records_of,
    to_bytes,
)

# Mandate advice (TK73): information code (what happened) and comment code (the outcome).
MANDATE_INFO = {
    "03": "cancelled at the payee's request",
    "04": "new mandate at the payee's request",
    "05": "payer number changed at the payee's request",
    "10": "cancelled: the payee's bankgiro number is closed",
    "42": "answer from the payer's bank to the account enquiry",
    "43": "cancelled: the account enquiry was not answered",
    "44": "cancelled: the payer's bankgiro number is closed",
    "46": "cancelled by the payer or the payer's bank",
    "93": "cancelled by the payer",
}

MANDATE_COMMENT = {
    "02": "the mandate was cancelled by the payer or the payer's bank",
    "03": "the account type is not approved for Autogiro",
    "04": "the mandate is not in Bankgirot's mandate register",
    "05": "wrong bank account or personal identity number",
    "07": "cancelled: the account enquiry was not answered",
    "09": "the payer's bankgiro number is not at Bankgirot",
    "10": "the mandate is already registered or under enquiry",
    "20": "wrong personal or organisation number, or no agreement for mandates with bankgiro number",
    "21": "wrong payer number",
    "23": "wrong bank account number",
    "29": "wrong payee bankgiro number",
    "30": "the payee bankgiro number is deregistered",
    "32": "new mandate",
    "33": "cancelled",
    "98": "cancelled because the payer's bankgiro number was closed",
}


@dataclass(frozen=True)
class MandateAdvice:
    """A TK73: what became of one mandate."""

    payee_bankgiro: str
    payer_number: str
    account: str  # 16 digits, or "" when Bankgirot leaves it blank
    personal_number: str
    info_code: str
    comment_code: str
    advice_date: date
    line_no: int = 0

    @property
    def outcome(self) -> str:
        """``approved``, ``withdrawn`` (cancelled, by either side), ``renumbered`` or ``rejected``."""
        if self.comment_code == "32" and self.info_code in ("04", "42"):
            return "approved"
        if self.info_code == "05":
            return "renumbered"
        if self.comment_code in ("33", "02", "98") or self.info_code in ("03", "10", "44", "46", "93"):
            return "withdrawn"
        return "rejected"

    @property
    def text(self) -> str:
        return (
            f"{MANDATE_INFO.get(self.info_code, 'code ' + self.info_code)}; "
            f"{MANDATE_COMMENT.get(self.comment_code, 'code ' + self.comment_code)}"
        )


@dataclass
class MandateAdviceFile:
    written: date
    customer_number: str
    bankgiro: str
    advices: list[MandateAdvice] = field(default_factory=list)


def write_mandate_advice(f: MandateAdviceFile) -> bytes:
    """A mandate advice file as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [opening_answer(f.written.strftime("%Y%m%d"), LAYOUT_MANDATE_ADVICE, f.customer_number, f.bankgiro, errors)]
    for i, a in enumerate(f.advices, start=1):
        where = f"advice {i} (payer {a.payer_number})"
        lines.append(
            record_line(
                "73",
                numeric(a.payee_bankgiro, 10, "payee_bankgiro", where, errors),
                numeric(a.payer_number, 16, "payer_number", where, errors),
                numeric(a.account, 16, "account", where, errors) if a.account else " " * 16,
                numeric(a.personal_number, 12, "personal_number", where, errors) if a.personal_number else " " * 12,
                " " * 5,
                numeric(a.info_code, 2, "info_code", where, errors),
                numeric(a.comment_code, 2, "comment_code", where, errors),
                a.advice_date.strftime("%Y%m%d"),
            )
        )
    lines.append(
        record_line("09", f.written.strftime("%Y%m%d"), "9900", numeric(len(f.advices), 7, "count", "TK09", errors))
    )
    if errors:
        raise AutogiroError(errors)
    return to_bytes(lines)


def parse_mandate_advice(data: bytes) -> MandateAdviceFile:
    lines = records_of(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = answer_opening(first, LAYOUT_MANDATE_ADVICE)
    f = MandateAdviceFile(first.day(25, 32, "date written"), customer, bg)
    closing = None
    for line in lines[1:]:
        if closing is not None:
            line.error("a record after the closing record (TK09)")
        elif line.tc == "73":
            account = line.raw(29, 44)
            f.advices.append(
                MandateAdvice(
                    line.digits(3, 12, "payee bankgiro"),
                    line.digits(13, 28, "payer_number"),
                    "" if not account.strip() else line.digits(29, 44, "account"),
                    line.digits(45, 56, "personal_number", blank_ok=True),
                    line.digits(62, 63, "information code"),
                    line.digits(64, 65, "comment code"),
                    line.day(66, 73, "date"),
                    line.no,
                )
            )
        elif line.tc == "09":
            closing = line
            line.day(3, 10, "date")
            line.literal(11, 14, "9900", "clearing number (9900)")
            count = line.number(15, 21, "number of TK73 records")
            if count != len(f.advices):
                line.error(f"number of TK73 records (positions 15-21) is {count}, the file has {len(f.advices)}")
        else:
            line.error(f"transaction code {line.tc!r} does not belong in a mandate advice file (01, 73, 09)")
    if closing is None:
        errors.append(f"line {lines[-1].no + 1}: the closing record (TK09) is missing")
    if errors:
        raise AutogiroError(errors)
    return f
