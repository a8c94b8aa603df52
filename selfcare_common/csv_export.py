"""CSV files people open in a spreadsheet: every text cell is neutralised against formula injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(...)``). Any text a
customer or agent typed (a name, a street, an e-mail, a usage description) could be one, so, as
OWASP's "CSV Injection" advises, such a cell is written with a leading ``'``: the spreadsheet shows
the text and runs nothing.

What stays as it is: numbers (``int``, ``Decimal``), and text that is only a number (an optional sign,
digits, spaces, ``.``/``,`` separators, optionally `` kr`` or ``%``: ``-1250``, ``-12,50 kr``,
``+46701234567``). Such a cell holds no function, name or reference, so it cannot run anything, and
a negative amount stays a number the spreadsheet can add up. Machine formats read back by the core
(the CDR CSV, ``formats/cdr_rows.py`` and ``demo/demo_data/csv_files.py``) are not written with this: they carry
no free text and a quote would change their data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER_ONLY = re.compile(r"[+-]?\d[\d .,\u00a0\u202f]*(?:[ \u00a0\u202f]?(?:kr|%))?")


def neutralise_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs: formula-like text gets a leading ``'``."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _NUMBER_ONLY.fullmatch(value):
        return value
    return "'" + value


class SpreadsheetWriter:
    """``csv.writer`` whose rows are neutralised cell by cell (same arguments, same ``writerow``)."""

    def __init__(self, stream: IO[str], **fmt: Any) -> None:
        self._writer = csv.writer(stream, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def spreadsheet_writer(stream: IO[str], **fmt: Any) -> SpreadsheetWriter:
    """The one way to write a CSV export meant for people (collection handover, usage download)."""
    return SpreadsheetWriter(stream, **fmt)
