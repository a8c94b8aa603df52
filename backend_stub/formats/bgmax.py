"""Bankgirot's BgMax incoming-payments file (Bankgirot, "Bankgirot Inbetalningar – BgMax, Teknisk manual").

Every record type of the format is read: 01 start, 05 opening (one per deposit), 20 payment,
21 deduction, 22/23 extra reference (plus/minus), 25 information, 26 name, 27 address 1,
28 address 2, 29 organisation number, 15 deposit, 70 end. The totals are checked: each
deposit's amount and payment count against its payments, and the end record's counts
against the file. Any problem is an error naming the line; a file with errors is rejected
whole, so nothing is half-imported.

Records are 80 characters. Real files sometimes have shorter lines (padded here) and TAB
characters where spaces belong (expanded to 8-column tab stops, the usual meaning; the
fixed-position fields are then checked as strictly as on any other line, and the line is
reported in ``warnings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

RECORD_LENGTH = 80

REFERENCE_CODES = {
    "0": "no reference",
    "1": "no reference (could not be read)",
    "2": "OCR reference",
    "3": "one or more references",
    "4": "reference",
    "5": "incorrect reference",
}
CHANNEL_CODES = {
    "1": "electronic payment from a bank",
    "2": "electronic payment via Leverantörsbetalningar",
    "3": "payment form (blankett)",
    "4": "electronic payment via Autogiro",
}
DEDUCTION_CODES = {"0": "whole deduction", "1": "partial deduction, rest to follow", "2": "final deduction"}


class BgMaxError(ValueError):
    """The file can not be imported; ``errors`` name each bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:20]) + (f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""))
        self.errors = errors


@dataclass
class ExtraReference:
    line_no: int
    reference: str
    amount_ore: int  # negative for TK23 (extra reference, minus)
    reference_code: str
    channel_code: str
    bgc_serial: str


@dataclass
class BgPayment:
    """A payment (TK20) or deduction (TK21, amount negative) with the records that belong to it."""

    line_no: int
    record_type: str
    payer_bankgiro: str
    reference: str
    amount_ore: int
    reference_code: str
    channel_code: str
    bgc_serial: str
    has_image: bool
    deduction_code: str | None = None
    extra_references: list[ExtraReference] = field(default_factory=list)
    information: list[str] = field(default_factory=list)
    name: str = ""
    extra_name: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    country_code: str = ""
    organisation_number: str = ""

    @property
    def references(self) -> list[str]:
        """Every reference the payer gave (the main one may hold several, separated by spaces or commas)."""
        out: list[str] = []
        for r in [*re.split(r"[\s,;]+", self.reference), *(x.reference for x in self.extra_references)]:
            if r and r not in out:
                out.append(r)
        return out


@dataclass
class Deposit:
    line_no: int
    receiver_bankgiro: str
    receiver_plusgiro: str
    currency: str
    payments: list[BgPayment] = field(default_factory=list)
    bank_account: str = ""
    payment_date: date | None = None
    deposit_serial: str = ""
    amount_ore: int = 0
    payment_count: int = 0
    deposit_type: str = ""


@dataclass
class BgMaxFile:
    version: str
    created_at: datetime
    test: bool
    deposits: list[Deposit]
    payment_records: int
    deduction_records: int
    extra_reference_records: int
    warnings: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """Files from the bank are ISO 8859-1; UTF-8 copies are read as UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


class _Line:
    def __init__(self, no: int, text: str, errors: list[str]) -> None:
        self.no, self.text, self.errors = no, text, errors

    def s(self, a: int, b: int) -> str:
        """Positions a..b (1-based, inclusive), right-stripped."""
        return self.text[a - 1 : b].rstrip()

    def digits(self, a: int, b: int, name: str, *, blank_ok: bool = False) -> str:
        raw = self.text[a - 1 : b]
        if blank_ok and not raw.strip():
            return ""
        if not raw.isascii() or not raw.isdigit():
            self.errors.append(f"line {self.no}: {name} (positions {a}-{b}) must be digits, got {raw!r}")
            return "0" * (b - a + 1)
        return raw

    def number(self, a: int, b: int, name: str) -> int:
        return int(self.digits(a, b, name))

    def code(self, pos: int, name: str, allowed: dict[str, str]) -> str:
        c = self.text[pos - 1]
        if c not in allowed:
            self.errors.append(
                f"line {self.no}: {name} (position {pos}) must be one of {', '.join(allowed)}, got {c!r}"
            )
        return c


def _payment(ln: _Line, rt: str) -> BgPayment:
    p = BgPayment(
        line_no=ln.no,
        record_type=rt,
        payer_bankgiro=ln.digits(3, 12, "payer's bankgiro number", blank_ok=True),
        reference=ln.s(13, 37).strip(),
        amount_ore=ln.number(38, 55, "amount"),
        reference_code=ln.code(56, "reference code", REFERENCE_CODES),
        channel_code=ln.code(57, "payment channel code", CHANNEL_CODES),
        bgc_serial=ln.digits(58, 69, "BGC serial number"),
        has_image=ln.code(70, "image flag", {"0": "", "1": ""}) == "1",
    )
    if rt == "21":
        p.amount_ore = -p.amount_ore
        p.deduction_code = ln.code(71, "deduction code", DEDUCTION_CODES)
    return p


def parse_bgmax(data: bytes | str) -> BgMaxFile:
    """Parse and check a BgMax file. Raises ``BgMaxError`` listing every bad line."""
    text = decode(data) if isinstance(data, bytes) else data
    errors: list[str] = []
    warnings: list[str] = []
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BgMaxError(["line 1: the file is empty"])
    start: tuple[str, datetime, bool] | None = None
    deposits: list[Deposit] = []
    dep: Deposit | None = None
    pay: BgPayment | None = None
    counts = {"20": 0, "21": 0, "22": 0, "15": 0}
    end_seen = False
    for no, raw in enumerate(lines, start=1):
        raw = _without_bom_and_tabs(no, raw, warnings)
        if len(raw) > RECORD_LENGTH:
            errors.append(f"line {no}: longer than {RECORD_LENGTH} characters ({len(raw)})")
            continue
        ln = _Line(no, raw.ljust(RECORD_LENGTH), errors)
        rt = raw[:2]
        if end_seen:
            errors.append(f"line {no}: record after the end record (70)")
            break
        if no == 1 and rt != "01":
            errors.append(f"line 1: a BgMax file starts with record 01, got {rt!r}")
            break
        if rt == "01":
            if no != 1:
                errors.append(f"line {no}: a second start record (01)")
                continue
            start = _start(ln)
        elif rt == "05":
            if dep is not None:
                errors.append(f"line {no}: opening record (05) before the deposit record (15) of line {dep.line_no}")
            dep, pay = _opening(ln), None
        elif rt in ("20", "21"):
            if dep is None:
                errors.append(f"line {no}: payment record ({rt}) outside a deposit (no opening record 05)")
                continue
            pay = _payment(ln, rt)
            dep.payments.append(pay)
            counts[rt] += 1
        elif rt in ("22", "23", "25", "26", "27", "28", "29"):
            if pay is None:
                errors.append(f"line {no}: record {rt} must follow a payment (20) or deduction (21) record")
                continue
            if _payment_detail(ln, rt, pay):
                counts["22"] += 1
        elif rt == "15":
            if dep is None:
                errors.append(f"line {no}: deposit record (15) without an opening record (05)")
                continue
            _close_deposit(ln, dep)
            deposits.append(dep)
            counts["15"] += 1
            dep, pay = None, None
        elif rt == "70":
            if dep is not None:
                errors.append(
                    f"line {no}: end record (70) before the deposit record (15) of the deposit "
                    f"opened on line {dep.line_no}"
                )
            _check_end(ln, counts)
            end_seen = True
        else:
            errors.append(f"line {no}: unknown record type {rt!r}")
    if not end_seen:
        if dep is not None:
            errors.append(f"line {len(lines)}: the deposit opened on line {dep.line_no} has no deposit record (15)")
        errors.append(f"line {len(lines)}: the file has no end record (70); it may be cut short")
    if errors:
        raise BgMaxError(errors)
    assert start is not None
    return BgMaxFile(start[0], start[1], start[2], deposits, counts["20"], counts["21"], counts["22"], warnings)


def _without_bom_and_tabs(no: int, raw: str, warnings: list[str]) -> str:
    """A line as a record: without the byte order mark of the first line; TABs read to 8-column stops (warned)."""
    if raw.startswith("\ufeff") and no == 1:
        raw = raw[1:]
    if "\t" in raw:
        raw = raw.expandtabs(8)
        warnings.append(f"line {no}: TAB characters read as spaces to 8-column tab stops")
    return raw


def _start(ln: _Line) -> tuple[str, datetime, bool]:
    """The start record (01): layout version, when Bankgirot wrote the file, and whether it is a test file."""
    if ln.s(3, 22) != "BGMAX":
        ln.errors.append(f"line 1: layout name (positions 3-22) must be BGMAX, got {ln.s(3, 22)!r}")
    ts = ln.digits(25, 44, "timestamp")
    try:
        created = datetime.strptime(ts[:14], "%Y%m%d%H%M%S").replace(microsecond=int(ts[14:20]))
    except ValueError:
        ln.errors.append(f"line 1: timestamp (positions 25-44) is not a date and time: {ts!r}")
        created = datetime(1970, 1, 1)
    marker = ln.code(45, "test marker", {"T": "test", "P": "production"})
    return ln.s(23, 24), created, marker == "T"


def _opening(ln: _Line) -> Deposit:
    """An opening record (05): the receiver's bankgiro (and plusgiro) number and the currency of a deposit."""
    dep = Deposit(
        ln.no,
        ln.digits(3, 12, "receiver's bankgiro number"),
        ln.digits(13, 22, "receiver's plusgiro number", blank_ok=True),
        ln.s(23, 25),
    )
    if len(dep.currency) != 3 or not dep.currency.isalpha():
        ln.errors.append(f"line {ln.no}: currency (positions 23-25) must be a currency code, got {dep.currency!r}")
    return dep


def _payment_detail(ln: _Line, rt: str, pay: BgPayment) -> bool:
    """A record about the payment before it: an extra reference (22, or 23 negative: True, it is counted),
    information text (25), the payer's name (26), address (27, 28) or organisation number (29)."""
    if rt in ("22", "23"):
        amount = ln.number(38, 55, "amount")
        pay.extra_references.append(
            ExtraReference(
                ln.no,
                ln.s(13, 37).strip(),
                -amount if rt == "23" else amount,
                ln.code(56, "reference code", REFERENCE_CODES),
                ln.code(57, "payment channel code", CHANNEL_CODES),
                ln.digits(58, 69, "BGC serial number"),
            )
        )
        return True
    if rt == "25":
        pay.information.append(ln.s(3, 52).strip())
    elif rt == "26":
        pay.name, pay.extra_name = ln.s(3, 37).strip(), ln.s(38, 72).strip()
    elif rt == "27":
        pay.address, pay.postal_code = ln.s(3, 37).strip(), ln.s(38, 46).strip()
    elif rt == "28":
        pay.city, pay.country, pay.country_code = ln.s(3, 37).strip(), ln.s(38, 72).strip(), ln.s(73, 74)
    else:
        pay.organisation_number = ln.digits(3, 14, "organisation number", blank_ok=True)
    return False


def _close_deposit(ln: _Line, dep: Deposit) -> None:
    """The deposit record (15): the account, date, serial number, amount and count, which must match the
    deposit's payments."""
    no, errors = ln.no, ln.errors
    dep.bank_account = ln.s(3, 37).strip()
    day = ln.digits(38, 45, "payment date")
    try:
        dep.payment_date = datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        errors.append(f"line {no}: payment date (positions 38-45) is not a date: {day!r}")
    dep.deposit_serial = ln.digits(46, 50, "deposit serial number")
    dep.amount_ore = ln.number(51, 68, "deposit amount")
    currency = ln.s(69, 71)
    dep.payment_count = ln.number(72, 79, "number of payments")
    dep.deposit_type = ln.s(80, 80)
    if currency != dep.currency:
        errors.append(
            f"line {no}: currency {currency!r} differs from the opening record's {dep.currency!r} (line {dep.line_no})"
        )
    total = sum(p.amount_ore for p in dep.payments)
    if total != dep.amount_ore:
        errors.append(
            f"line {no}: deposit amount {dep.amount_ore} öre differs from the sum of its "
            f"payments and deductions, {total} öre"
        )
    if len(dep.payments) != dep.payment_count:
        errors.append(f"line {no}: the deposit says {dep.payment_count} payments, the file has {len(dep.payments)}")


_END_COUNTS = {  # what the end record (70) counts: positions, what it says, what the file has
    "20": (3, 10, "number of payment records", "payment records (20)"),
    "21": (11, 18, "number of deduction records", "deduction records (21)"),
    "22": (19, 26, "number of extra reference records", "extra reference records (22/23)"),
    "15": (27, 34, "number of deposit records", "deposit records (15)"),
}


def _check_end(ln: _Line, counts: dict[str, int]) -> None:
    """The end record (70) counts the payments, deductions, extra references and deposits of the file."""
    expected = {k: ln.number(a, b, field) for k, (a, b, field, _what) in _END_COUNTS.items()}
    for k, want in expected.items():
        if want != counts[k]:
            ln.errors.append(f"line {ln.no}: the end record says {want} {_END_COUNTS[k][3]}, the file has {counts[k]}")


# --- writing (the bank side: the demo's year and tests) -----------------------------------------------------


def _field(value: int | str, width: int, name: str, *, digits: bool = True, right: bool = True) -> str:
    text = str(value)
    if digits and text == "":
        return "0" * width
    if len(text) > width or (digits and not (text.isascii() and text.isdigit())):
        raise ValueError(f"{name}: at most {width} {'digits' if digits else 'characters'}, got {text!r}")
    return text.rjust(width, "0") if digits else text.rjust(width) if right else text.ljust(width)


def write_bgmax(deposits: list[Deposit], *, created_at: datetime, test: bool = False) -> bytes:
    """A BgMax file as Bankgirot writes it: payments (20) with the payer's name (26), per deposit (05 … 15).

    Each deposit's amount and count, and the end record's counts, are computed from its payments,
    so the file always passes ``parse_bgmax``. ISO 8859-1, CR LF. Raises ``ValueError`` naming the field.
    """
    lines = ["01" + "BGMAX".ljust(20) + "01" + created_at.strftime("%Y%m%d%H%M%S%f") + ("T" if test else "P")]
    count = 0
    for dep in deposits:
        if dep.payment_date is None:
            raise ValueError(f"payment_date: deposit {dep.deposit_serial!r} has no payment date")
        lines.append("05" + _field(dep.receiver_bankgiro, 10, "receiver_bankgiro") + " " * 10 + dep.currency)
        for p in dep.payments:
            if p.record_type != "20" or p.amount_ore < 0:
                raise ValueError(f"payments: only payment records (20) of 0 öre or more are written, got {p!r}")
            lines.append(
                "20"
                + (_field(p.payer_bankgiro, 10, "payer_bankgiro") if p.payer_bankgiro else " " * 10)
                + _field(p.reference, 25, "reference", digits=False)
                + _field(p.amount_ore, 18, "amount_ore")
                + p.reference_code
                + p.channel_code
                + _field(p.bgc_serial, 12, "bgc_serial")
                + ("1" if p.has_image else "0")
            )
            if p.name:
                lines.append("26" + _field(p.name[:35], 35, "name", digits=False, right=False))
        total = sum(p.amount_ore for p in dep.payments)
        lines.append(
            "15"
            + _field(dep.bank_account, 35, "bank_account")
            + dep.payment_date.strftime("%Y%m%d")
            + _field(dep.deposit_serial, 5, "deposit_serial")
            + _field(total, 18, "amount")
            + dep.currency
            + _field(len(dep.payments), 8, "payment_count")
            + (dep.deposit_type or " ")
        )
        count += len(dep.payments)
    lines.append("70" + f"{count:08d}" + "0" * 8 + "0" * 8 + f"{len(deposits):08d}")
    return "".join(ln.ljust(RECORD_LENGTH) + "\r\n" for ln in lines).encode("iso-8859-1", "replace")
