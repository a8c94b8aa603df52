"""The common record layout of Bankgirot's Autogiro files: 80-character ISO 8859-1 records, fields by
1-based inclusive positions as in the manual, the opening records, and the errors that name line and field.
"""

from __future__ import annotations

from datetime import date, datetime

RECORD_LENGTH = 80

ENCODING = "iso-8859-1"

LAYOUT_REQUEST = "AUTOGIRO"

LAYOUT_MANDATE_ADVICE = "AG-MEDAVI"

LAYOUT_PAYMENT_SPEC = "BET. SPEC & STOPP TK"

LAYOUT_REJECTED = "AVVISADE BET UPPDR"

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


def account_field(clearing: str, account: str) -> str:
    """The 16-digit account field: the clearing number (4 digits) and the account number in 12 digits."""
    return clearing[:4] + account.rjust(12, "0")


def numeric(value: int | str, width: int, name: str, where: str, errors: list[str]) -> str:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > width:
        errors.append(f"{where}: {name} must be at most {width} digits, got {text!r}")
        return "0" * width
    return text.rjust(width, "0")


def alpha(value: str, width: int, name: str, where: str, errors: list[str], *, right: bool = False) -> str:
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


def record_line(*parts: str) -> str:
    line = "".join(parts)
    assert len(line) <= RECORD_LENGTH, line
    return line.ljust(RECORD_LENGTH)


def to_bytes(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode(ENCODING)


def opening_answer(written: str, layout: str, customer_number: str, bankgiro: str, errors: list[str]) -> str:
    where = "opening record (TK01)"
    return record_line(
        "01",
        "AUTOGIRO".ljust(22),
        written.ljust(20),
        layout.ljust(20),
        numeric(customer_number, 6, "customer_number", where, errors),
        numeric(bankgiro, 10, "bankgiro", where, errors),
    )


def decode(data: bytes) -> str:
    """Bankgirot's files are ISO 8859-1; a UTF-8 copy is read as UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(ENCODING)


class Line:
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


def records_of(data: bytes) -> list[Line]:
    text = decode(data)
    errors: list[str] = []
    out: list[Line] = []
    for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        line = raw.rstrip(" ")
        if len(line) > RECORD_LENGTH:
            errors.append(f"line {no}: the record is {len(line)} characters long; records are {RECORD_LENGTH}")
            continue
        out.append(Line(no, line, errors))
    if errors:
        raise AutogiroError(errors)
    if not out:
        raise AutogiroError(["line 1: the file is empty"])
    return out


def answer_opening(line: Line, layout: str) -> tuple[str, str]:
    line.literal(3, 10, "AUTOGIRO", "layout (AUTOGIRO)")
    line.literal(45, 64, layout, "layout name")
    return line.digits(65, 70, "customer_number"), line.digits(71, 80, "bankgiro")
