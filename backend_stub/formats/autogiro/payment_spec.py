"""Payment specification and stopped payments in the balance check (``BET. SPEC & STOPP TK``) from
Bankgirot: what was drawn, what was not, what was refunded. ``write_payment_spec`` writes one the way
Bankgirot does, for tests and the demo's bank side.

TK01 (25-44 date and time written), per section an opening TK15 (incoming), TK16 (outgoing) or TK17
(refunds) with 3-37 payee account, 38-45 payment date, 46-50 serial number, 51-68 amount of the
approved payments, 72-79 their number; then TK82/TK32 (as sent, reference at 54-69, 80 status code)
or TK77 (70-77 refund date, 78-79 refund code); TK09 (15-20/21-32 incoming sections/approved records,
33-38/39-50 outgoing, 51-56/57-68 refunds). Counts and totals of every section and of the closing
record are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from backend_stub.formats.autogiro.records import (
    LAYOUT_PAYMENT_SPEC,
    AutogiroError,
    Line,
    alpha,
    answer_opening,
    numeric,
    opening_answer,
    record_line,
    records_of,
    to_bytes,
)

# Payment specification, TK82/TK32 position 80.
PAYMENT_STATUS = {
    "0": "approved: the payment was made",
    "1": "insufficient funds: the payment was not made",
    "2": "no Autogiro connection (account closed) or another reason: the payment was not made",
    "9": "renewed funds: not made yet, Bankgirot tries again (where agreed)",
}

REFUND_CODES = {
    "01": "no mandate was given to the payee",
    "02": "the mandate was revoked",
    "03": "the amount exceeded what the payer could reasonably expect",
}


@dataclass(frozen=True)
class PaymentResult:
    """A TK82/TK32 (status in ``status_code``) or TK77 (refund code in ``status_code``) of a payment specification."""

    record_type: str  # "82", "32", "77"
    payment_date: date
    period_code: str
    repetitions: str
    payer_number: str
    amount_ore: int
    payee_bankgiro: str
    reference: str
    status_code: str
    refund_date: date | None = None
    line_no: int = 0

    @property
    def approved(self) -> bool:
        return self.record_type != "77" and self.status_code == "0"

    @property
    def text(self) -> str:
        table = REFUND_CODES if self.record_type == "77" else PAYMENT_STATUS
        return table.get(self.status_code, f"code {self.status_code}")


@dataclass
class PaymentSection:
    record_type: str  # "15" incoming, "16" outgoing, "17" refunds
    account: str
    payment_date: date
    serial: str
    amount_ore: int
    count: int
    results: list[PaymentResult] = field(default_factory=list)
    line_no: int = 0


@dataclass
class PaymentSpecFile:
    written: datetime
    customer_number: str
    bankgiro: str
    sections: list[PaymentSection] = field(default_factory=list)

    @property
    def results(self) -> list[PaymentResult]:
        return [r for s in self.sections for r in s.results]


def _result_line(r: PaymentResult, errors: list[str]) -> str:
    where = f"result (payer {r.payer_number})"
    head = (
        r.record_type,
        r.payment_date.strftime("%Y%m%d"),
        r.period_code[:1] or "0",
        numeric(r.repetitions, 3, "repetitions", where, errors) if r.repetitions.strip() else "   ",
        " ",
        numeric(r.payer_number, 16, "payer_number", where, errors),
        numeric(r.amount_ore, 12, "amount_ore", where, errors),
        numeric(r.payee_bankgiro, 10, "payee_bankgiro", where, errors),
        # Bankgirot gives the reference back right-aligned and zero-filled
        alpha(r.reference.strip().rjust(16, "0"), 16, "reference", where, errors),
    )
    if r.record_type == "77":
        refund = (r.refund_date or r.payment_date).strftime("%Y%m%d")
        return record_line(*head, refund, numeric(r.status_code, 2, "status_code", where, errors))
    return record_line(*head, " " * 10, r.status_code[:1])


def write_payment_spec(f: PaymentSpecFile) -> bytes:
    """A payment specification as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [
        opening_answer(f.written.strftime("%Y%m%d%H%M%S%f"), LAYOUT_PAYMENT_SPEC, f.customer_number, f.bankgiro, errors)
    ]
    totals = {"15": [0, 0], "16": [0, 0], "17": [0, 0]}
    for s in f.sections:
        where = f"section {s.record_type} {s.payment_date}"
        counted = [r for r in s.results if r.record_type == "77" or r.approved]
        amount, count = sum(r.amount_ore for r in counted), len(counted)
        lines.append(
            record_line(
                s.record_type,
                numeric(s.account, 35, "account", where, errors),
                s.payment_date.strftime("%Y%m%d"),
                numeric(s.serial, 5, "serial", where, errors),
                numeric(amount, 18, "amount", where, errors),
                "   ",
                numeric(count, 8, "count", where, errors),
            )
        )
        lines += [_result_line(r, errors) for r in s.results]
        totals[s.record_type][0] += 1
        totals[s.record_type][1] += count
    closing = "".join(f"{totals[k][0]:06d}{totals[k][1]:012d}" for k in ("15", "16", "17"))
    lines.append(record_line("09", f.written.strftime("%Y%m%d"), "9900", closing))
    if errors:
        raise AutogiroError(errors)
    return to_bytes(lines)


def parse_payment_spec(data: bytes) -> PaymentSpecFile:
    """Read a payment specification; the sections and the closing record must add up."""
    lines = records_of(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = answer_opening(first, LAYOUT_PAYMENT_SPEC)
    f = PaymentSpecFile(_written(first), customer, bg)
    section: PaymentSection | None = None
    closing = None
    for line in lines[1:]:
        tc = line.tc
        if closing is not None:
            line.error("a record after the closing record (TK09)")
        elif tc in _SECTION_RECORDS:
            section = PaymentSection(
                tc,
                line.digits(3, 37, "payee account"),
                line.day(38, 45, "payment date"),
                line.digits(46, 50, "serial number"),
                line.number(51, 68, "amount"),
                line.number(72, 79, "number of records"),
                line_no=line.no,
            )
            f.sections.append(section)
        elif tc in ("82", "32", "77"):
            if section is None or tc not in _SECTION_RECORDS[section.record_type]:
                line.error(f"a TK{tc} must follow a TK{ {'82': '15', '32': '16', '77': '17'}[tc] } section opening")
                continue
            section.results.append(_result(line))
        elif tc == "09":
            closing = line
        else:
            line.error(
                f"transaction code {tc!r} does not belong in a payment specification (01, 15, 16, 17, 82, 32, 77, 09)"
            )
    _check_sections(f, errors)
    if closing is None:
        errors.append(f"line {lines[-1].no + 1}: the closing record (TK09) is missing")
    else:
        _check_closing(closing, f)
    if errors:
        raise AutogiroError(errors)
    return f


# The section openings (TK15 incoming, TK16 outgoing, TK17 refunds) and the records each may hold.
_SECTION_RECORDS = {"15": ("82",), "16": ("32",), "17": ("77",)}


def _written(first: Line) -> datetime:
    """When Bankgirot wrote the file (TK01 25-44: date, time and microseconds)."""
    stamp = first.raw(25, 44)
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S%f")
    except ValueError:
        first.error(f"date and time written (positions 25-44) must be YYYYMMDDHHMMSS and 6 digits, got {stamp!r}")
        return datetime(1970, 1, 1)


def _result(line: Line) -> PaymentResult:
    """A TK82/TK32 as it was sent, with its status code, or a TK77 refund with its date and code."""
    tc = line.tc
    reps = line.raw(12, 14)
    if reps.strip():
        reps = line.digits(12, 14, "repetitions")
    result = PaymentResult(
        tc,
        line.day(3, 10, "payment date"),
        line.raw(11, 11),
        reps.strip(),
        line.digits(16, 31, "payer_number"),
        line.number(32, 43, "amount"),
        line.digits(44, 53, "payee bankgiro"),
        line.text_(54, 69),
        line.digits(78, 79, "refund code") if tc == "77" else line.raw(80, 80),
        line.day(70, 77, "refund date") if tc == "77" else None,
        line.no,
    )
    if tc != "77" and result.status_code not in PAYMENT_STATUS:
        line.error(f"status code (position 80) must be one of 0, 1, 2, 9, got {result.status_code!r}")
    return result


def _check_sections(f: PaymentSpecFile, errors: list[str]) -> None:
    """Each section opening's amount and count are those of its approved payments (and all its refunds)."""
    for s in f.sections:
        counted = [r for r in s.results if r.record_type == "77" or r.approved]
        if sum(r.amount_ore for r in counted) != s.amount_ore:
            errors.append(
                f"line {s.line_no}: amount (positions 51-68) is {s.amount_ore} öre, the section's approved "
                f"payments add up to {sum(r.amount_ore for r in counted)}"
            )
        if len(counted) != s.count:
            errors.append(
                f"line {s.line_no}: number of records (positions 72-79) is {s.count}, the section has "
                f"{len(counted)} approved"
            )


def _check_closing(closing: Line, f: PaymentSpecFile) -> None:
    """The closing record (TK09) counts the sections and records of each kind."""
    closing.day(3, 10, "date")
    closing.literal(11, 14, "9900", "clearing number (9900)")
    for a, kind, what in ((15, "15", "incoming"), (33, "16", "outgoing"), (51, "17", "refund")):
        secs = [s for s in f.sections if s.record_type == kind]
        n_secs = closing.number(a, a + 5, f"number of {what} sections")
        n_recs = closing.number(a + 6, a + 17, f"number of {what} records")
        if n_secs != len(secs) or n_recs != sum(s.count for s in secs):
            closing.error(
                f"{what} totals (positions {a}-{a + 17}) say {n_secs} sections and {n_recs} records, "
                f"the file has {len(secs)} and {sum(s.count for s in secs)}"
            )
