"""Bankgirot's Autogiro files, new file layout ("ny fillayout"): written and read.

Layouts follow *Bg Autogiro Teknisk manual* / *Bg Autogiro Technical Manual*, Bankgirocentralen
BGC AB, edition July 2016 (the revision of 2016-12-13 has the same record layouts), chapters 7
(files to Bankgirot) and 8 (files from Bankgirot, new layout). Records are 80 characters,
ISO 8859-1; positions below are 1-based and inclusive, as in the manual.

Files to Bankgirot (``write_request``; ``parse`` reads them back):

* TK01 opening: 3-10 date written, 11-18 ``AUTOGIRO``, 63-68 payee's customer number at
  Bankgirot, 69-78 payee's bankgiro number.
* TK03 cancel a mandate: 3-12 payee bankgiro, 13-28 payer number.
* TK04 new mandate: 3-12 payee bankgiro, 13-28 payer number, 29-44 payer's account (clearing
  number, 4 digits, then the account number right-aligned in 12 digits), 45-56 payer's personal
  identity number (``ÅÅÅÅMMDDNNNN``, an organisation ``00`` + 10 digits); 77-78 ``AV`` rejects a
  mandate given in the internet bank (account and number blank then accept one).
* TK05 change of payer number: 3-12 old bankgiro, 13-28 old payer number, 29-38 new bankgiro,
  39-54 new payer number.
* TK82 incoming payment (debit) / TK32 outgoing payment: 3-10 payment date (or ``GENAST``),
  11 period code, 12-14 number of self-renewing payments, 16-31 payer number, 32-43 amount in
  öre, 44-53 payee bankgiro, 54-69 reference.

Files from Bankgirot (``parse``; ``write_*`` produce them the way Bankgirot does, for tests
and the demo's bank side):

* Mandate advice (``AG-MEDAVI``): TK01 (25-32 date, 45-64 layout name, 65-70 customer number,
  71-80 bankgiro), TK73 per mandate (3-12 bankgiro, 13-28 payer number, 29-44 account, 45-56
  personal number, 62-63 information code, 64-65 comment code, 66-73 date), TK09 (3-10 date,
  11-14 ``9900``, 15-21 number of TK73).
* Payment specification and stopped payments in the balance check (``BET. SPEC & STOPP TK``):
  TK01 (25-44 date and time written), per section an opening TK15 (incoming), TK16 (outgoing)
  or TK17 (refunds) with 3-37 payee account, 38-45 payment date, 46-50 serial number, 51-68
  amount of the approved payments, 72-79 their number; then TK82/TK32 (as sent, reference at
  54-69, 80 status code) or TK77 (70-77 refund date, 78-79 refund code); TK09 (15-20/21-32
  incoming sections/approved records, 33-38/39-50 outgoing, 51-56/57-68 refunds).
* Rejected payment orders (``AVVISADE BET UPPDR``): TK82/TK32 with 3-10 date, 11 period, 12-14
  number, 15-30 payer number, 31-42 amount, 43-58 reference, 59-60 comment code; TK09 (15-20
  number and 21-32 amount outgoing, 33-38 and 39-50 incoming).

Counts and totals of every closing and section record are checked. Any problem is an error
naming the line and field; a file with errors is rejected whole. The example files Bankgirot
publishes with the manual are in ``tests/fixtures/autogiro/`` and read by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

RECORD_LENGTH = 80
ENCODING = "iso-8859-1"

LAYOUT_REQUEST = "AUTOGIRO"
LAYOUT_MANDATE_ADVICE = "AG-MEDAVI"
LAYOUT_PAYMENT_SPEC = "BET. SPEC & STOPP TK"
LAYOUT_REJECTED = "AVVISADE BET UPPDR"

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
PERIOD_CODES = {
    "0": "once",
    "1": "monthly",
    "2": "quarterly",
    "3": "half-yearly",
    "4": "yearly",
    "5": "monthly, last banking day",
    "6": "quarterly, last banking day",
    "7": "half-yearly, last banking day",
    "8": "yearly, last banking day",
}
IMMEDIATE = "GENAST"


class AutogiroError(ValueError):
    """A file that can not be written or read; ``errors`` name the line (or record) and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:20]) + (f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""))
        self.errors = errors


# --- values -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateRequest:
    """TK03 (``cancel``), TK04 (``create``; ``reject``/``accept`` for internet-bank mandates) or TK05 (``renumber``)."""

    action: str
    payer_number: str
    clearing: str = ""
    account: str = ""  # without the clearing number
    personal_number: str = ""
    new_payer_number: str = ""
    line_no: int = 0

    @property
    def account16(self) -> str:
        return account_field(self.clearing, self.account) if self.clearing else ""


@dataclass(frozen=True)
class PaymentOrder:
    """TK82 (``direction="in"``: we draw from the payer) or TK32 (``out``: we pay the payer)."""

    payment_date: date | None  # None: GENAST (as soon as possible)
    payer_number: str
    amount_ore: int
    reference: str = ""
    direction: str = "in"
    period_code: str = "0"
    repetitions: str = ""
    line_no: int = 0


@dataclass
class RequestFile:
    """A file to Bankgirot: an opening record and its mandate and payment records."""

    written: date
    customer_number: str  # the payee's customer number at Bankgirot (6 digits)
    bankgiro: str  # the payee's bankgiro number
    mandates: list[MandateRequest] = field(default_factory=list)
    payments: list[PaymentOrder] = field(default_factory=list)


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


AnswerFile = MandateAdviceFile | PaymentSpecFile | RejectedFile


# --- account numbers --------------------------------------------------------------------------------------


def account_field(clearing: str, account: str) -> str:
    """The 16-digit account field: the clearing number (4 digits) and the account number in 12 digits."""
    return clearing[:4] + account.rjust(12, "0")


# --- writing ----------------------------------------------------------------------------------------------


def _n(value: int | str, width: int, name: str, where: str, errors: list[str]) -> str:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > width:
        errors.append(f"{where}: {name} must be at most {width} digits, got {text!r}")
        return "0" * width
    return text.rjust(width, "0")


def _a(value: str, width: int, name: str, where: str, errors: list[str], *, right: bool = False) -> str:
    text = value or ""
    if len(text) > width or any(c in text for c in "\r\n\t"):
        errors.append(f"{where}: {name} must be at most {width} characters on one line, got {text!r}")
        text = text[:width]
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        errors.append(f"{where}: {name} has characters outside ISO 8859-1: {text!r}")
        text = text.encode(ENCODING, "replace").decode(ENCODING)
    return text.rjust(width) if right else text.ljust(width)


def _record(*parts: str) -> str:
    line = "".join(parts)
    assert len(line) <= RECORD_LENGTH, line
    return line.ljust(RECORD_LENGTH)


def _to_bytes(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode(ENCODING)


def _opening_request(f: RequestFile, errors: list[str]) -> str:
    where = "opening record (TK01)"
    return _record(
        "01",
        f.written.strftime("%Y%m%d"),
        LAYOUT_REQUEST,
        " " * 44,
        _n(f.customer_number, 6, "customer_number", where, errors),
        _n(f.bankgiro, 10, "bankgiro", where, errors),
    )


def write_request(f: RequestFile) -> bytes:
    """A file to Bankgirot: one opening record, then its mandate records, then its payment records."""
    errors: list[str] = []
    lines = [_opening_request(f, errors)]
    bg = _n(f.bankgiro, 10, "bankgiro", "opening record (TK01)", errors)
    for i, r in enumerate(f.mandates, start=1):
        where = f"mandate {i} (payer {r.payer_number})"
        payer = _n(r.payer_number, 16, "payer_number", where, errors)
        if r.action == "cancel":
            lines.append(_record("03", bg, payer))
        elif r.action == "create":
            lines.append(
                _record(
                    "04",
                    bg,
                    payer,
                    _n(r.clearing, 4, "clearing", where, errors),
                    _n(r.account, 12, "account", where, errors),
                    _n(r.personal_number, 12, "personal_number", where, errors),
                )
            )
        elif r.action == "accept":
            lines.append(_record("04", bg, payer))
        elif r.action == "reject":
            known = (r.account16 + _n(r.personal_number, 12, "personal_number", where, errors)) if r.clearing else ""
            lines.append(_record("04", bg, payer, known.ljust(48), "AV"))
        elif r.action == "renumber":
            lines.append(_record("05", bg, payer, bg, _n(r.new_payer_number, 16, "new_payer_number", where, errors)))
        else:
            errors.append(f"{where}: action must be create, cancel, accept, reject or renumber, got {r.action!r}")
    for i, p in enumerate(f.payments, start=1):
        where = f"payment {i} (payer {p.payer_number})"
        if p.direction not in ("in", "out"):
            errors.append(f"{where}: direction must be in or out, got {p.direction!r}")
        if p.period_code not in PERIOD_CODES:
            errors.append(f"{where}: period_code must be one of {''.join(PERIOD_CODES)}, got {p.period_code!r}")
        if p.amount_ore <= 0:
            errors.append(f"{where}: amount_ore must be more than 0, got {p.amount_ore}")
        when = p.payment_date.strftime("%Y%m%d") if p.payment_date else IMMEDIATE.ljust(8)
        reps = _n(p.repetitions, 3, "repetitions", where, errors) if p.repetitions else "   "
        lines.append(
            _record(
                "82" if p.direction == "in" else "32",
                when,
                p.period_code[:1],
                reps,
                " ",
                _n(p.payer_number, 16, "payer_number", where, errors),
                _n(max(p.amount_ore, 0), 12, "amount_ore", where, errors),
                bg,
                _a(p.reference, 16, "reference", where, errors),
            )
        )
    if errors:
        raise AutogiroError(errors)
    return _to_bytes(lines)


def _opening_answer(written: str, layout: str, customer_number: str, bankgiro: str, errors: list[str]) -> str:
    where = "opening record (TK01)"
    return _record(
        "01",
        "AUTOGIRO".ljust(22),
        written.ljust(20),
        layout.ljust(20),
        _n(customer_number, 6, "customer_number", where, errors),
        _n(bankgiro, 10, "bankgiro", where, errors),
    )


def write_mandate_advice(f: MandateAdviceFile) -> bytes:
    """A mandate advice file as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [
        _opening_answer(f.written.strftime("%Y%m%d"), LAYOUT_MANDATE_ADVICE, f.customer_number, f.bankgiro, errors)
    ]
    for i, a in enumerate(f.advices, start=1):
        where = f"advice {i} (payer {a.payer_number})"
        lines.append(
            _record(
                "73",
                _n(a.payee_bankgiro, 10, "payee_bankgiro", where, errors),
                _n(a.payer_number, 16, "payer_number", where, errors),
                _n(a.account, 16, "account", where, errors) if a.account else " " * 16,
                _n(a.personal_number, 12, "personal_number", where, errors) if a.personal_number else " " * 12,
                " " * 5,
                _n(a.info_code, 2, "info_code", where, errors),
                _n(a.comment_code, 2, "comment_code", where, errors),
                a.advice_date.strftime("%Y%m%d"),
            )
        )
    lines.append(_record("09", f.written.strftime("%Y%m%d"), "9900", _n(len(f.advices), 7, "count", "TK09", errors)))
    if errors:
        raise AutogiroError(errors)
    return _to_bytes(lines)


def _result_line(r: PaymentResult, errors: list[str]) -> str:
    where = f"result (payer {r.payer_number})"
    head = (
        r.record_type,
        r.payment_date.strftime("%Y%m%d"),
        r.period_code[:1] or "0",
        _n(r.repetitions, 3, "repetitions", where, errors) if r.repetitions.strip() else "   ",
        " ",
        _n(r.payer_number, 16, "payer_number", where, errors),
        _n(r.amount_ore, 12, "amount_ore", where, errors),
        _n(r.payee_bankgiro, 10, "payee_bankgiro", where, errors),
        # Bankgirot gives the reference back right-aligned and zero-filled
        _a(r.reference.strip().rjust(16, "0"), 16, "reference", where, errors),
    )
    if r.record_type == "77":
        refund = (r.refund_date or r.payment_date).strftime("%Y%m%d")
        return _record(*head, refund, _n(r.status_code, 2, "status_code", where, errors))
    return _record(*head, " " * 10, r.status_code[:1])


def write_payment_spec(f: PaymentSpecFile) -> bytes:
    """A payment specification as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [
        _opening_answer(
            f.written.strftime("%Y%m%d%H%M%S%f"), LAYOUT_PAYMENT_SPEC, f.customer_number, f.bankgiro, errors
        )
    ]
    totals = {"15": [0, 0], "16": [0, 0], "17": [0, 0]}
    for s in f.sections:
        where = f"section {s.record_type} {s.payment_date}"
        counted = [r for r in s.results if r.record_type == "77" or r.approved]
        amount, count = sum(r.amount_ore for r in counted), len(counted)
        lines.append(
            _record(
                s.record_type,
                _n(s.account, 35, "account", where, errors),
                s.payment_date.strftime("%Y%m%d"),
                _n(s.serial, 5, "serial", where, errors),
                _n(amount, 18, "amount", where, errors),
                "   ",
                _n(count, 8, "count", where, errors),
            )
        )
        lines += [_result_line(r, errors) for r in s.results]
        totals[s.record_type][0] += 1
        totals[s.record_type][1] += count
    closing = "".join(f"{totals[k][0]:06d}{totals[k][1]:012d}" for k in ("15", "16", "17"))
    lines.append(_record("09", f.written.strftime("%Y%m%d"), "9900", closing))
    if errors:
        raise AutogiroError(errors)
    return _to_bytes(lines)


def write_rejected(f: RejectedFile) -> bytes:
    """A file of rejected payment orders as Bankgirot sends it (the bank side, for tests and the demo)."""
    errors: list[str] = []
    lines = [_opening_answer(f.written.strftime("%Y%m%d"), LAYOUT_REJECTED, f.customer_number, f.bankgiro, errors)]
    for o in f.orders:
        where = f"rejected order (payer {o.payer_number})"
        when = (
            o.payment_date.strftime("%Y%m%d")
            if o.payment_date
            else _n(o.payment_date_raw, 8, "payment_date", where, errors)
        )
        lines.append(
            _record(
                o.record_type,
                when,
                o.period_code[:1] or "0",
                _n(o.repetitions, 3, "repetitions", where, errors) if o.repetitions.strip() else "   ",
                _n(o.payer_number, 16, "payer_number", where, errors),
                _n(o.amount_ore, 12, "amount_ore", where, errors),
                _a(o.reference, 16, "reference", where, errors),
                _n(o.comment_code, 2, "comment", where, errors),
            )
        )
    outs = [o for o in f.orders if o.record_type == "32"]
    ins = [o for o in f.orders if o.record_type == "82"]
    lines.append(
        _record(
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
    return _to_bytes(lines)


# --- reading ----------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """Bankgirot's files are ISO 8859-1; a UTF-8 copy is read as UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(ENCODING)


class _Line:
    """One record, read by 1-based inclusive positions; problems go to ``errors`` naming the line and field."""

    def __init__(self, no: int, text: str, errors: list[str]) -> None:
        self.no, self.text, self.errors = no, text.ljust(RECORD_LENGTH), errors
        self.tc = self.text[:2]

    def error(self, message: str) -> None:
        self.errors.append(f"line {self.no}: {message}")

    def raw(self, a: int, b: int) -> str:
        return self.text[a - 1 : b]

    def text_(self, a: int, b: int) -> str:
        return self.raw(a, b).strip()

    def digits(self, a: int, b: int, name: str, *, blank_ok: bool = False) -> str:
        raw = self.raw(a, b)
        if blank_ok and not raw.strip():
            return ""
        if not raw.isascii() or not raw.isdigit():
            self.error(f"{name} (positions {a}-{b}) must be digits, got {raw!r}")
            return "0" * (b - a + 1)
        return raw

    def number(self, a: int, b: int, name: str) -> int:
        return int(self.digits(a, b, name))

    def day(self, a: int, b: int, name: str) -> date:
        raw = self.raw(a, b)
        try:
            if not raw.isdigit():
                raise ValueError
            return datetime.strptime(raw, "%Y%m%d").date()
        except ValueError:
            self.error(f"{name} (positions {a}-{b}) must be a date YYYYMMDD, got {raw!r}")
            return date(1970, 1, 1)

    def literal(self, a: int, b: int, expected: str, name: str) -> None:
        if self.raw(a, b).rstrip() != expected.rstrip():
            self.error(f"{name} (positions {a}-{b}) must be {expected.strip()!r}, got {self.raw(a, b)!r}")


def _lines(data: bytes) -> list[_Line]:
    text = decode(data)
    errors: list[str] = []
    out: list[_Line] = []
    for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        line = raw.rstrip(" ")
        if len(line) > RECORD_LENGTH:
            errors.append(f"line {no}: the record is {len(line)} characters long; records are {RECORD_LENGTH}")
            continue
        out.append(_Line(no, line, errors))
    if errors:
        raise AutogiroError(errors)
    if not out:
        raise AutogiroError(["line 1: the file is empty"])
    return out


def layout_of(data: bytes) -> str:
    """The file's layout: ``request``, ``mandate_advice``, ``payment_spec`` or ``rejected`` (AutogiroError otherwise)."""
    first = _lines(data)[0]
    if first.tc != "01":
        raise AutogiroError([f"line {first.no}: transaction code must be 01 (opening record), got {first.tc!r}"])
    if first.raw(11, 18) == LAYOUT_REQUEST and first.raw(3, 10).isdigit():
        return "request"
    name = first.raw(45, 64).strip()
    return {
        LAYOUT_MANDATE_ADVICE: "mandate_advice",
        LAYOUT_PAYMENT_SPEC: "payment_spec",
        LAYOUT_REJECTED: "rejected",
    }.get(name) or _unknown(first)


def _unknown(first: _Line) -> str:
    raise AutogiroError(
        [
            f"line {first.no}: layout name (positions 45-64) {first.raw(45, 64).strip()!r} is not a "
            "new-layout Autogiro file this system reads (AG-MEDAVI, BET. SPEC & STOPP TK, "
            "AVVISADE BET UPPDR), nor a request file (AUTOGIRO at 11-18)"
        ]
    )


def parse(data: bytes) -> RequestFile | AnswerFile:
    """Read any Autogiro file this module knows; raises ``AutogiroError`` naming every bad line and field."""
    kind = layout_of(data)
    return {
        "request": parse_request,
        "mandate_advice": parse_mandate_advice,
        "payment_spec": parse_payment_spec,
        "rejected": parse_rejected,
    }[kind](data)


def _answer_opening(line: _Line, layout: str) -> tuple[str, str]:
    line.literal(3, 10, "AUTOGIRO", "layout (AUTOGIRO)")
    line.literal(45, 64, layout, "layout name")
    return line.digits(65, 70, "customer_number"), line.digits(71, 80, "bankgiro")


def parse_request(data: bytes) -> RequestFile:
    lines = _lines(data)
    errors = lines[0].errors
    first = lines[0]
    f = RequestFile(
        written=first.day(3, 10, "date written"),
        customer_number=first.digits(63, 68, "customer_number"),
        bankgiro=first.digits(69, 78, "bankgiro"),
    )
    for line in lines[1:]:
        tc = line.tc
        if tc == "01":
            line.literal(11, 18, LAYOUT_REQUEST, "layout")
            if line.raw(69, 78) != first.raw(69, 78):
                line.error("bankgiro (positions 69-78) differs from the first opening record")
            continue
        if tc in ("03", "04", "05"):
            bg = line.digits(3, 12, "payee bankgiro")
            if bg != f.bankgiro:
                line.error(f"payee bankgiro (positions 3-12) {bg} differs from the opening record's {f.bankgiro}")
            payer = line.digits(13, 28, "payer_number")
            if tc == "03":
                f.mandates.append(MandateRequest("cancel", payer, line_no=line.no))
            elif tc == "05":
                f.mandates.append(
                    MandateRequest(
                        "renumber", payer, new_payer_number=line.digits(39, 54, "new payer"), line_no=line.no
                    )
                )
            elif line.raw(77, 78) == "AV":
                account = line.digits(29, 44, "account", blank_ok=True)
                f.mandates.append(
                    MandateRequest(
                        "reject",
                        payer,
                        clearing=account[:4],
                        account=account[4:].lstrip("0"),
                        personal_number=line.digits(45, 56, "personal_number", blank_ok=True),
                        line_no=line.no,
                    )
                )
            elif not line.raw(29, 56).strip():
                f.mandates.append(MandateRequest("accept", payer, line_no=line.no))
            else:
                account = line.digits(29, 44, "account")
                f.mandates.append(
                    MandateRequest(
                        "create",
                        payer,
                        clearing=account[:4],
                        account=account[4:].lstrip("0"),
                        personal_number=line.digits(45, 56, "personal_number"),
                        line_no=line.no,
                    )
                )
        elif tc in ("82", "32"):
            when = None if line.raw(3, 10).rstrip() == IMMEDIATE else line.day(3, 10, "payment date")
            period = line.raw(11, 11)
            if period not in PERIOD_CODES:
                line.error(f"period code (position 11) must be one of {''.join(PERIOD_CODES)}, got {period!r}")
            reps = line.digits(12, 14, "repetitions", blank_ok=True)
            bg = line.digits(44, 53, "payee bankgiro")
            if bg != f.bankgiro:
                line.error(f"payee bankgiro (positions 44-53) {bg} differs from the opening record's {f.bankgiro}")
            f.payments.append(
                PaymentOrder(
                    when,
                    line.digits(16, 31, "payer_number"),
                    line.number(32, 43, "amount"),
                    line.text_(54, 69),
                    "in" if tc == "82" else "out",
                    period,
                    reps,
                    line_no=line.no,
                )
            )
        else:
            line.error(f"transaction code {tc!r} is not one of a request file (01, 03, 04, 05, 82, 32)")
    if errors:
        raise AutogiroError(errors)
    return f


def parse_mandate_advice(data: bytes) -> MandateAdviceFile:
    lines = _lines(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = _answer_opening(first, LAYOUT_MANDATE_ADVICE)
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


def parse_payment_spec(data: bytes) -> PaymentSpecFile:
    lines = _lines(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = _answer_opening(first, LAYOUT_PAYMENT_SPEC)
    stamp = first.raw(25, 44)
    try:
        written = datetime.strptime(stamp, "%Y%m%d%H%M%S%f")
    except ValueError:
        first.error(f"date and time written (positions 25-44) must be YYYYMMDDHHMMSS and 6 digits, got {stamp!r}")
        written = datetime(1970, 1, 1)
    f = PaymentSpecFile(written, customer, bg)
    section: PaymentSection | None = None
    closing = None
    kinds = {"15": ("82",), "16": ("32",), "17": ("77",)}
    for line in lines[1:]:
        tc = line.tc
        if closing is not None:
            line.error("a record after the closing record (TK09)")
        elif tc in kinds:
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
            if section is None or tc not in kinds[section.record_type]:
                line.error(f"a TK{tc} must follow a TK{ {'82': '15', '32': '16', '77': '17'}[tc] } section opening")
                continue
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
            section.results.append(result)
        elif tc == "09":
            closing = line
        else:
            line.error(
                f"transaction code {tc!r} does not belong in a payment specification (01, 15, 16, 17, 82, 32, 77, 09)"
            )
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
    if closing is None:
        errors.append(f"line {lines[-1].no + 1}: the closing record (TK09) is missing")
    else:
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
    if errors:
        raise AutogiroError(errors)
    return f


def parse_rejected(data: bytes) -> RejectedFile:
    lines = _lines(data)
    first, errors = lines[0], lines[0].errors
    customer, bg = _answer_opening(first, LAYOUT_REJECTED)
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
