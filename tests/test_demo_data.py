"""Tests for the deterministic demo-operator generator (backend_stub.demo_data)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend_stub import demo_data as dd

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Autumn window Aug-Oct 2026 (summer time, DST ends 2026-10-25) and spring window
# Feb-Apr 2026 (winter time, DST starts 2026-03-29).
AUTUMN = date(2026, 11, 15)
SPRING = date(2026, 5, 4)
MONTHS = 3

MOBILE_PLANS = {"mobil-bas", "mobil-5gb", "mobil-20gb", "mobil-obegransad"}
BROADBAND_PLANS = {"bredband-100", "bredband-250"}
MSISDN_RE = re.compile(r"^\+467[0236]\d{7}$")
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$")
EU_TRIPS = {"ES", "IT", "FR", "DE", "GR", "NO"}
NON_EU_TRIPS = {"US", "TH", "TR"}


@pytest.fixture(scope="module")
def customers() -> list[dict[str, str]]:
    return dd.generate_customers(400, seed=7, today=AUTUMN, months=MONTHS)


@pytest.fixture(scope="module")
def cdrs(customers: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return list(dd.generate_cdrs(customers, months=MONTHS, today=AUTUMN, seed=7))


@pytest.fixture(scope="module")
def spring_data() -> tuple[list[dict[str, str]], list[tuple[str, ...]]]:
    cust = dd.generate_customers(150, seed=3, today=SPRING, months=MONTHS)
    rows = list(dd.generate_cdrs(cust, months=MONTHS, today=SPRING, seed=3))
    return cust, rows


def _segments(customers: list[dict[str, str]]) -> dict[str, list[tuple[date, date]]]:
    out: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for row in customers:
        if row["msisdn"]:
            end = date.fromisoformat(row["end_date"]) if row["end_date"] else date.max
            out[row["msisdn"]].append((date.fromisoformat(row["start_date"]), end))
    return out


# --------------------------------------------------------------------------------------
# usage_months
# --------------------------------------------------------------------------------------


def test_usage_months_are_complete_months_before_today() -> None:
    assert dd.usage_months(date(2026, 11, 15), 3) == [
        (date(2026, 8, 1), date(2026, 8, 31)),
        (date(2026, 9, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
    ]
    assert dd.usage_months(date(2027, 1, 1), 2) == [
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
    ]
    assert dd.usage_months(date(2028, 3, 31), 1) == [(date(2028, 2, 1), date(2028, 2, 29))]
    assert dd.usage_months(date(2026, 5, 5), 0) == []


# --------------------------------------------------------------------------------------
# customers
# --------------------------------------------------------------------------------------


def test_customers_are_deterministic() -> None:
    a = dd.generate_customers(120, seed=11, today=AUTUMN)
    b = dd.generate_customers(120, seed=11, today=AUTUMN)
    c = dd.generate_customers(120, seed=12, today=AUTUMN)
    assert a == b
    assert a != c


def test_customer_rows_shape_and_formats(customers: list[dict[str, str]]) -> None:
    assert dd.CUSTOMER_COLUMNS[0] == "customer_number"
    assert len({r["customer_number"] for r in customers}) == 400
    first_day = dd.usage_months(AUTUMN, MONTHS)[0][0]
    last_day = dd.usage_months(AUTUMN, MONTHS)[-1][1]
    for row in customers:
        assert tuple(row) == dd.CUSTOMER_COLUMNS
        assert all(isinstance(v, str) for v in row.values())
        assert re.fullmatch(r"K\d{6}", row["customer_number"])
        assert re.fullmatch(r"S\d{6}", row["subscription_id"])
        assert re.fullmatch(r"[a-z]+(-[a-z]+)?\.[a-z]+\d+@example\.se", row["email"]), row
        assert re.fullmatch(r"\d{3} \d{2}", row["postal_code"])
        assert row["city"] and row["street"] and " " in row["name"]
        assert MSISDN_RE.match(row["phone"])
        assert row["channel"] in {"email", "sms", "letter"}
        assert row["reminder_fee_agreed"] in {"true", "false"}
        assert row["cycle_day"] == "1"
        assert ISO_DATE_RE.match(row["start_date"])
        assert row["end_date"] == "" or ISO_DATE_RE.match(row["end_date"])
        if row["end_date"]:
            assert row["start_date"] <= row["end_date"]
        assert date.fromisoformat(row["start_date"]) <= last_day
        if row["plan"] in MOBILE_PLANS:
            assert MSISDN_RE.match(row["msisdn"])
        else:
            assert row["plan"] in BROADBAND_PLANS
            assert row["msisdn"] == ""
        if row["discount"]:
            assert row["discount"] in {"3-man-gratis", "halva-priset-6"}
        sub_start = min(r["start_date"] for r in customers if r["subscription_id"] == row["subscription_id"])
        if row["discount"]:
            assert sub_start >= first_day.isoformat()
            assert row["discount_start"] == sub_start[:7]
        else:
            assert row["discount_start"] == ""


def test_customer_postal_codes_match_cities(customers: list[dict[str, str]]) -> None:
    first_digit = {
        "Stockholm": "1",
        "Göteborg": "4",
        "Malmö": "2",
        "Uppsala": "7",
        "Umeå": "9",
    }
    for row in customers:
        if row["city"] in first_digit:
            assert row["postal_code"].startswith(first_digit[row["city"]])
    assert any(ch in "".join(r["name"] for r in customers) for ch in "åäöÅÄÖ")


def test_phone_is_first_mobile_msisdn(customers: list[dict[str, str]]) -> None:
    first_mobile: dict[str, str] = {}
    for row in customers:
        if row["msisdn"]:
            first_mobile.setdefault(row["customer_number"], row["msisdn"])
    for row in customers:
        assert row["phone"] == first_mobile[row["customer_number"]]


def test_msisdns_unique_per_subscription() -> None:
    rows = dd.generate_customers(5000, seed=1, today=AUTUMN)
    by_msisdn: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["msisdn"]:
            by_msisdn[row["msisdn"]].add(row["subscription_id"])
    assert all(len(subs) == 1 for subs in by_msisdn.values())
    mobile_subs = {r["subscription_id"] for r in rows if r["msisdn"]}
    assert len(by_msisdn) == len(mobile_subs)
    assert {m[:5] for m in by_msisdn} == {"+4670", "+4672", "+4673", "+4676"}


def test_customer_mix_is_plausible() -> None:
    rows = dd.generate_customers(3000, seed=5, today=AUTUMN, months=MONTHS)
    customers = {r["customer_number"]: r for r in rows}
    channels = Counter(r["channel"] for r in customers.values())
    assert 0.70 < channels["email"] / 3000 < 0.80
    assert 0.15 < channels["sms"] / 3000 < 0.25
    assert 0.02 < channels["letter"] / 3000 < 0.08

    first_rows: dict[str, dict[str, str]] = {}
    for r in rows:
        first_rows.setdefault(r["subscription_id"], r)
    mobiles = Counter(r["customer_number"] for r in first_rows.values() if r["msisdn"])
    shares = Counter(mobiles.values())
    assert 0.80 < shares[1] / 3000 < 0.90
    assert 0.08 < shares[2] / 3000 < 0.16
    broadband = {r["customer_number"] for r in first_rows.values() if not r["msisdn"]}
    assert 0.15 < len(broadband) / 3000 < 0.25

    plans = Counter(r["plan"] for r in first_rows.values() if r["msisdn"])
    total = sum(plans.values())
    for plan, share in {
        "mobil-bas": 0.15,
        "mobil-5gb": 0.35,
        "mobil-20gb": 0.30,
        "mobil-obegransad": 0.20,
    }.items():
        assert abs(plans[plan] / total - share) < 0.05, plan

    n_subs = len(first_rows)
    ended = sum(1 for r in rows if r["end_date"]) - (len(rows) - n_subs)
    assert 0.01 < ended / n_subs < 0.06
    discounts = sum(1 for r in first_rows.values() if r["discount"])
    assert 0.02 < discounts / n_subs < 0.09
    reminder = sum(1 for r in customers.values() if r["reminder_fee_agreed"] == "true")
    assert 0.85 < reminder / 3000 < 0.95


def test_plan_change_rows_are_consistent() -> None:
    rows = dd.generate_customers(2000, seed=2, today=AUTUMN, months=MONTHS)
    window = dd.usage_months(AUTUMN, MONTHS)
    by_sub: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_sub[row["subscription_id"]].append(row)
    changes = [segs for segs in by_sub.values() if len(segs) > 1]
    mobile_subs = sum(1 for segs in by_sub.values() if segs[0]["msisdn"])
    assert 0.02 < sum(1 for s in changes if s[0]["msisdn"]) / mobile_subs < 0.07
    for first, second, *rest in changes:
        assert not rest
        assert first["msisdn"] == second["msisdn"]
        assert first["customer_number"] == second["customer_number"]
        assert first["plan"] != second["plan"]
        change = date.fromisoformat(second["start_date"])
        assert date.fromisoformat(first["end_date"]) == change - timedelta(days=1)
        assert first["start_date"] < second["start_date"]
        assert window[0][0] <= change <= window[-1][1]
        assert 10 <= change.day <= 20
        if second["end_date"]:
            assert second["end_date"] >= second["start_date"]


# --------------------------------------------------------------------------------------
# CDRs
# --------------------------------------------------------------------------------------


def test_cdrs_are_deterministic(customers: list[dict[str, str]]) -> None:
    subset = customers[:60]
    a = list(dd.generate_cdrs(subset, months=2, today=AUTUMN, seed=4))
    b = list(dd.generate_cdrs(subset, months=2, today=AUTUMN, seed=4))
    c = list(dd.generate_cdrs(subset, months=2, today=AUTUMN, seed=5))
    assert a == b
    assert a != c


def test_cdr_record_ids_unique_and_stable(cdrs: list[tuple[str, ...]]) -> None:
    ids = [row[0] for row in cdrs]
    assert len(ids) == len(set(ids))
    for row in cdrs[:1000]:
        assert re.fullmatch(r"\d{11}-\d{6}-\d{5}", row[0])
        assert row[0].startswith(row[1][1:] + "-" + row[3][:4] + row[3][5:7])


def _check_row(row: tuple[str, ...]) -> datetime:
    assert len(row) == len(dd.CDR_COLUMNS) == 8
    assert all(isinstance(v, str) for v in row)
    record_id, msisdn, service, started_at, duration, volume, called, country = row
    assert record_id
    assert MSISDN_RE.match(msisdn)
    assert TS_RE.match(started_at), started_at
    ts = datetime.fromisoformat(started_at)
    assert ts.tzinfo is not None
    local = ts.replace(tzinfo=None)
    # The offset is the Stockholm offset of that wall time and the wall time exists.
    assert ts.utcoffset() == local.replace(tzinfo=STOCKHOLM).utcoffset()
    assert ts.astimezone(STOCKHOLM).replace(tzinfo=None) == local
    assert service in {"voice", "sms", "mms", "data"}
    if service == "voice":
        assert duration.isdigit() and 0 <= int(duration) <= 1800
        assert volume == ""
        assert E164_RE.match(called), called
    elif service == "data":
        assert duration == "" and called == ""
        assert volume.isdigit() and 1_000 <= int(volume) <= 800_000_000
    else:
        assert duration == "" and volume == ""
        assert E164_RE.match(called), called
    assert country == "" or country in EU_TRIPS | NON_EU_TRIPS
    return ts


def test_every_cdr_row_is_valid(cdrs: list[tuple[str, ...]]) -> None:
    assert cdrs
    for row in cdrs:
        _check_row(row)


def test_offsets_summer_winter_and_dst_days(
    cdrs: list[tuple[str, ...]],
    spring_data: tuple[list[dict[str, str]], list[tuple[str, ...]]],
) -> None:
    _cust, spring_rows = spring_data
    for row in spring_rows:
        _check_row(row)
    everything = cdrs + spring_rows
    by_day: dict[str, set[str]] = defaultdict(set)
    for row in everything:
        by_day[row[3][:10]].add(row[3][19:])
    assert by_day["2026-08-15"] == {"+02:00"}
    assert by_day["2026-02-14"] == {"+01:00"}
    assert by_day["2026-10-26"] == {"+01:00"}
    assert by_day["2026-03-30"] == {"+02:00"}
    # DST change days carry both offsets, and the skipped spring hour never occurs.
    assert by_day["2026-10-25"] == {"+01:00", "+02:00"}
    assert by_day["2026-03-29"] == {"+01:00", "+02:00"}
    assert not any(row[3].startswith("2026-03-29T02:") for row in spring_rows)
    for row in everything:
        if row[3][:10] in {"2026-10-25", "2026-03-29"}:
            hour = int(row[3][11:13])
            assert row[3].endswith("+02:00" if (hour < 3) == (row[3][5:7] == "10") else "+01:00")


def test_cdrs_only_within_active_mobile_segments(customers: list[dict[str, str]], cdrs: list[tuple[str, ...]]) -> None:
    segments = _segments(customers)
    window = dd.usage_months(AUTUMN, MONTHS)
    last_seen: dict[str, str] = {}
    for row in cdrs:
        day = date.fromisoformat(row[3][:10])
        assert window[0][0] <= day <= window[-1][1]
        assert any(start <= day <= end for start, end in segments[row[1]]), row
        # ordered by time within each subscription
        assert row[3] >= last_seen.get(row[1], "")
        last_seen[row[1]] = row[3]
    # grouped by subscription: each msisdn forms one contiguous block
    blocks = [m for i, m in enumerate(r[1] for r in cdrs) if i == 0 or cdrs[i - 1][1] != m]
    assert len(blocks) == len(set(blocks))


def test_exact_count_mode(customers: list[dict[str, str]]) -> None:
    expected = dd.active_subscription_months(customers, months=MONTHS, today=AUTUMN)
    rows = list(dd.generate_cdrs(customers, months=MONTHS, today=AUTUMN, seed=9, per_sub_per_month=13))
    assert len(rows) == 13 * expected
    per = Counter((r[1], r[3][:7]) for r in rows)
    assert set(per.values()) == {13}
    assert len(per) == expected
    # plan changes don't split a subscription-month in two
    changed = {r["msisdn"] for r in customers if r["msisdn"]} - {
        m for m, c in Counter(r["msisdn"] for r in customers if r["msisdn"]).items() if c == 1
    }
    assert changed
    assert all(per[(m, mo)] == 13 for (m, mo) in per if m in changed)


def test_exact_count_one_month_benchmark_shape() -> None:
    cust = dd.generate_customers(60, seed=1, today=AUTUMN, months=1)
    subs = dd.active_subscription_months(cust, months=1, today=AUTUMN)
    rows = list(dd.generate_cdrs(cust, months=1, today=AUTUMN, per_sub_per_month=100))
    assert len(rows) == 100 * subs
    assert len({r[0] for r in rows}) == len(rows)


def test_usage_is_realistic(customers: list[dict[str, str]], cdrs: list[tuple[str, ...]]) -> None:
    services = Counter(r[2] for r in cdrs)
    total = len(cdrs)
    assert 0.22 < services["voice"] / total < 0.38
    assert 0.17 < (services["sms"] + services["mms"]) / total < 0.33
    assert 0.37 < services["data"] / total < 0.53
    assert 0 < services["mms"] < services["sms"] / 10

    per_sub_month = Counter((r[1], r[3][:7]) for r in cdrs)
    assert 70 < total / len(per_sub_month) < 120
    # light and heavy users
    assert min(per_sub_month.values()) < 50
    assert max(per_sub_month.values()) > 150

    hours = Counter(int(r[3][11:13]) for r in cdrs)
    assert hours[3] * 10 < hours[12]
    assert hours[4] * 10 < hours[20]

    durations = [int(r[4]) for r in cdrs if r[2] == "voice"]
    assert any(d == 0 for d in durations)
    assert sorted(durations)[len(durations) // 2] < 120
    assert max(durations) > 600

    volumes = sorted(int(r[5]) for r in cdrs if r[2] == "data")
    assert volumes[len(volumes) // 2] < sum(volumes) / len(volumes)  # skewed
    assert volumes[0] < 100_000 and volumes[-1] > 100_000_000

    called = [r[6] for r in cdrs if r[6]]
    kinds = Counter(
        "mobile"
        if c.startswith("+467")
        else "fixed"
        if c.startswith(("+468", "+4631", "+4640", "+461", "+469"))
        else "service"
        if c.startswith(("+46771", "+46200"))
        else "premium"
        if c.startswith(("+46900", "+46939"))
        else "intl"
        if not c.startswith("+46")
        else "other"
        for c in called
    )
    assert kinds["mobile"] > kinds["fixed"] > kinds["service"] > 0
    assert kinds["intl"] > 0

    # overage: some bas/5gb subscriber-months exceed their allowance
    plan = {r["msisdn"]: r["plan"] for r in customers if r["msisdn"]}
    data_total: Counter[tuple[str, str]] = Counter()
    for r in cdrs:
        if r[2] == "data":
            data_total[(r[1], r[3][:7])] += int(r[5])
    allowance = {"mobil-bas": 1_000_000_000, "mobil-5gb": 5_000_000_000}
    over = [k for k, v in data_total.items() if v > allowance.get(plan[k[0]], 10**18)]
    assert over


def test_roaming_trips(customers: list[dict[str, str]], cdrs: list[tuple[str, ...]]) -> None:
    abroad = [r for r in cdrs if r[7]]
    travellers = {r[1] for r in abroad}
    subscribers = {r[1] for r in cdrs}
    assert 0.04 < len(travellers) / len(subscribers) < 0.18
    for msisdn in travellers:
        trip = [r for r in abroad if r[1] == msisdn]
        assert len({r[7] for r in trip}) == 1
        days = {r[3][:10] for r in trip}
        assert len({d[:7] for d in days}) == 1
        span = max(date.fromisoformat(d) for d in days) - min(date.fromisoformat(d) for d in days)
        assert span.days <= 9
        assert {r[2] for r in trip} & {"data", "voice", "sms"}


# --------------------------------------------------------------------------------------
# CSV writers
# --------------------------------------------------------------------------------------


def test_write_cdr_csv_roundtrip(customers: list[dict[str, str]], tmp_path: Path) -> None:
    rows = list(dd.generate_cdrs(customers[:30], months=1, today=AUTUMN))
    buf = io.StringIO()
    assert dd.write_cdr_csv(buf, iter(rows)) == len(rows)
    parsed = list(csv.reader(io.StringIO(buf.getvalue())))
    assert tuple(parsed[0]) == dd.CDR_COLUMNS
    assert [tuple(p) for p in parsed[1:]] == rows

    path = tmp_path / "cdrs.csv"
    assert dd.write_cdr_csv(path, rows) == len(rows)
    assert dd.write_cdr_csv(str(path), []) == 0
    assert path.read_text(encoding="utf-8") == ",".join(dd.CDR_COLUMNS) + "\n"


def test_write_customers_csv_roundtrip(customers: list[dict[str, str]], tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    assert dd.write_customers_csv(path, customers) == len(customers)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == dd.CUSTOMER_COLUMNS
        assert list(reader) == customers
