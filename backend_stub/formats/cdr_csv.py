"""Usage records (CDRs): the CSV interchange format of ``spec/cdr-csv.md``.

``read_cdr_csv`` yields ``(line_no, row)`` with ``row`` a dict of the known columns;
``validate_row`` turns one row into a ``rating.UsageEvent`` or a ``RowError`` that names
the field. A file without the required header columns is refused as a whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any, NamedTuple

from backend_stub.rating import UsageEvent

COLUMNS = (
    "record_id",
    "msisdn",
    "service",
    "started_at",
    "duration_s",
    "volume_bytes",
    "called_number",
    "visited_country",
)
REQUIRED_COLUMNS = ("record_id", "msisdn", "service", "started_at")
SERVICES = frozenset({"voice", "sms", "mms", "data"})
_E164 = re.compile(r"\+[1-9]\d{4,14}")
_COUNTRY = re.compile(r"[A-Z]{2}")


class CdrFileError(ValueError):
    """The file as a whole cannot be read (encoding, missing header columns)."""


class RowError(NamedTuple):
    line_no: int | None
    record_id: str
    field: str
    reason: str


def read_cdr_csv(
    stream: IO[str] | Iterable[str],
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CDR CSV file as ``(line_no, {column: value})``; extra columns are dropped."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise CdrFileError("the file is empty: a header row is required") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CdrFileError(f"line 1: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CdrFileError(
            f"line 1: header lacks required column(s) {', '.join(missing)}"
        )
    index = [(c, header.index(c)) for c in COLUMNS if c in header]
    width = len(header)
    try:
        for values in reader:
            line_no = reader.line_num
            if not values:
                continue
            if len(values) < width:
                values = values + [""] * (width - len(values))
            yield line_no, {c: values[i] for c, i in index}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CdrFileError(f"line {reader.line_num}: {exc}") from None


def read_cdr_bytes(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV given as bytes (UTF-8, with or without BOM)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CdrFileError(f"the file is not UTF-8 (byte {exc.start})") from None
    return read_cdr_csv(io.StringIO(text, newline=""))


def _int_field(
    row: dict[str, Any], name: str, line_no: int | None, record_id: str
) -> int | RowError:
    raw = row.get(name)
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return RowError(
            line_no, record_id, name, f"{name} is required for this service"
        )
    if not text.lstrip("-").isdigit():
        return RowError(
            line_no, record_id, name, f"{name} {text!r} is not a whole number"
        )
    value = int(text)
    if value < 0:
        what = "negative duration" if name == "duration_s" else "negative volume"
        return RowError(line_no, record_id, name, f"{what}: {value}")
    return value


def validate_row(line_no: int | None, row: dict[str, Any]) -> UsageEvent | RowError:
    """One CSV row or JSON object to a ``UsageEvent``, or the first thing wrong with it."""
    record_id = str(row.get("record_id") or "").strip()
    if not record_id:
        return RowError(line_no, "", "record_id", "record_id is required")
    if len(record_id) > 100:
        return RowError(
            line_no,
            record_id[:100],
            "record_id",
            "record_id is longer than 100 characters",
        )
    msisdn = str(row.get("msisdn") or "").strip()
    if not _E164.fullmatch(msisdn):
        return RowError(
            line_no,
            record_id,
            "msisdn",
            f"msisdn {msisdn!r} is not an E.164 number like +46701234567",
        )
    service = str(row.get("service") or "").strip()
    if service not in SERVICES:
        return RowError(
            line_no,
            record_id,
            "service",
            f"service {service!r} is not voice, sms, mms or data",
        )
    started_text = str(row.get("started_at") or "").strip()
    try:
        started = datetime.fromisoformat(started_text)
    except ValueError:
        return RowError(
            line_no,
            record_id,
            "started_at",
            f"bad timestamp {started_text!r} (ISO 8601 with offset)",
        )
    if started.tzinfo is None:
        return RowError(
            line_no,
            record_id,
            "started_at",
            f"bad timestamp {started_text!r}: no UTC offset",
        )
    duration = volume = 0
    called = str(row.get("called_number") or "").strip()
    if service == "voice":
        value = _int_field(row, "duration_s", line_no, record_id)
        if isinstance(value, RowError):
            return value
        duration = value
    elif service == "data":
        value = _int_field(row, "volume_bytes", line_no, record_id)
        if isinstance(value, RowError):
            return value
        volume = value
    if service != "data" and not _E164.fullmatch(called):
        return RowError(
            line_no,
            record_id,
            "called_number",
            f"called_number {called!r} is not an E.164 number"
            if called
            else "called_number is required",
        )
    country = str(row.get("visited_country") or "").strip().upper()
    if country and not _COUNTRY.fullmatch(country):
        return RowError(
            line_no,
            record_id,
            "visited_country",
            f"visited_country {country!r} is not ISO 3166-1 alpha-2",
        )
    if country == "SE":
        country = ""
    return UsageEvent(
        record_id,
        msisdn,
        service,
        int(started.timestamp()),
        duration,
        volume,
        called if service != "data" else "",
        country,
    )


def write_cdr_csv(stream: IO[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows (dicts with the CDR columns) as a CDR CSV; returns the row count."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
        n += 1
    return n
