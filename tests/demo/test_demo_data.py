"""Tests for the deterministic demo-operator generator (backend_stub.demo.demo_data)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend_stub.demo import demo_data as dd

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


# --------------------------------------------------------------------------------------
# The demo lives its year (backend_stub.demo.demo_year through ``seed``): a small seed, every state
# --------------------------------------------------------------------------------------

# 24 customers over July-October 2026, the year ending on Friday 6 November 2026 at 15:00: the
# October invoices (1 November) are not due, September's fell due on 31 October, August's are
# being reminded and July's are old enough for collection.
YEAR_END = datetime(2026, 11, 6, 15, 0, tzinfo=STOCKHOLM)
# Written onto an invoice by its bill run with the business time of what they report (a charge added,
# an add-on bought in the period): recorded after things that happened later, placed by their time.
CARRIED_KINDS = {"charge_added", "addon_purchased", "instalment_payoff"}


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory):
    from unittest import mock

    from backend_stub import clock, settings
    from backend_stub.core import Core
    from backend_stub.demo.seed import seed

    tmp = tmp_path_factory.mktemp("year")
    core = Core.from_url(f"sqlite:///{tmp / 'demo.db'}")
    env = {
        "SELFCARE_PRINT_DIR": str(tmp / "print"),
        "SELFCARE_COLLECTION_DIR": str(tmp / "collection"),
        "SELFCARE_JWT_SECRET": "demo-year-test-secret-0123456789abcdef",
    }
    with mock.patch.dict("os.environ", env), clock.use(clock.FrozenClock(YEAR_END)):
        settings.reset()  # the settings are read again, from this environment
        try:
            result = seed(core, 24, 4, quiet=True, live=True)
        finally:
            settings.reset()
    yield core, result
    core.engine.dispose()


def _all_invoices(core) -> list[dict]:
    from backend_stub.services.billing import invoices

    return invoices.list_invoices(core.engine, limit=10_000, today=YEAR_END.date())["items"]


def test_the_year_ends_at_the_clocks_today_and_every_state_is_there(year) -> None:
    from backend_stub.services.billing import invoices
    from backend_stub.services.lifecycle import payments

    core, result = year
    items = _all_invoices(core)
    regular = [i for i in items if i["kind"] == "invoice"]
    # the months are the four before the clock's month, each billed on the 1st of the next
    assert sorted({i["period"] for i in regular}) == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert max(i["invoice_date"] for i in regular) == "2026-11-01"
    statuses = Counter(i["status"] for i in regular)
    for state in ("unpaid", "partly_paid", "paid", "overdue", "reminded", "in_collection", "credited"):
        assert statuses[state] >= 1, (state, statuses)
    assert result["states"] == {s: n for s, n in result["states"].items() if n}  # only states that occur
    # unpaid ones are all from the latest period and not yet due
    assert all(i["period"] == "2026-10" and i["due_date"] >= "2026-11-06" for i in regular if i["status"] == "unpaid")
    # paid automatically: by card and by autogiro, each through its own draw
    methods = Counter()
    for inv in regular:
        if inv["status"] == "paid":
            doc = invoices.get_invoice(core.engine, inv["id"], today=YEAR_END.date())
            methods.update(p["method"] for p in doc["payments"])
            if doc["autopay"]:
                assert doc["autopay"]["status"] == "paid" and doc["autopay"]["method"] in {"card", "autogiro"}
    assert methods["card"] >= 1 and methods["autogiro"] >= 1 and methods["bankgiro"] > methods["card"]
    # a reminder with a fee, credit notes, the unmatched queue and an answered thread
    reminded = [
        invoices.get_invoice(core.engine, i["id"], today=YEAR_END.date())
        for i in regular
        if i["status"] in ("reminded", "in_collection")
    ]
    assert any(e["kind"] == "reminder_sent" and e["data"]["fee_ore"] > 0 for d in reminded for e in d["timeline"])
    assert any(i["kind"] == "credit_note" for i in items)
    assert 1 <= payments.list_unmatched(core.engine)["total"] <= 2
    kinds = {e["kind"] for i in regular for e in invoices.get_invoice(core.engine, i["id"])["timeline"]}
    assert {
        "sent",
        "opened",
        "payment_received",
        "overdue",
        "reminder_sent",
        "collection",
        "message",
        "reply",
        "autopay_ordered",
    } <= kinds


def test_timelines_are_in_business_time_order_and_end_with_the_year(year) -> None:
    from sqlalchemy import select

    from backend_stub.storage.models import billing as m

    core, _result = year
    with core.engine.connect() as conn:
        invoices = {r.id: r for r in conn.execute(select(m.Invoice))}
        events = list(conn.execute(select(m.InvoiceEvent).order_by(m.InvoiceEvent.id)))
    by_invoice: dict[str, list] = defaultdict(list)
    for e in events:
        if e.kind not in CARRIED_KINDS:
            by_invoice[e.invoice_id].append(e)
    assert len(by_invoice) > 60
    for inv_id, timeline in by_invoice.items():
        inv = invoices[inv_id]
        ats = [(e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)) for e in timeline]
        # recorded in the order it happened, nothing after the end of the year, nothing before the invoice
        assert ats == sorted(ats), [(e.kind, e.at) for e in timeline]
        assert ats[-1] <= YEAR_END
        kinds = [e.kind for e in timeline]
        if "opened" in kinds:
            assert "sent" in kinds[: kinds.index("opened")]
        for e, at in zip(timeline, ats, strict=True):
            if inv.kind == "invoice" and e.kind in ("sent", "opened", "payment_received", "message"):
                assert at.astimezone(STOCKHOLM).date() >= inv.invoice_date, (e.kind, at)
            if e.kind == "overdue":
                assert at.date() > inv.due_date
            if e.kind == "collection":
                assert "reminder_sent" in kinds[: kinds.index("collection")]


def test_every_invoice_adds_up_paid_plus_open_plus_credited_is_the_total(year) -> None:
    from sqlalchemy import func, select

    from backend_stub.storage.models import billing as m
    from backend_stub.storage.models.lifecycle import BankPayment, InvoiceCharge

    core, _result = year
    with core.engine.connect() as conn:
        paid = dict(
            conn.execute(
                select(m.Payment.invoice_id, func.sum(m.Payment.amount_ore)).group_by(m.Payment.invoice_id)
            ).all()
        )
        charged = dict(
            conn.execute(
                select(InvoiceCharge.invoice_id, func.sum(InvoiceCharge.amount_ore)).group_by(InvoiceCharge.invoice_id)
            ).all()
        )
        credited = dict(
            conn.execute(
                select(m.Invoice.credits_invoice_id, func.sum(m.Invoice.amount_due_ore))
                .where(m.Invoice.credits_invoice_id.is_not(None))
                .group_by(m.Invoice.credits_invoice_id)
            ).all()
        )
        bank_in = conn.execute(select(func.sum(BankPayment.amount_minor))).scalar_one()
        bank_booked = conn.execute(
            select(func.sum(m.Payment.amount_ore)).where(m.Payment.method == "bankgiro")
        ).scalar_one()
    items = [i for i in _all_invoices(core) if i["kind"] == "invoice"]
    for inv in items:
        total = inv["amount_due_ore"] + int(charged.get(inv["id"]) or 0)
        p, c = int(paid.get(inv["id"]) or 0), -int(credited.get(inv["id"]) or 0)
        assert (inv["paid_ore"], inv["credited_ore"]) == (p, c), inv["number"]
        assert p + inv["balance_ore"] + c == total, inv["number"]
        if inv["status"] in ("paid", "credited"):
            assert inv["balance_ore"] <= 0, inv
        elif inv["status"] == "unpaid":
            assert p == 0 and c == 0 and inv["balance_ore"] == total, inv
        else:
            assert inv["balance_ore"] > 0, inv
    # every krona in the bank's files is booked: on an invoice or in the unmatched queue
    assert bank_in == bank_booked > 0


def test_an_invoice_link_opens_in_business_time_and_expires_then(year) -> None:
    """The demo opens January's links in its simulated January: expiry is judged at ``now``, not the wall clock."""
    from sqlalchemy import select

    from backend_stub.services.lifecycle import links
    from backend_stub.storage.models import billing as m

    core, _result = year
    secret, issuer = "a-test-secret-for-links-0123456789abcdef", "selfcare"
    with core.engine.connect() as conn:
        inv_id = conn.execute(select(m.Invoice.id).where(m.Invoice.kind == "invoice")).scalars().first()
    made = datetime(2020, 1, 10, 9, tzinfo=UTC)
    link = links.create_link(core.engine, secret, issuer, inv_id, now=made)
    assert links.open_link(core.engine, secret, issuer, link.token, now=made + timedelta(days=3)).invoice_id == inv_id
    with pytest.raises(links.LinkRefused):
        links.open_link(core.engine, secret, issuer, link.token, now=link.expires_at)
