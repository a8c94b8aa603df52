"""Segment rules of offers on a small real operator (SQLite and PostgreSQL), customers that match and that do not.

The operator (``build_operator``), on the demo catalogue (nordvik.toml), invoiced for
August, September and October 2026, looked at on 21 November 2026:

========  ===============  ======================  ===========================================
customer  plan             since                   usage (data per month Aug / Sep / Oct), standing
========  ===============  ======================  ===========================================
K1        mobil-5gb        2024-01-01 (34 months)  4.6 / 6.0 / 1.0 GB (Sep: 1 GB over = 29,00 kr)
K2        mobil-5gb        2026-06-01 (5 months)   1.0 / 1.0 / 1.0 GB, 100 MB in France in Sep
K3        mobil-bas        2025-01-01              5.0 / 5.0 / 5.0 GB; the August invoice unpaid
K4        bredband-100     2025-01-01              none
K5        mobil-5gb        2025-01-01              1.0 / 1.0 / 1.0 GB; the August invoice in collection
========  ===============  ======================  ===========================================

Allowances: mobil-5gb 5 GB, mobil-bas 1 GB; data beyond them costs 29,00 kr per GB.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from backend_stub.services.billing import billrun
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.lifecycle import ledger
from backend_stub.services.offers import recommend, targeting
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import OfferUsageStats

TODAY = date(2026, 11, 21)
GB = 1_000_000_000
MB = 1_000_000
MSISDN = {"K1": "+46701000001", "K2": "+46701000002", "K3": "+46701000003", "K5": "+46701000005"}
CUSTOMERS = [
    ("K1", "S1", "Anna Heavy", MSISDN["K1"], "mobil-5gb", "2024-01-01"),
    ("K2", "S2", "Bo Light", MSISDN["K2"], "mobil-5gb", "2026-06-01"),
    ("K3", "S3", "Cia Basic", MSISDN["K3"], "mobil-bas", "2025-01-01"),
    ("K4", "S4", "Dan Broadband", "", "bredband-100", "2025-01-01"),
    ("K5", "S5", "Eva Collected", MSISDN["K5"], "mobil-5gb", "2025-01-01"),
]
DATA_GB = {"K1": (4.6, 6.0, 1.0), "K2": (1.0, 1.0, 1.0), "K3": (5.0, 5.0, 5.0), "K5": (1.0, 1.0, 1.0)}
MONTHS = ("2026-08", "2026-09", "2026-10")


def customer_rows() -> list[tuple[int, dict[str, str]]]:
    rows = []
    for i, (number, sub, name, msisdn, plan, start) in enumerate(CUSTOMERS, start=2):
        rows.append(
            (
                i,
                {
                    "customer_number": number,
                    "subscription_id": sub,
                    "name": name,
                    "email": f"{number.lower()}@example.se",
                    "phone": msisdn or "+46709999999",
                    "street": "Storgatan 1",
                    "postal_code": "111 22",
                    "city": "Stockholm",
                    "channel": "email",
                    "msisdn": msisdn,
                    "plan": plan,
                    "start_date": start,
                    "end_date": "",
                    "reminder_fee_agreed": "true",
                    "discount": "",
                    "discount_start": "",
                    "cycle_day": "1",
                },
            )
        )
    return rows


def usage_rows() -> list[tuple[int, dict[str, str]]]:
    rows = []
    for number, per_month in DATA_GB.items():
        for month, gb in zip(MONTHS, per_month, strict=True):
            # in sessions of 0.5 GB (the last one smaller), on the 3rd, 4th, … at noon
            left = round(gb * GB)
            day = 3
            while left > 0:
                volume = min(left, GB // 2)
                rows.append(
                    {
                        "record_id": f"{number}-{month}-{day}",
                        "msisdn": MSISDN[number],
                        "service": "data",
                        "started_at": f"{month}-{day:02d}T12:00:00+02:00",
                        "volume_bytes": str(volume),
                    }
                )
                left -= volume
                day += 1
    rows.append(
        {
            "record_id": "K2-roam",
            "msisdn": MSISDN["K2"],
            "service": "data",
            "started_at": "2026-09-20T12:00:00+02:00",
            "volume_bytes": str(100 * MB),
            "visited_country": "FR",
        }
    )
    return list(enumerate(rows, start=2))


def build_operator(core) -> dict[str, int]:
    """The operator above; returns customer ids by number."""
    result = import_customers(core.engine, core.catalogue, customer_rows())
    assert result.errors == [], result.errors
    imported = UsageImporter(core.engine, core.catalogue).import_rows(usage_rows(), "targeting-test")
    assert imported.rejected == 0, imported.errors
    for month in MONTHS:
        billrun.run_bill_run(core.engine, core.catalogue, month)
    with core.engine.begin() as conn:
        ids = {r.customer_number: r.id for r in conn.execute(select(m.Customer.id, m.Customer.customer_number))}
        invoices = list(conn.execute(select(m.Invoice).where(m.Invoice.kind == "invoice")))
        for inv in invoices:
            unpaid = inv.customer_id in (ids["K3"], ids["K5"]) and inv.period_start == date(2026, 8, 1)
            if not unpaid:
                ledger.record_payment(
                    conn,
                    invoice_id=inv.id,
                    reference=f"pay-{inv.number}",
                    method="bankgiro",
                    amount_ore=inv.amount_due_ore,
                    customer_id=inv.customer_id,
                    received_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            elif inv.customer_id == ids["K5"]:
                ledger.add_event(conn, inv.id, "collection", "Lämnad till inkasso.", data={"balance_ore": 1})
    return ids


def matching(core, rules: dict, sells: tuple[str, str] | None = None) -> set[str]:
    cat = core.catalogue  # (read before the transaction: SQLite has one writer)
    parsed = targeting.parse_rules(rules, cat)
    sell = targeting.Sells(*sells) if sells else None
    with core.engine.begin() as conn:
        facts = targeting.load_facts(conn, cat, range(1, 100), TODAY, periods_needed=parsed.periods_needed())
        return {
            f.customer_number
            for f in facts.values()
            if targeting.match(cat, parsed, sell, f, TODAY, targeting.recommend_fn_for(conn, cat, f, TODAY)).matches
        }


def test_each_rule_picks_the_customers_it_describes(core):
    build_operator(core)
    # No rules: everyone but the overdue K3 and K5 (exclude_overdue, exclude_collection default to true).
    assert matching(core, {}) == {"K1", "K2", "K4"}
    assert matching(core, {"exclude_overdue": False}) == {"K1", "K2", "K3", "K4"}
    assert matching(core, {"exclude_overdue": False, "exclude_collection": False}) == {"K1", "K2", "K3", "K4", "K5"}
    # plans
    assert matching(core, {"plans": ["mobil-bas"]}) == set()  # K3 is overdue
    assert matching(core, {"plans": ["mobil-bas"], "exclude_overdue": False}) == {"K3"}
    assert matching(core, {"plans": ["mobil-5gb", "bredband-100"]}) == {"K1", "K2", "K4"}
    # data usage: K1 used 92 % (4.6/5) in Aug and 120 % in Sep, 20 % in Oct; K2 20 % every month
    assert matching(core, {"data_usage": {"min_percent": 90, "periods": 2, "of_last": 3}}) == {"K1"}
    assert matching(core, {"data_usage": {"min_percent": 90, "periods": 3, "of_last": 3}}) == set()
    assert matching(core, {"data_usage": {"min_percent": 93, "periods": 2, "of_last": 3}}) == set()  # 92 % < 93 %
    assert matching(core, {"data_usage": {"min_percent": 90, "periods": 1, "of_last": 1}}) == set()  # Oct only
    assert matching(core, {"data_usage": {"min_percent": 90, "periods": 1, "of_last": 2}}) == {"K1"}  # Sep, Oct
    # K3's 5 GB of a 1 GB allowance is 500 %: it counts once overdue customers are let in
    assert matching(
        core, {"data_usage": {"min_percent": 100, "periods": 3, "of_last": 3}, "exclude_overdue": False}
    ) == {"K3"}
    # overage: K1 paid 1 GB × 29,00 kr = 2 900 öre in Sep; K3 4 GB × 29 kr = 116 kr each month
    assert matching(core, {"overage": {"min_ore": 2900, "periods": 1, "of_last": 3}}) == {"K1"}
    assert matching(core, {"overage": {"min_ore": 2901, "periods": 1, "of_last": 3}}) == set()
    assert matching(core, {"overage": {"min_ore": 11600, "periods": 3, "of_last": 3}, "exclude_overdue": False}) == {
        "K3"
    }
    # roaming: K2's 100 MB in France in September
    assert matching(core, {"roaming": {"periods": 1, "of_last": 3}}) == {"K2"}
    assert matching(core, {"roaming": {"periods": 1, "of_last": 1}}) == set()
    # tenure: K1 since 2024-01-01 = 34 months; K2 since 2026-06-01 = 5 months (on 21 November)
    assert matching(core, {"tenure_months": {"min": 6}}) == {"K1", "K4"}
    assert matching(core, {"tenure_months": {"max": 5}}) == {"K2"}
    assert matching(core, {"tenure_months": {"min": 34, "max": 34}}) == {"K1"}


def test_what_is_sold_limits_who_it_applies_to(core):
    build_operator(core)
    assert matching(core, {}, ("plan", "bredband-250")) == {"K4"}  # only a broadband line can take it
    assert matching(core, {}, ("plan", "mobil-5gb")) == set()  # K1, K2 have it already; K3 overdue
    assert matching(core, {"exclude_overdue": False}, ("plan", "mobil-5gb")) == {"K3"}
    assert matching(core, {}, ("plan", "mobil-20gb")) == {"K1", "K2"}
    assert matching(core, {}, ("addon", "extra-5gb")) == {"K1", "K2"}  # mobile plans that take the add-on


def test_recommended_rule_uses_the_re_rated_periods(core):
    build_operator(core)
    # K3 on mobil-bas used 5 GB a month: 99 + 4 × 29 = 215,00 kr; mobil-5gb would have been 199,00 kr.
    assert matching(core, {"recommended": True, "exclude_overdue": False}, ("plan", "mobil-5gb")) == {"K3"}
    # K1 (mobil-5gb): Aug 199, Sep 199 + 29 = 228, Oct 199 = 626,00 kr. mobil-bas: Aug 99 + 3.6 × 29 = 203,40,
    # Sep 99 + 5 × 29 = 244,00, Oct 99 = 99,00: 546,40 kr, cheaper. mobil-20gb: 897,00 kr, not.
    assert matching(core, {"recommended": True}, ("plan", "mobil-bas")) == {"K1", "K2"}
    assert matching(core, {"recommended": True}, ("plan", "mobil-20gb")) == set()
    cat = core.catalogue
    with core.engine.begin() as conn:
        facts = targeting.load_facts(conn, cat, [1], TODAY)
        sub = facts[1].subscriptions[0]
        rec = recommend.recommendation(conn, cat, sub, TODAY)
    totals = {p["plan_id"]: p["total_ore"] for p in rec["plans"]}
    assert totals == {"mobil-bas": 54640, "mobil-5gb": 62600, "mobil-20gb": 89700, "mobil-obegransad": 134700}
    assert rec["best_plan_id"] == "mobil-bas"


def test_reasons_say_what_held_and_what_did_not(core):
    ids = build_operator(core)
    rules = targeting.parse_rules(
        {
            "plans": ["mobil-5gb"],
            "data_usage": {"min_percent": 90, "periods": 2, "of_last": 3},
            "tenure_months": {"min": 6},
        },
        core.catalogue,
    )
    cat = core.catalogue
    with core.engine.begin() as conn:
        facts = targeting.load_facts(conn, cat, [ids["K1"], ids["K2"]], TODAY)
    k1 = targeting.match(core.catalogue, rules, targeting.Sells("plan", "mobil-20gb"), facts[ids["K1"]], TODAY)
    assert k1.matches and k1.subscription is not None
    assert "tenure 34 months (wanted 6–any)" in k1.reasons
    assert f"{MSISDN['K1']}: data ≥ 90 % in 2 of 3 periods" in k1.reasons
    k2 = targeting.match(core.catalogue, rules, targeting.Sells("plan", "mobil-20gb"), facts[ids["K2"]], TODAY)
    assert not k2.matches
    assert "not met: tenure 5 months (wanted 6–any)" in k2.reasons
    assert f"{MSISDN['K2']}: not met: data ≥ 90 % in 0 of 3 periods (needs 2)" in k2.reasons
    # The same reasons in Swedish, for the console in Swedish.
    k2_sv = targeting.match(
        core.catalogue, rules, targeting.Sells("plan", "mobil-20gb"), facts[ids["K2"]], TODAY, lang="sv"
    )
    assert "uppfylls inte: kundtid 5 månader (önskas 6–obegränsat)" in k2_sv.reasons
    assert f"{MSISDN['K2']}: uppfylls inte: data ≥ 90 % i 0 av 3 perioder (kräver 2)" in k2_sv.reasons
    nobody = targeting.match(
        core.catalogue, rules, targeting.Sells("plan", "mobil-5gb"), facts[ids["K1"]], TODAY, lang="sv"
    )
    assert nobody.reasons[-1] == "uppfylls inte: inget abonnemang som abonnemanget mobil-5gb gäller för"


def test_every_reason_has_both_languages():
    assert set(targeting.REASONS["sv"]) == set(targeting.REASONS["en"])


def test_period_stats_are_cached_and_a_late_event_makes_them_stale(core):
    ids = build_operator(core)
    rules = {"data_usage": {"min_percent": 90, "periods": 2, "of_last": 3}}
    assert matching(core, rules) == {"K1"}
    with core.engine.connect() as conn:
        cached = {(r.subscription_id, r.period_start): r.data_bytes for r in conn.execute(select(OfferUsageStats))}
    k2_sub = 2
    assert cached[(k2_sub, date(2026, 10, 1))] == 1 * GB
    # A late event for K2 in October (already invoiced): 3.6 GB more makes it 4.6 GB = 92 %; with
    # September's 1 GB that is still one heavy period, so add one for September too.
    late = [
        (
            1,
            {
                "record_id": "K2-late-oct",
                "msisdn": MSISDN["K2"],
                "service": "data",
                "started_at": "2026-10-28T12:00:00+01:00",
                "volume_bytes": str(3_600_000_000),
            },
        ),
        (
            2,
            {
                "record_id": "K2-late-sep",
                "msisdn": MSISDN["K2"],
                "service": "data",
                "started_at": "2026-09-28T12:00:00+02:00",
                "volume_bytes": str(3_600_000_000),
            },
        ),
    ]
    assert UsageImporter(core.engine, core.catalogue).import_rows(late, "late").rated == 2
    assert matching(core, rules) == {"K1", "K2"}
    with core.engine.connect() as conn:
        row = conn.execute(
            select(OfferUsageStats).where(
                OfferUsageStats.subscription_id == k2_sub, OfferUsageStats.period_start == date(2026, 10, 1)
            )
        ).one()
    assert row.data_bytes == 4_600_000_000
    assert ids["K2"] == row.customer_id


def test_segment_preview_counts_customers_with_an_active_subscription(core):
    build_operator(core)
    cat = core.catalogue
    with core.engine.begin() as conn:
        out = targeting.preview(conn, cat, targeting.parse_rules({}, cat), None, TODAY)
    assert out["total"] == 5 and out["matching"] == 3
    assert [s["customer_number"] for s in out["sample"]] == ["K1", "K2", "K4"]
    assert out["sample"][0]["name"] == "Anna Heavy"


def test_rules_are_validated_naming_the_field(core):
    cat = core.catalogue
    bad = [
        ({"plans": ["mobil-999"]}, ("rules", "plans", 0), "unknown plan 'mobil-999'"),
        ({"data_usage": {"min_percent": 90, "periods": 0, "of_last": 3}}, ("rules", "data_usage", "periods"), ""),
        ({"data_usage": {"min_percent": 90, "periods": 4, "of_last": 3}}, ("rules", "data_usage"), "must not exceed"),
        ({"tenure_months": {"min": 7, "max": 6}}, ("rules", "tenure_months"), "above max"),
        ({"overage": {"min_ore": -1}}, ("rules", "overage", "min_ore"), ""),
        ({"shoe_size": 42}, ("rules", "shoe_size"), "unknown field"),
    ]
    for raw, loc, text in bad:
        try:
            targeting.parse_rules(raw, cat)
        except targeting.RuleError as exc:
            assert any(tuple(e[0]) == loc and text in e[1] for e in exc.errors), (raw, exc.errors)
        else:
            raise AssertionError(f"{raw} was accepted")
