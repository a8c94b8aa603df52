"""Any Autogiro file: which layout it has (``layout_of``), and reading it (``parse``)."""

from __future__ import annotations

from collections.abc import Callable

from backend_stub.formats.autogiro.mandates import MandateAdviceFile, parse_mandate_advice
from backend_stub.formats.autogiro.payment_spec import PaymentSpecFile, parse_payment_spec
from backend_stub.formats.autogiro.records import (
    LAYOUT_MANDATE_ADVICE,
    LAYOUT_PAYMENT_SPEC,
    LAYOUT_REJECTED,
    LAYOUT_REQUEST,
    AutogiroError,
    Line,
    records_of,
)
from backend_stub.formats.autogiro.rejected import RejectedFile, parse_rejected
from backend_stub.formats.autogiro.request_file import RequestFile, parse_request

AnswerFile = MandateAdviceFile | PaymentSpecFile | RejectedFile


def layout_of(data: bytes) -> str:
    """The file's layout: ``request``, ``mandate_advice``, ``payment_spec`` or ``rejected`` (AutogiroError otherwise)."""
    first = records_of(data)[0]
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


def _unknown(first: Line) -> str:
    raise AutogiroError(
        [
            f"line {first.no}: layout name (positions 45-64) {first.raw(45, 64).strip()!r} is not a "
            "new-layout Autogiro file this system reads (AG-MEDAVI, BET. SPEC & STOPP TK, "
            "AVVISADE BET UPPDR), nor a request file (AUTOGIRO at 11-18)"
        ]
    )


def parse(data: bytes) -> RequestFile | AnswerFile:
    """Read any Autogiro file this module knows; raises ``AutogiroError`` naming every bad line and field."""
    parsers: dict[str, Callable[[bytes], RequestFile | AnswerFile]] = {
        "request": parse_request,
        "mandate_advice": parse_mandate_advice,
        "payment_spec": parse_payment_spec,
        "rejected": parse_rejected,
    }
    return parsers[layout_of(data)](data)
