"""One usage record (CDR) of ``spec/cdr-csv.md``: its columns, ``validate_row`` (a row → a
``rating.UsageEvent`` or a ``RowError`` that names the field), the rows that cannot be read (kept for
suspense with the reason), and ``write_cdr_csv``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any, NamedTuple

from backend_stub.domain.rating import UsageEvent

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


UNREADABLE = "unreadable"  # key of a raw row that could not be read: {"field": ..., "reason": ...}

SURROGATE = re.compile("[\udc80-\udcff]").search  # a byte that was not UTF-8, as surrogateescape keeps it


class RowError(NamedTuple):
    line_no: int | None
    record_id: str
    field: str
    reason: str


Row = tuple[str, str, str, str, str, str, str, str]  # the values of COLUMNS, in that order


def row_of(mapping: dict[str, Any]) -> Row:
    """A JSON object (or dict row) as a row tuple in ``COLUMNS`` order; unknown keys are ignored."""
    return tuple("" if mapping.get(c) is None else str(mapping.get(c)) for c in COLUMNS)  # type: ignore[return-value]


def raw_of(row: Row | dict[str, Any]) -> dict[str, Any]:
    """A row as a dict (what suspense keeps, so that it can be re-processed)."""
    return dict(row) if isinstance(row, dict) else dict(zip(COLUMNS, row, strict=True))


def first_bad_byte(lines: list[str]) -> tuple[int, str] | None:
    """(index of the line, "byte 0xff at column 12") of the first byte that was not UTF-8, or None."""
    for k, line in enumerate(lines):
        if not line.isascii():
            found = SURROGATE(line)
            if found is not None:
                byte = ord(found.group()) - 0xDC00
                return k, f"byte 0x{byte:02x} at column {found.start() + 1}"
    return None


def _escaped(text: str) -> str:
    """Text with its undecodable bytes written as ``\\xff`` (what suspense keeps: nothing is lost)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _column_names(positions: list[int], width: int) -> list[str]:
    """The name of each column of the file ("" for an extra column), by position."""
    names = [""] * width
    for name, pos in zip(COLUMNS, positions, strict=True):
        if pos < width:
            names[pos] = name
    return names


def bad_column(values: list[str], positions: list[int], width: int) -> str:
    """The column that holds the first undecodable byte ("line" when it is in no known column)."""
    names = _column_names(positions, width)
    for i, value in enumerate(values[:width]):
        if not value.isascii() and SURROGATE(value):
            return names[i] or "line"
    return "line"


def unreadable_row(
    lines: list[str], values: list[str], positions: list[int], width: int, reason: str, field: str
) -> dict[str, Any]:
    """The raw row that suspense keeps for a line that cannot be read.

    The known columns (undecodable bytes escaped as ``\\xff``), the physical line(s) as
    escaped text under ``line_text``, and under ``UNREADABLE`` the field and reason that
    ``validate_row`` gives again whenever the row is re-processed.
    """
    padded = values + [""] * (width + 1 - len(values)) if len(values) <= width else values[:width] + [""]
    raw: dict[str, Any] = {c: _escaped(padded[i])[:_RAW_VALUE_CHARS] for c, i in zip(COLUMNS, positions, strict=True)}
    raw["line_text"] = _escaped("".join(lines).rstrip("\r\n"))
    raw[UNREADABLE] = {"field": field, "reason": reason}
    return raw


_RAW_VALUE_CHARS = 1000  # a column kept in the raw row; ``line_text`` keeps the whole line


def unparsable_row(lines: list[str], positions: list[int], width: int, exc: csv.Error) -> dict[str, Any]:
    """A row the csv module refused: the line's comma-separated parts stand in for its values."""
    text = "".join(lines).rstrip("\r\n")
    values = text.split(",")
    limit = csv.field_size_limit()
    long = next((i for i, v in enumerate(values) if len(v) > limit), None)
    if long is not None or "field larger than field limit" in str(exc):
        reason = f"field longer than {limit} characters"
        names = _column_names(positions, max(width, len(values)))
        field = names[long] if long is not None and names[long] else "line"
    else:
        reason, field = f"not a CSV row ({exc})", "line"
    return unreadable_row(lines, values, positions, width, reason, field)


def _whole(text: str, name: str, line_no: int | None, record_id: str) -> int | RowError:
    if text.isdigit() and text.isascii():
        return int(text)
    text = text.strip()
    if text == "":
        return RowError(line_no, record_id, name, f"{name} is required for this service")
    if text.startswith("-") and text[1:].isdigit() and text.isascii():
        what = "negative duration" if name == "duration_s" else "negative volume"
        return RowError(line_no, record_id, name, f"{what}: {text}")
    if not (text.isdigit() and text.isascii()):
        return RowError(line_no, record_id, name, f"{name} {text!r} is not a whole number")
    return int(text)


_E164_MATCH = _E164.fullmatch

_fromiso = datetime.fromisoformat

_hour_epochs: dict[str, int | None] = {}


def parse_timestamp(text: str) -> int | None:
    """Epoch seconds of an ISO 8601 timestamp with offset; None if it is not one.

    The common form ``2026-10-03T14:22:05+02:00`` is parsed through a cache of hour
    starts (the import's hot path); anything else goes through ``datetime.fromisoformat``.
    """
    if len(text) == 25 and text[13] == ":" and text[16] == ":":
        mm, ss = text[14:16], text[17:19]
        if mm.isdigit() and ss.isdigit() and mm < "60" and ss < "60":
            key = text[:13] + text[19:]
            base = _hour_epochs.get(key, -1)
            if base == -1:
                if len(_hour_epochs) > 200_000:
                    _hour_epochs.clear()
                try:
                    hour = _fromiso(text[:13] + ":00:00" + text[19:])
                    base = int(hour.timestamp()) if hour.tzinfo is not None else None
                except ValueError:
                    base = None
                _hour_epochs[key] = base
            if base is not None:
                return base + int(mm) * 60 + int(ss)
            return None
    try:
        started = _fromiso(text.strip())
    except ValueError:
        return None
    if started.tzinfo is None:
        return None
    return int(started.timestamp())


def validate_row(line_no: int | None, row: Row | dict[str, Any]) -> UsageEvent | RowError:
    """One row (CSV tuple or JSON object) to a ``UsageEvent``, or the first thing wrong with it."""
    if isinstance(row, dict):
        unreadable = row.get(UNREADABLE)
        if unreadable is not None:
            return RowError(
                line_no,
                str(row.get("record_id") or "")[:100],
                str(unreadable.get("field") or "line"),
                str(unreadable.get("reason") or "the row could not be read"),
            )
        row = row_of(row)
    record_id, msisdn, service, started_text, duration_text, volume_text, called, country = row
    if not record_id or record_id != record_id.strip():
        record_id = record_id.strip()
        if not record_id:
            return RowError(line_no, "", "record_id", "record_id is required")
    if len(record_id) > 100:
        return RowError(line_no, record_id[:100], "record_id", "record_id is longer than 100 characters")
    if not _E164_MATCH(msisdn):
        msisdn = msisdn.strip()
        if not _E164_MATCH(msisdn):
            return RowError(line_no, record_id, "msisdn", f"msisdn {msisdn!r} is not an E.164 number like +46701234567")
    if service not in SERVICES:
        service = service.strip()
        if service not in SERVICES:
            return RowError(line_no, record_id, "service", f"service {service!r} is not voice, sms, mms or data")
    started = parse_timestamp(started_text)
    if started is None:
        return RowError(
            line_no,
            record_id,
            "started_at",
            f"bad timestamp {started_text!r} (ISO 8601 with a UTC offset, like 2026-10-03T14:22:05+02:00)",
        )
    duration = volume = 0
    if service == "voice":
        value = _whole(duration_text, "duration_s", line_no, record_id)
        if value.__class__ is RowError:
            return value
        duration = value  # type: ignore[assignment]  # narrowed by the __class__ test above (isinstance is slower here)
    elif service == "data":
        value = _whole(volume_text, "volume_bytes", line_no, record_id)
        if value.__class__ is RowError:
            return value
        volume = value  # type: ignore[assignment]  # narrowed by the __class__ test above (isinstance is slower here)
    if service == "data":
        called = ""
    elif not _E164_MATCH(called):
        called = called.strip()
        if not _E164_MATCH(called):
            return RowError(
                line_no,
                record_id,
                "called_number",
                f"called_number {called!r} is not an E.164 number" if called else "called_number is required",
            )
    if country:
        country = country.strip().upper()
        if country and not _COUNTRY.fullmatch(country):
            return RowError(
                line_no, record_id, "visited_country", f"visited_country {country!r} is not ISO 3166-1 alpha-2"
            )
        if country == "SE":
            country = ""
    return UsageEvent(record_id, msisdn, service, started, duration, volume, called, country)


def write_cdr_csv(stream: IO[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows (dicts with the CDR columns) as a CDR CSV; returns the row count."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
        n += 1
    return n
