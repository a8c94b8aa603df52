"""Usage records (CDRs): the CSV interchange format of ``spec/cdr-csv.md``.

``read_cdr_csv`` yields ``(line_no, row)`` with ``row`` a tuple of the known columns;
``validate_row`` turns one row into a ``rating.UsageEvent`` or a ``RowError`` that names
the field. A file without the required header columns is refused as a whole.

A row that cannot be read (a byte that is not UTF-8, a field over the csv module's size
limit) is yielded as a dict (``unreadable_row``): its columns decoded with replacement,
the physical line as escaped text and the reason, so that it goes to suspense like any
other bad row while the rest of the file is read. Files are decoded with
``surrogateescape``: the whole buffer is decoded at C speed and only a line that holds an
escaped byte is looked at again.

This module reads files fast (in bulk, in parallel for big files); ``cdr_rows`` holds what one row is:
the columns, ``validate_row``, unreadable rows and ``write_cdr_csv``.
"""

from __future__ import annotations

import codecs
import csv
import io
import multiprocessing
import os
import pickle
import re
import traceback
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import chain, islice, repeat
from operator import add
from typing import IO, Any, NamedTuple

from backend_stub.domain.rating import UsageEvent
from backend_stub.formats.cdr_rows import (  # some re-exported (__all__): callers import them from here
    COLUMNS,
    REQUIRED_COLUMNS,
    SURROGATE,
    CdrFileError,
    Row,
    RowError,
    bad_column,
    first_bad_byte,
    parse_timestamp,
    raw_of,
    unparsable_row,
    unreadable_row,
    validate_row,
    write_cdr_csv,
)

__all__ = [
    "COLUMNS",
    "PARALLEL_MIN_BYTES",
    "REQUIRED_COLUMNS",
    "CdrFileError",
    "CdrReader",
    "EventRun",
    "RowError",
    "raw_of",
    "read_cdr_bytes",
    "read_cdr_csv",
    "validate_row",
    "write_cdr_csv",
]

PARALLEL_MIN_BYTES = 4_000_000  # below this (~50,000 rows), forking a reader costs more than it saves


class EventRun(NamedTuple):
    """Valid events of consecutive lines ``first_line``, ``first_line + 1``, … (the bulk path)."""

    first_line: int
    events: list[UsageEvent]


class CdrReader:
    """The rows of a CDR CSV file.

    Iterating gives ``(line_no, row)`` for ``validate_row``. ``segments()`` reads the same
    file for a bulk import: runs of rows already validated (``EventRun``), with every row
    that is not in the common form given as ``(line_no, row)`` in its place, so the caller
    still sees the file in order. Both read the file once, and only one of them may be used.
    """

    def __init__(self, stream: IO[str] | Iterable[str]):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            # A bad byte is one bad row, not an unreadable file: keep it as a lone surrogate.
            stream.reconfigure(errors="surrogateescape")
        self._stream = stream
        self._lines = iter(stream)
        self._rows: Iterator[tuple[int, Row | dict[str, Any]]] | None = None

    def __iter__(self) -> Iterator[tuple[int, Row | dict[str, Any]]]:
        return self

    def __next__(self) -> tuple[int, Row | dict[str, Any]]:
        if self._rows is None:
            self._rows = self._all_rows()
        return next(self._rows)

    def _header(self) -> tuple[Any, list[int], int, bool, list[str]]:
        taken: list[str] = []
        reader = csv.reader(_tapped(self._lines, taken))
        try:
            header = next(reader)
        except StopIteration:
            raise CdrFileError("the file is empty: a header row is required") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CdrFileError(f"line 1: {exc}") from None
        bad = first_bad_byte(taken)
        if bad is not None:
            raise CdrFileError(f"line {1 + bad[0]}: the header is not UTF-8 ({bad[1]})")
        taken.clear()
        header = [h.strip().lstrip("\ufeff") for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise CdrFileError(f"line 1: header lacks required column(s) {', '.join(missing)}")
        width = len(header)
        positions = [header.index(c) if c in header else width for c in COLUMNS]
        in_order = positions == list(range(len(COLUMNS))) and width == len(COLUMNS)
        return reader, positions, width, in_order, taken

    def _all_rows(self) -> Iterator[tuple[int, Row | dict[str, Any]]]:
        reader, positions, width, in_order, taken = self._header()
        yield from _shaped_rows(reader, positions, width, in_order, 0, taken)

    def segments(self, *, parallel: bool = False) -> Iterator[EventRun | tuple[int, Row | dict[str, Any]]]:
        """The file as runs of valid events and single rows to validate, in file order.

        With ``parallel``, a large plain UTF-8 file is read in two halves at once, the second
        in a forked process (only for callers that may fork: not a threaded server).
        """
        if self._rows is not None:
            raise RuntimeError("the rows of this file are already being read")
        self._rows = iter(())
        if parallel:
            halves = self._halves()
            if halves is not None:
                yield from _segments_in_halves(*halves)
                return
        reader, positions, width, in_order, taken = self._header()
        offset = reader.line_num
        if not in_order:
            yield from _shaped_rows(reader, positions, width, in_order, 0, taken)
            return
        lines = self._lines
        while True:
            try:
                batch = list(islice(lines, _BATCH_LINES))
            except UnicodeDecodeError as exc:
                raise CdrFileError(f"line {offset + 1}: {exc}") from None
            if not batch:
                return
            text = "".join(batch)
            if '"' in text:  # quoted fields may hold commas and line breaks: the csv module reads on
                taken = []
                yield from _shaped_rows(
                    csv.reader(_tapped(chain(batch, lines), taken)), positions, width, in_order, offset, taken
                )
                return
            found = _COMMON_LINES(text)
            if len(found) == len(batch):
                yield from _bulk_runs(found, batch, offset + 1, positions, width, in_order)
            else:
                yield from _line_by_line(batch, offset + 1, positions, width, in_order)
            offset += len(batch)

    def _halves(self) -> tuple[str, str, int, list[int], int, bool] | None:
        """The body of a large plain file, cut at a line end near its middle, or None.

        Plain: UTF-8, no quotes and no line ends other than LF or CRLF, so that lines are
        rows and the csv module would split each at its commas. Anything else is read the
        usual way (the stream is rewound).
        """
        stream = self._stream
        if not (isinstance(stream, io.TextIOWrapper) and stream.seekable() and _can_fork()):
            return None
        encoding = codecs.lookup(stream.encoding).name
        if encoding not in ("utf-8", "utf-8-sig") or stream.tell() != 0:
            return None
        if os.fstat(stream.fileno()).st_size < PARALLEL_MIN_BYTES:
            return None
        text = stream.buffer.read().decode(encoding, "surrogateescape")  # a bad byte is one bad row
        if '"' in text or text.count("\r") != text.count("\r\n"):
            stream.seek(0)
            return None
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        end = text.find("\n")
        end = len(text) if end < 0 else end
        self._lines = iter([text[:end]])
        _reader, positions, width, in_order, _taken = self._header()
        if not in_order:
            stream.seek(0)
            self._lines = iter(stream)
            return None
        body = text[end + 1 :]
        del text
        mid = body.find("\n", len(body) // 2) + 1 or len(body)
        first, second = body[:mid], body[mid:]
        return first, second, 2 + first.count("\n"), positions, width, in_order


def _can_fork() -> bool:
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def _text_segments(
    part: str, first_line: int, positions: list[int], width: int, in_order: bool
) -> Iterator[EventRun | tuple[int, Row | dict[str, Any]]]:
    """Segments of plain text (LF line ends, no quotes) whose first line is ``first_line``."""
    lines = part.split("\n")
    if lines[-1] == "":
        lines.pop()
    for i in range(0, len(lines), _BATCH_LINES):
        batch = lines[i : i + _BATCH_LINES]
        found = _COMMON_LINES("\n".join(batch))
        if len(found) == len(batch):
            yield from _bulk_runs(found, batch, first_line + i, positions, width, in_order)
        else:
            yield from _line_by_line(batch, first_line + i, positions, width, in_order)


def _segments_in_halves(
    first: str, second: str, second_line: int, positions: list[int], width: int, in_order: bool
) -> Iterator[EventRun | tuple[int, Row | dict[str, Any]]]:
    """Both halves' segments in file order; a forked child reads the second half meanwhile.

    The child sends its events as columns (eight lists), which unpickle several times faster
    than the events themselves.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    halves = [first, second]
    del first, second

    def child() -> None:
        try:
            out: list[Any] = []
            for seg in _text_segments(halves[1], second_line, positions, width, in_order):
                out.append((seg.first_line, list(zip(*seg.events, strict=True))) if seg.__class__ is EventRun else seg)
            sender.send_bytes(pickle.dumps(("ok", out), protocol=pickle.HIGHEST_PROTOCOL))
        except CdrFileError as exc:
            sender.send_bytes(pickle.dumps(("file", str(exc))))
        except BaseException:  # report, never hang the parent
            sender.send_bytes(pickle.dumps(("error", traceback.format_exc())))
        finally:
            sender.close()

    proc = ctx.Process(target=child, name="cdr-reading", daemon=True)
    proc.start()
    sender.close()
    halves[1] = ""
    try:
        yield from _text_segments(halves.pop(0), 2, positions, width, in_order)
        try:
            kind, payload = pickle.loads(receiver.recv_bytes())
        except EOFError:
            raise RuntimeError("the CSV reading process ended without a result") from None
        if kind == "file":
            raise CdrFileError(payload)
        if kind != "ok":
            raise RuntimeError(f"reading the CSV failed in the child process:\n{payload}")
        for seg in payload:
            if seg[1].__class__ is list:
                yield EventRun(seg[0], list(map(_as_event, zip(*seg[1], strict=True))))
            else:
                yield seg
    finally:
        receiver.close()
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()


def read_cdr_csv(stream: IO[str] | Iterable[str]) -> CdrReader:
    """Rows of a CDR CSV file as ``(line_no, row)``; columns in any order, extra columns dropped."""
    return CdrReader(stream)


def _tapped(lines: Iterable[str], taken: list[str]) -> Iterator[str]:
    """``lines``, each also appended to ``taken``: the physical lines of the row the csv module reads."""
    for line in lines:
        taken.append(line)
        yield line


def _shaped_rows(
    reader: Any, positions: list[int], width: int, in_order: bool, offset: int, taken: list[str]
) -> Iterator[tuple[int, Row | dict[str, Any]]]:
    """``(line_no, row)`` of a csv reader, its rows put in ``COLUMNS`` order; line numbers after ``offset``.

    ``taken`` holds the physical lines the reader read for the current row (see ``_tapped``):
    a row with a byte that is not UTF-8, or that the csv module refuses (a field over its
    size limit), is yielded as an ``unreadable_row`` and the reader goes on with the next.
    """
    blank = [""] * (width + 1)
    while True:
        try:
            for values in reader:
                text = taken[0] if len(taken) == 1 else "".join(taken)
                if not text.isascii() and SURROGATE(text):
                    first = offset + reader.line_num - len(taken) + 1
                    k, where = first_bad_byte(taken)  # type: ignore[misc]
                    lines = taken[:]
                    taken.clear()
                    yield (
                        first + k,
                        unreadable_row(
                            lines,
                            values,
                            positions,
                            width,
                            f"not UTF-8 ({where})",
                            bad_column(values, positions, width),
                        ),
                    )
                    continue
                taken.clear()
                if not values:
                    continue
                if in_order and len(values) == width:
                    yield offset + reader.line_num, tuple(values)
                    continue
                padded = values + blank[len(values) :] if len(values) <= width else values[:width] + [""]
                yield offset + reader.line_num, tuple(padded[i] for i in positions)
            return
        except csv.Error as exc:
            line_no = offset + reader.line_num
            lines = taken[:]
            taken.clear()
            yield line_no, unparsable_row(lines, positions, width, exc)
        except UnicodeDecodeError as exc:
            raise CdrFileError(f"line {offset + reader.line_num + 1}: {exc}") from None


# The common form of a row, columns in ``COLUMNS`` order: what ``validate_row`` accepts without
# stripping or case-folding. Rows in this form are validated in bulk (one regex over many lines,
# then C-level maps over the columns); every other row goes through ``validate_row``. The pattern
# is narrower than the rules, never wider. Groups: record_id, msisdn, voice | data | sms/mms,
# minute, second, offset, duration (voice only), volume (data only), called_number (not data),
# visited_country.
_COMMON = (
    r"([^,\"\s\x00\udc80-\udcff]{1,100}),(\+[1-9][0-9]{4,14}),(?:(voice)|(data)|(sms|mms)),"
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]):([0-5][0-9])([+-][0-9]{2}:[0-9]{2}),"
    r"(?(3)([0-9]+)|[0-9]*),(?(4)([0-9]+)|[0-9]*),(?(4)(?:\+[1-9][0-9]{4,14})?|(\+[1-9][0-9]{4,14})),"
    r"([A-Z]{2}|)"
)

_COMMON_LINES = re.compile(r"^" + _COMMON + r"\r?$", re.MULTILINE).findall

_COMMON_ROW = re.compile(_COMMON).fullmatch

_BATCH_LINES = 8192

_SECONDS = {f"{s:02d}": s for s in range(60)}

_HOME = {"SE": ""}  # visited_country SE is the home network

_minute_epochs: dict[str, int | None] = {}

_as_event = partial(tuple.__new__, UsageEvent)


def _minute_epoch(key: str) -> int | None:
    """Epoch of ``YYYY-MM-DDTHH:MM`` + offset (``key``), or None if that is no time; cached."""
    base = _minute_epochs.get(key, -1)
    if base == -1:
        if len(_minute_epochs) > 500_000:
            _minute_epochs.clear()
        base = _minute_epochs[key] = parse_timestamp(f"{key[:16]}:00{key[16:]}")
    return base


def _bulk_events(found: list[tuple[str, ...]]) -> list[UsageEvent] | None:
    """Events of rows in the common form (``_COMMON`` groups); None if a timestamp is no time."""
    (rids, msisdns, voice, data, other, minutes, seconds, offsets, durations, volumes, called, countries) = zip(
        *found, strict=True
    )
    keys = list(map(add, minutes, offsets))
    epochs = _minute_epochs
    for key in set(keys).difference(epochs):
        _minute_epoch(key)
    bases = list(map(epochs.__getitem__, keys))
    if None in bases:
        return None
    zeros = repeat("0")
    return list(
        map(
            _as_event,
            zip(
                rids,
                msisdns,
                map(add, map(add, voice, data), other),
                map(add, bases, map(_SECONDS.__getitem__, seconds)),
                map(int, map(add, zeros, durations)),
                map(int, map(add, zeros, volumes)),
                called,
                map(_HOME.get, countries, countries),
                strict=True,
            ),
        )
    )


def _bulk_runs(
    found: list[tuple[str, ...]], batch: list[str], first_line: int, positions: list[int], width: int, in_order: bool
) -> Iterator[EventRun | tuple[int, Row | dict[str, Any]]]:
    events = _bulk_events(found)
    if events is not None:
        yield EventRun(first_line, events)
    else:
        yield from _line_by_line(batch, first_line, positions, width, in_order)


def _line_by_line(
    batch: list[str], first_line: int, positions: list[int], width: int, in_order: bool
) -> Iterator[EventRun | tuple[int, Row | dict[str, Any]]]:
    """A batch with some rows not in the common form: those go through the csv module one by one."""
    events: list[UsageEvent] = []
    run_start = first_line
    for i, line in enumerate(batch):
        body = line[:-1] if line.endswith("\n") else line
        if body.endswith("\r"):
            body = body[:-1]
        match = _COMMON_ROW(body)
        if match is not None:
            rid, msisdn, voice, data, other, minute, ss, offset, duration, volume, called, country = match.groups("")
            base = _minute_epoch(minute + offset)
            if base is not None:
                if not events:
                    run_start = first_line + i
                events.append(
                    UsageEvent(
                        rid,
                        msisdn,
                        voice + data + other,
                        base + _SECONDS[ss],
                        int("0" + duration),
                        int("0" + volume),
                        called,
                        _HOME.get(country, country),
                    )
                )
                continue
        if events:
            yield EventRun(run_start, events)
            events = []
        yield from _shaped_rows(_OneLine(line), positions, width, in_order, first_line + i - 1, [line])
    if events:
        yield EventRun(run_start, events)


class _OneLine:
    """A csv reader over one line whose ``line_num`` is 1."""

    def __init__(self, line: str):
        self._reader = csv.reader([line])
        self.line_num = 1

    def __iter__(self) -> Iterator[list[str]]:
        return self._reader


def read_cdr_bytes(data: bytes) -> CdrReader:
    """Rows of a CSV given as bytes (UTF-8, with or without BOM); a bad byte makes one bad row."""
    return read_cdr_csv(io.StringIO(data.decode("utf-8-sig", "surrogateescape"), newline=""))
