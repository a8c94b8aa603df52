"""The bulk reading path of CDR CSV files gives exactly what row-by-row validation gives."""

from __future__ import annotations

import io

import pytest

from backend_stub.formats import cdr_csv
from backend_stub.formats.cdr_csv import EventRun, read_cdr_csv, validate_row

HEADER = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country"
GOOD = [
    "c-{i},+46701234567,voice,2026-10-03T14:{m:02d}:05+02:00,{i},,+46812345678,",
    "c-{i},+46701234567,sms,2026-10-03T14:{m:02d}:00+02:00,,,+46739876543,",
    "c-{i},+46701234567,data,2026-10-04T08:{m:02d}:00+02:00,,52428800,,",
    "c-{i},+46701234567,data,2026-10-12T19:{m:02d}:00+02:00,,104857600,,ES",
    "c-{i},+46701234567,voice,2026-10-13T09:{m:02d}:59+02:00,61,,+12125550100,US",
    "c-{i},+46701234567,mms,2026-10-13T09:{m:02d}:59+01:00,,,+12125550100,SE",
]
ODD = [
    "c-{i},+46701234567,voice,2026-10-03T14:22:05+02:00,-5,,+46812345678,",  # negative duration
    " c-{i} ,+46701234567,sms,2026-10-03T14:22:05+02:00,,,+46739876543, se ",  # spaces, lower case
    "c-{i},+46701234567,voice,2026-10-03T24:22:05+02:00,5,,+46812345678,",  # no such hour
    "c-{i},+46701234567,data,2026-10-03T14:22:05+02:00,,,,",  # volume missing
    "c-{i},+46701234567,voice,2026-10-03T14:22:05Z,5,,+46812345678,",  # another timestamp form
    "c-{i},+46701234567,voice,2026-10-03T14:22:05+02:00,5,,+46812345678,,extra",  # a value too many
    "",  # blank line
    "c-0,+46701234567,sms,2026-10-03T14:22:05+02:00,,,+46739876543,",  # duplicate record_id
    '"c-{i}",+46701234567,sms,2026-10-03T14:22:05+02:00,,,"+46739876543",',  # quoted
    "c-{i},+46701234567,sms,2026-10-03T14:22:05+02:00,,,+4673\udcff9876543,",  # a byte that is not UTF-8
    "c-{i},+46701234567,sms,2026-10-03T14:22:05+02:00,,," + "9" * 140_000 + ",",  # over the csv field limit
    "c-{i}\udce5,+46701234567,sms,2026-10-03T14:22:05+02:00,,,+46739876543,",  # not UTF-8 in the record_id
]


def text_of(lines: list[str], newline: str = "\n") -> str:
    return newline.join([HEADER, *lines]) + newline


def rows_one_by_one(text: str) -> list:
    return [(line, validate_row(line, row)) for line, row in read_cdr_csv(io.StringIO(text, newline=""))]


def rows_in_bulk(reader) -> list:
    out = []
    runs = 0
    for seg in reader.segments(parallel=True):
        if isinstance(seg, EventRun):
            runs += 1
            out += [(seg.first_line + i, ev) for i, ev in enumerate(seg.events)]
        else:
            out.append((seg[0], validate_row(*seg)))
    assert runs, "the bulk path was not taken"
    return out


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bulk_reading_matches_row_by_row(odd, newline, monkeypatch):
    monkeypatch.setattr(cdr_csv, "_BATCH_LINES", 16)
    lines = [GOOD[i % len(GOOD)].format(i=i, m=i % 60) for i in range(100)]
    lines.insert(37 if odd.startswith('"') else 5, odd.format(i=999))  # quoted: the rest is read by csv
    text = text_of(lines, newline)
    expected = rows_one_by_one(text)
    assert len(expected) == 101 - (odd == "")
    assert rows_in_bulk(read_cdr_csv(io.StringIO(text, newline=""))) == expected


@pytest.mark.parametrize("odd", [ODD[0], ODD[2], ODD[4], ODD[6], *ODD[-3:]])
def test_a_large_file_read_in_two_halves_matches_row_by_row(odd, tmp_path, monkeypatch):
    monkeypatch.setattr(cdr_csv, "PARALLEL_MIN_BYTES", 1000)
    lines = [GOOD[i % len(GOOD)].format(i=i, m=i % 60) for i in range(3000)]
    lines.insert(2500, odd.format(i=999))  # in the second half, which a forked child reads
    lines.insert(500, odd.format(i=998))  # and in the first, which this process reads
    text = text_of(lines)
    path = tmp_path / "cdrs.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))  # a lone surrogate stands for a bad byte
    with open(path, encoding="utf-8", newline="") as fh:  # strict, as a caller may open it
        assert rows_in_bulk(read_cdr_csv(fh)) == rows_one_by_one(text)


@pytest.mark.parametrize("odd", ODD[-3:])
def test_an_unreadable_row_is_one_rejected_row_on_every_path(odd):
    lines = [GOOD[i % len(GOOD)].format(i=i, m=i % 60) for i in range(20)]
    lines.insert(5, odd.format(i=999))
    results = rows_one_by_one(text_of(lines))
    rejected = [(line, r) for line, r in results if not hasattr(r, "started_at")]
    assert len(results) == 21 and [line for line, _ in rejected] == [7]
    assert rejected[0][1].reason.startswith(("not UTF-8 (byte 0x", "field longer than"))
