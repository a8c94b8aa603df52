"""Bankgirot's Autogiro files, new file layout ("ny fillayout"): written and read.

Layouts follow *Bg Autogiro Teknisk manual* / *Bg Autogiro Technical Manual*, Bankgirocentralen
BGC AB, edition July 2016 (the revision of 2016-12-13 has the same record layouts), chapters 7
(files to Bankgirot) and 8 (files from Bankgirot, new layout). Records are 80 characters,
ISO 8859-1; positions are 1-based and inclusive, as in the manual.

One module per file kind, each with its record layouts in its docstring:

* ``records``: what every file shares (the record, its fields, the opening records, errors);
* ``request_file``: the file to Bankgirot (mandates and payment orders; ``write_request``);
* ``mandates``: the mandate advice (``AG-MEDAVI``);
* ``payment_spec``: the payment specification and stopped payments (``BET. SPEC & STOPP TK``);
* ``rejected``: rejected payment orders (``AVVISADE BET UPPDR``);
* ``files``: which file is this (``layout_of``), and ``parse`` for any of them.

The answer files' ``write_*`` produce them the way Bankgirot does, for tests and the demo's bank side.
Counts and totals of every closing and section record are checked. Any problem is an error
naming the line and field; a file with errors is rejected whole. The example files Bankgirot
publishes with the manual are in ``tests/fixtures/autogiro/`` and read by the tests.
"""

from __future__ import annotations

from backend_stub.formats.autogiro.files import AnswerFile, layout_of, parse
from backend_stub.formats.autogiro.mandates import (
    MANDATE_COMMENT,
    MANDATE_INFO,
    MandateAdvice,
    MandateAdviceFile,
    parse_mandate_advice,
    write_mandate_advice,
)
from backend_stub.formats.autogiro.payment_spec import (
    PAYMENT_STATUS,
    REFUND_CODES,
    PaymentResult,
    PaymentSection,
    PaymentSpecFile,
    parse_payment_spec,
    write_payment_spec,
)
from backend_stub.formats.autogiro.records import (
    ENCODING,
    IMMEDIATE,
    LAYOUT_MANDATE_ADVICE,
    LAYOUT_PAYMENT_SPEC,
    LAYOUT_REJECTED,
    LAYOUT_REQUEST,
    PERIOD_CODES,
    RECORD_LENGTH,
    AutogiroError,
    account_field,
    decode,
)
from backend_stub.formats.autogiro.rejected import (
    MANDATE_REJECTION_CODES,
    REJECTION_COMMENT,
    RejectedFile,
    RejectedOrder,
    parse_rejected,
    write_rejected,
)
from backend_stub.formats.autogiro.request_file import (
    MandateRequest,
    PaymentOrder,
    RequestFile,
    parse_request,
    write_request,
)

__all__ = [
    "ENCODING",
    "IMMEDIATE",
    "LAYOUT_MANDATE_ADVICE",
    "LAYOUT_PAYMENT_SPEC",
    "LAYOUT_REJECTED",
    "LAYOUT_REQUEST",
    "MANDATE_COMMENT",
    "MANDATE_INFO",
    "MANDATE_REJECTION_CODES",
    "PAYMENT_STATUS",
    "PERIOD_CODES",
    "RECORD_LENGTH",
    "REFUND_CODES",
    "REJECTION_COMMENT",
    "AnswerFile",
    "AutogiroError",
    "MandateAdvice",
    "MandateAdviceFile",
    "MandateRequest",
    "PaymentOrder",
    "PaymentResult",
    "PaymentSection",
    "PaymentSpecFile",
    "RejectedFile",
    "RejectedOrder",
    "RequestFile",
    "account_field",
    "decode",
    "layout_of",
    "parse",
    "parse_mandate_advice",
    "parse_payment_spec",
    "parse_rejected",
    "parse_request",
    "write_mandate_advice",
    "write_payment_spec",
    "write_rejected",
    "write_request",
]
