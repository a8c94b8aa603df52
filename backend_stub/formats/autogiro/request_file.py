"""Files to Bankgirot (``write_request``; ``parse_request`` reads them back): mandates and payment orders.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from backend_stub.formats.autogiro.records import (
    IMMEDIATE,
    LAYOUT_REQUEST,
    PERIOD_CODES,
    AutogiroError,
    Line,
    account_field,
    alpha,
    numeric,
    record_line,
    records_of,
    to_bytes,
)


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


def _opening_request(f: RequestFile, errors: list[str]) -> str:
    where = "opening record (TK01)"
    return record_line(
        "01",
        f.written.strftime("%Y%m%d"),
        LAYOUT_REQUEST,
        " " * 44,
        numeric(f.customer_number, 6, "customer_number", where, errors),
        numeric(f.bankgiro, 10, "bankgiro", where, errors),
    )


def write_request(f: RequestFile) -> bytes:
    """A file to Bankgirot: one opening record, then its mandate records, then its payment records."""
    errors: list[str] = []
    lines = [_opening_request(f, errors)]
    bg = numeric(f.bankgiro, 10, "bankgiro", "opening record (TK01)", errors)
    for i, r in enumerate(f.mandates, start=1):
        where = f"mandate {i} (payer {r.payer_number})"
        payer = numeric(r.payer_number, 16, "payer_number", where, errors)
        if r.action == "cancel":
            lines.append(record_line("03", bg, payer))
        elif r.action == "create":
            lines.append(
                record_line(
                    "04",
                    bg,
                    payer,
                    numeric(r.clearing, 4, "clearing", where, errors),
                    numeric(r.account, 12, "account", where, errors),
                    numeric(r.personal_number, 12, "personal_number", where, errors),
                )
            )
        elif r.action == "accept":
            lines.append(record_line("04", bg, payer))
        elif r.action == "reject":
            known = (
                (r.account16 + numeric(r.personal_number, 12, "personal_number", where, errors)) if r.clearing else ""
            )
            lines.append(record_line("04", bg, payer, known.ljust(48), "AV"))
        elif r.action == "renumber":
            lines.append(
                record_line("05", bg, payer, bg, numeric(r.new_payer_number, 16, "new_payer_number", where, errors))
            )
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
        reps = numeric(p.repetitions, 3, "repetitions", where, errors) if p.repetitions else "   "
        lines.append(
            record_line(
                "82" if p.direction == "in" else "32",
                when,
                p.period_code[:1],
                reps,
                " ",
                numeric(p.payer_number, 16, "payer_number", where, errors),
                numeric(max(p.amount_ore, 0), 12, "amount_ore", where, errors),
                bg,
                alpha(p.reference, 16, "reference", where, errors),
            )
        )
    if errors:
        raise AutogiroError(errors)
    return to_bytes(lines)


def parse_request(data: bytes) -> RequestFile:
    """Read a file to Bankgirot back (the tests and the demo's bank side read what was sent)."""
    lines = records_of(data)
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
            f.mandates.append(_mandate_request(line, f.bankgiro))
        elif tc in ("82", "32"):
            f.payments.append(_payment_order(line, f.bankgiro))
        else:
            line.error(f"transaction code {tc!r} is not one of a request file (01, 03, 04, 05, 82, 32)")
    if errors:
        raise AutogiroError(errors)
    return f


def _mandate_request(line: Line, bankgiro: str) -> MandateRequest:
    """A TK03 (cancel), TK05 (renumber) or TK04: a new mandate, one rejected (``AV``) or one accepted (blank)."""
    tc = line.tc
    bg = line.digits(3, 12, "payee bankgiro")
    if bg != bankgiro:
        line.error(f"payee bankgiro (positions 3-12) {bg} differs from the opening record's {bankgiro}")
    payer = line.digits(13, 28, "payer_number")
    if tc == "03":
        return MandateRequest("cancel", payer, line_no=line.no)
    if tc == "05":
        return MandateRequest("renumber", payer, new_payer_number=line.digits(39, 54, "new payer"), line_no=line.no)
    if line.raw(77, 78) == "AV":
        account = line.digits(29, 44, "account", blank_ok=True)
        return MandateRequest(
            "reject",
            payer,
            clearing=account[:4],
            account=account[4:].lstrip("0"),
            personal_number=line.digits(45, 56, "personal_number", blank_ok=True),
            line_no=line.no,
        )
    if not line.raw(29, 56).strip():
        return MandateRequest("accept", payer, line_no=line.no)
    account = line.digits(29, 44, "account")
    return MandateRequest(
        "create",
        payer,
        clearing=account[:4],
        account=account[4:].lstrip("0"),
        personal_number=line.digits(45, 56, "personal_number"),
        line_no=line.no,
    )


def _payment_order(line: Line, bankgiro: str) -> PaymentOrder:
    """A TK82 (a draw from the payer) or TK32 (a payment to the payer), on a date or ``GENAST``."""
    tc = line.tc
    when = None if line.raw(3, 10).rstrip() == IMMEDIATE else line.day(3, 10, "payment date")
    period = line.raw(11, 11)
    if period not in PERIOD_CODES:
        line.error(f"period code (position 11) must be one of {''.join(PERIOD_CODES)}, got {period!r}")
    reps = line.digits(12, 14, "repetitions", blank_ok=True)
    bg = line.digits(44, 53, "payee bankgiro")
    if bg != bankgiro:
        line.error(f"payee bankgiro (positions 44-53) {bg} differs from the opening record's {bankgiro}")
    return PaymentOrder(
        when,
        line.digits(16, 31, "payer_number"),
        line.number(32, 43, "amount"),
        line.text_(54, 69),
        "in" if tc == "82" else "out",
        period,
        reps,
        line_no=line.no,
    )
