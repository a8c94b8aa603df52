"""formats.cdr_csv: the spec's example rows are valid; every broken row names its field and line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from backend_stub.domain.rating import UsageEvent
from backend_stub.formats.cdr_csv import CdrFileError, RowError, read_cdr_bytes, read_cdr_csv, validate_row

HEADER = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country"

# The example of spec/cdr-csv.md, verbatim.
SPEC_EXAMPLE = """\
record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country
c-0001,+46701234567,voice,2026-10-03T14:22:05+02:00,125,,+46812345678,
c-0002,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,
c-0003,+46701234567,data,2026-10-04T08:00:00+02:00,,52428800,,
c-0004,+46701234567,data,2026-10-12T19:10:00+02:00,,104857600,,ES
c-0005,+46701234567,voice,2026-10-13T09:00:00+02:00,61,,+12125550100,US
"""


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def validated(text: str) -> list[UsageEvent | RowError]:
    return [validate_row(line_no, row) for line_no, row in read_cdr_csv(io.StringIO(text, newline=""))]


def one_row(row: str) -> UsageEvent | RowError:
    [result] = validated(f"{HEADER}\n{row}\n")
    return result


# --------------------------------------------------------------------------- valid rows


def test_the_spec_example_is_valid():
    events = validated(SPEC_EXAMPLE)
    assert events == [
        UsageEvent("c-0001", "+46701234567", "voice", epoch("2026-10-03T14:22:05+02:00"), 125, 0, "+46812345678", ""),
        UsageEvent("c-0002", "+46701234567", "sms", epoch("2026-10-03T14:25:00+02:00"), 0, 0, "+46739876543", ""),
        UsageEvent("c-0003", "+46701234567", "data", epoch("2026-10-04T08:00:00+02:00"), 0, 52_428_800, "", ""),
        UsageEvent("c-0004", "+46701234567", "data", epoch("2026-10-12T19:10:00+02:00"), 0, 104_857_600, "", "ES"),
        UsageEvent("c-0005", "+46701234567", "voice", epoch("2026-10-13T09:00:00+02:00"), 61, 0, "+12125550100", "US"),
    ]


def test_started_at_is_utc_epoch_seconds():
    event = one_row("c-1,+46701234567,sms,2026-10-03T14:22:05+02:00,,,+46739876543,")
    assert event.started_at == int(datetime(2026, 10, 3, 12, 22, 5, tzinfo=UTC).timestamp())
    same = one_row("c-1,+46701234567,sms,2026-10-03T12:22:05+00:00,,,+46739876543,")
    assert same.started_at == event.started_at


def test_line_numbers_count_the_header_as_line_1():
    lines = [line_no for line_no, _ in read_cdr_csv(io.StringIO(SPEC_EXAMPLE, newline=""))]
    assert lines == [2, 3, 4, 5, 6]


def test_columns_in_any_order_and_extra_columns_ignored():
    text = (
        "cell_id,visited_country,called_number,started_at,service,msisdn,record_id,duration_s,volume_bytes\n"
        "X17,,+46812345678,2026-10-03T14:22:05+02:00,voice,+46701234567,c-0001,125,\n"
    )
    assert validated(text) == validated(SPEC_EXAMPLE)[:1]


def test_optional_columns_may_be_left_out():
    text = (
        "record_id,msisdn,service,started_at,called_number\n"
        "c-0002,+46701234567,sms,2026-10-03T14:25:00+02:00,+46739876543\n"
    )
    assert validated(text) == validated(SPEC_EXAMPLE)[1:2]


def test_zero_duration_and_zero_volume_are_valid():
    assert one_row("c-1,+46701234567,voice,2026-10-03T14:22:05+02:00,0,,+46812345678,").duration_s == 0
    assert one_row("c-1,+46701234567,data,2026-10-03T14:22:05+02:00,,0,,").volume_bytes == 0


def test_visited_country_se_is_the_home_network():
    assert one_row("c-1,+46701234567,data,2026-10-03T14:22:05+02:00,,100,,SE").visited_country == ""


def test_visited_country_is_upper_cased():
    assert one_row("c-1,+46701234567,data,2026-10-03T14:22:05+02:00,,100,,es").visited_country == "ES"


def test_a_utf8_file_with_bom():
    rows = list(read_cdr_bytes(("\ufeff" + SPEC_EXAMPLE).encode("utf-8")))
    assert [validate_row(n, r) for n, r in rows] == validated(SPEC_EXAMPLE)


def test_a_json_object_validates_like_a_csv_row():
    body = {
        "record_id": "c-0005",
        "msisdn": "+46701234567",
        "service": "voice",
        "started_at": "2026-10-13T09:00:00+02:00",
        "duration_s": 61,
        "called_number": "+12125550100",
        "visited_country": "US",
    }
    assert validate_row(None, body) == validated(SPEC_EXAMPLE)[4]


# --------------------------------------------------------------------------- broken rows


@pytest.mark.parametrize(
    ("row", "field", "reason_has"),
    [
        ("c-9,+46701234567,voice,2026-10-03T14:22:05+02:00,-5,,+46812345678,", "duration_s", "negative duration"),
        ("c-9,+46701234567,data,2026-10-03T14:22:05+02:00,,-1,,", "volume_bytes", "negative volume"),
        ("c-9,+46701234567,voice,2026-10-03T14:22:05+02:00,12.5,,+46812345678,", "duration_s", "not a whole number"),
        ("c-9,+46701234567,voice,2026-10-03T14:22:05+02:00,,,+46812345678,", "duration_s", "required"),
        ("c-9,+46701234567,data,2026-10-03T14:22:05+02:00,,,,", "volume_bytes", "required"),
        ("c-9,+46701234567,voice,2026-13-03T14:22:05+02:00,125,,+46812345678,", "started_at", "bad timestamp"),
        ("c-9,+46701234567,voice,yesterday,125,,+46812345678,", "started_at", "bad timestamp"),
        ("c-9,+46701234567,voice,2026-10-03T14:22:05,125,,+46812345678,", "started_at", "2026-10-03T14:22:05"),
        ("c-9,+46701234567,voice,2026-10-03,125,,+46812345678,", "started_at", "bad timestamp"),
        ("c-9,+46701234567,voice,,125,,+46812345678,", "started_at", "bad timestamp"),
        ("c-9,+46701234567,voice,2026-10-03T14:22:05+02:00,125,,,", "called_number", "called_number is required"),
        ("c-9,+46701234567,sms,2026-10-03T14:22:05+02:00,,,0812345678,", "called_number", "not an E.164"),
        ("c-9,0701234567,voice,2026-10-03T14:22:05+02:00,125,,+46812345678,", "msisdn", "not an E.164"),
        ("c-9,,voice,2026-10-03T14:22:05+02:00,125,,+46812345678,", "msisdn", "not an E.164"),
        ("c-9,+46701234567,fax,2026-10-03T14:22:05+02:00,125,,+46812345678,", "service", "'fax'"),
        ("c-9,+46701234567,,2026-10-03T14:22:05+02:00,125,,+46812345678,", "service", "voice, sms, mms or data"),
        ("c-9,+46701234567,data,2026-10-03T14:22:05+02:00,,100,,Spain", "visited_country", "ISO 3166-1"),
        (",+46701234567,data,2026-10-03T14:22:05+02:00,,100,,", "record_id", "record_id is required"),
    ],
)
def test_a_broken_row_names_its_field_and_line(row, field, reason_has):
    error = one_row(row)
    assert isinstance(error, RowError)
    assert error.line_no == 2
    assert error.field == field
    assert reason_has in error.reason
    if field != "record_id":
        assert error.record_id == "c-9"


def test_a_timestamp_without_offset_says_so():
    error = one_row("c-9,+46701234567,voice,2026-10-03T14:22:05,125,,+46812345678,")
    assert error.field == "started_at"
    assert "offset" in error.reason


def test_a_too_long_record_id():
    error = one_row(f"{'x' * 101},+46701234567,data,2026-10-03T14:22:05+02:00,,100,,")
    assert (error.field, error.line_no) == ("record_id", 2)


def test_bad_rows_do_not_stop_the_rest_of_the_file():
    text = SPEC_EXAMPLE.replace(",125,", ",-125,").replace("2026-10-04T08:00:00+02:00", "2026-10-04 kl 8")
    results = validated(text)
    errors = [(r.line_no, r.record_id, r.field) for r in results if isinstance(r, RowError)]
    assert errors == [(2, "c-0001", "duration_s"), (4, "c-0003", "started_at")]
    assert [r.record_id for r in results if isinstance(r, UsageEvent)] == ["c-0002", "c-0004", "c-0005"]


def test_the_line_number_follows_the_file_not_the_row_count():
    text = f"{HEADER}\n\nc-1,+46701234567,fax,2026-10-03T14:22:05+02:00,,,+46812345678,\n"
    [error] = validated(text)
    assert error.line_no == 3  # line 2 is blank


def test_a_superscript_digit_is_a_row_error_not_a_crash():
    # "²".isdigit() is true, but int("²") raises: the row must be rejected, not crash the import.
    error = one_row("c-9,+46701234567,voice,2026-10-03T14:22:05+02:00,²,,+46812345678,")
    assert isinstance(error, RowError) and error.field == "duration_s"


def test_a_stray_trailing_value_is_not_read_as_a_missing_column():
    # The header has no visited_country column; the row has one value too many. The call was made at
    # home (no visited_country), so it must not be read as roaming in "XX".
    text = (
        "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number\n"
        "c-1,+46701234567,voice,2026-10-03T14:22:05+02:00,125,,+46812345678,XX\n"
    )
    [result] = validated(text)
    assert isinstance(result, RowError) or result.visited_country == ""


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize("column", ["record_id", "msisdn", "service", "started_at"])
def test_a_file_missing_a_required_column_names_it(column):
    header = ",".join(c for c in HEADER.split(",") if c != column)
    with pytest.raises(CdrFileError, match=f"line 1: .*{column}"):
        list(read_cdr_csv(io.StringIO(header + "\n")))


def test_an_empty_file_needs_a_header():
    with pytest.raises(CdrFileError, match="header"):
        list(read_cdr_csv(io.StringIO("")))


def test_a_byte_that_is_not_utf8_rejects_its_row_only_naming_line_column_and_byte():
    data = (
        SPEC_EXAMPLE.encode("utf-8")
        + "c-6,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,Å\n".encode("latin-1")
        + b"c-7,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,\n"
    )
    results = [validate_row(n, r) for n, r in read_cdr_bytes(data)]
    assert results[:5] == validated(SPEC_EXAMPLE)
    column = len("c-6,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,") + 1
    assert results[5] == RowError(7, "c-6", "visited_country", f"not UTF-8 (byte 0xc5 at column {column})")
    assert isinstance(results[6], UsageEvent) and results[6].record_id == "c-7"


def test_an_unreadable_row_keeps_its_bytes_escaped_for_suspense():
    data = HEADER.encode() + b"\nc-1,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+4673\xff9876543,,extra\n"
    [(line_no, raw)] = list(read_cdr_bytes(data))
    assert line_no == 2
    assert raw["called_number"] == "+4673\\xff9876543"
    assert raw["line_text"] == "c-1,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+4673\\xff9876543,,extra"
    # Re-processing the kept row gives the same rejection: it is never rated with a mangled value.
    column = len("c-1,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+4673") + 1
    assert validate_row(line_no, dict(raw)) == RowError(
        2, "c-1", "called_number", f"not UTF-8 (byte 0xff at column {column})"
    )


def test_a_byte_that_is_not_utf8_in_an_extra_column_still_rejects_the_row():
    header = HEADER + ",note"
    before = "c-1,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,,"
    [(line_no, raw)] = list(read_cdr_bytes(f"{header}\n{before}".encode() + b"\xe5\n"))
    assert validate_row(line_no, raw) == RowError(
        2, "c-1", "line", f"not UTF-8 (byte 0xe5 at column {len(before) + 1})"
    )


def test_a_field_over_the_csv_size_limit_rejects_its_row_only():
    limit = csv.field_size_limit()
    text = (
        SPEC_EXAMPLE
        + f"c-6,+46701234567,sms,2026-10-03T14:25:00+02:00,,,{'9' * (limit + 1)},\n"
        + "c-7,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,\n"
    )
    results = validated(text)
    assert results[5] == RowError(7, "c-6", "called_number", f"field longer than {limit} characters")
    assert isinstance(results[6], UsageEvent) and results[6].record_id == "c-7"


def test_a_header_that_is_not_utf8_refuses_the_file():
    with pytest.raises(CdrFileError, match=r"line 1: the header is not UTF-8 \(byte 0xff at column 2\)"):
        list(read_cdr_bytes(b"r\xffecord_id,msisdn,service,started_at\n"))
