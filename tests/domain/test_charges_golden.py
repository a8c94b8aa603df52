"""Golden invoices with a phone on instalment, one-off charges and credits, an add-on bought mid-period.

Worked out by hand from the rule book, on tests/fixtures/golden.toml plus one device and one
add-on (below). Amounts are öre incl. 25 % VAT: 33_292 is 332,92 kr. VAT per rate is
``round_half_up(gross × 0.25 / 1.25)`` = gross × 0.2; öresavrundning to whole kronor, half up.

Plan Liten 3 GB: 100,00 kr a month, 3 GB data; data 10,00 kr/GB = 1 öre per MB (whole MB).
Instalment rule: monthly = cash price / months rounded half up to öre; the last month takes
the rest, so the months add up to the cash price exactly (docs/charges.md).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

import pytest

from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import CatalogueError, instalment_amounts, parse_catalogue_text
from backend_stub.domain.periods import PlanSegment, Subscription, period_for
from backend_stub.domain.rating import MB, Rejection, UsageEvent, rate_period
from tests.conftest import FIXTURES
from tests.domain.invoice_text import aggregate

GOLDEN_TEXT = (FIXTURES / "golden.toml").read_text(encoding="utf-8")
EXTRA = """
[[addons]]
id = "extra-2gb"
name = "Extra 2 GB"
price = "30.00"
allowances = { data = "2 GB" }
plans = ["liten"]

[[devices]]
id = "telefon"
name = "Testtelefon"
cash_price = "7990.00"
months = [24, 36]
"""
CAT = parse_catalogue_text(GOLDEN_TEXT + EXTRA)
VAT25 = Decimal("0.25")
MSISDN = "+46701234567"
LITEN = Subscription(1, "S-1", 1, MSISDN, (PlanSegment("liten", date(2026, 1, 1)),))
PHONE = invoicing.InstalmentPlan(
    id=7,
    device_name="Testtelefon",
    months=24,
    total_ore=799_000,
    monthly_ore=33_292,
    vat_rate=VAT25,
    start_period="2026-10",
    subscription_id=1,
)
NBSP = "\u00a0"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def data(record_id: str, started: str, megabytes: int) -> UsageEvent:
    return UsageEvent(record_id, MSISDN, "data", ts(started), 0, megabytes * MB, "", "")


def check_totals(draft, *, gross: int, vat: int, rounding: int, due: int) -> None:
    assert sum(ln.amount_ore for ln in draft.lines) == draft.gross_ore == gross
    assert (draft.vat_ore, draft.net_ore, draft.rounding_ore, draft.amount_due_ore) == (vat, gross - vat, rounding, due)


def bill(label: str, plan: invoicing.InstalmentPlan, sub: Subscription = LITEN, **kwargs) -> invoicing.InvoiceDraft:
    period = period_for(label)
    charges = invoicing.instalment_charges(plan, label)
    return invoicing.build_invoice(CAT, 1, [sub], period, [], instalments=[(plan, charges)], **kwargs)


def after(plan: invoicing.InstalmentPlan, label: str) -> invoicing.InstalmentPlan:
    """The plan as the bill run leaves it after invoicing ``label`` (months billed, paid so far)."""
    charges = invoicing.instalment_charges(plan, label)
    if not charges:
        return plan
    return dataclasses.replace(plan, months_billed=charges[-1].last_month, paid_ore=charges[-1].paid_after_ore)


# --------------------------------------------------------------------------- instalments


def test_the_instalment_rule_7990_kr_over_24_months():
    # 799 000 / 24 = 33 291,67 → 33 292 (half up); the last month: 799 000 − 23 × 33 292 = 33 284.
    assert instalment_amounts(799_000, 24) == (33_292, 33_284)
    # 799 000 / 36 = 22 194,44 → 22 194; last: 799 000 − 35 × 22 194 = 22 210.
    assert instalment_amounts(799_000, 36) == (22_194, 22_210)
    # Every term sums to the cash price exactly, whatever the remainder.
    for total in (799_000, 1_299_000, 249_000, 100_001, 35):
        for months in (1, 12, 24, 36):
            if total > months * (months - 1) // 2:
                monthly, last = instalment_amounts(total, months)
                assert monthly * (months - 1) + last == total and last > 0


def test_first_month_on_the_invoice_with_paid_and_left():
    draft = bill("2026-10", PHONE)
    # Liten 100,00 + month 1 of 24: 332,92 → paid 332,92, left 7 990,00 − 332,92 = 7 657,08.
    assert [(ln.description, ln.amount_ore, ln.kind) for ln in draft.lines] == [
        ("Liten 3 GB, 1 okt–31 okt", 10_000, "fee"),
        (
            f"Delbetalning Testtelefon, månad 1 av 24 (betalt 332,92{NBSP}kr, kvar 7{NBSP}657,08{NBSP}kr)",
            33_292,
            "instalment",
        ),
    ]
    line = draft.lines[1]
    assert (line.quantity, line.unit, line.unit_price, line.vat_rate, line.msisdn) == (
        1,
        "mån",
        Decimal("332.92"),
        VAT25,
        MSISDN,
    )
    # Gross 432,92; VAT 432,92 × 0.2 = 86,584 → 86,58; net 346,34; rounded to 433,00 (+0,08).
    check_totals(draft, gross=43_292, vat=8_658, rounding=8, due=43_300)


def test_nothing_before_the_start_and_24_months_sum_to_the_cash_price():
    assert invoicing.instalment_charges(PHONE, "2026-09") == []
    plan, billed = PHONE, []
    for i in range(26):  # Oct 2026 .. Nov 2028: 24 months, then nothing more
        y, m = divmod(2026 * 12 + 9 + i, 12)
        label = f"{y}-{m + 1:02d}"
        billed += [c.amount_ore for c in invoicing.instalment_charges(plan, label)]
        plan = after(plan, label)
    assert billed == [33_292] * 23 + [33_284] and sum(billed) == 799_000
    assert (plan.months_billed, plan.paid_ore) == (24, 799_000)


def test_last_month_absorbs_the_rounding():
    plan = dataclasses.replace(PHONE, months_billed=23, paid_ore=23 * 33_292)
    draft = bill("2028-09", plan)
    # Month 24 (Sep 2028): 799 000 − 765 716 = 33 284 → paid 7 990,00, left 0,00.
    assert draft.lines[1].description == (
        f"Delbetalning Testtelefon, månad 24 av 24 (betalt 7{NBSP}990,00{NBSP}kr, kvar 0,00{NBSP}kr)"
    )
    assert draft.lines[1].amount_ore == 33_284
    # 100,00 + 332,84 = 432,84; VAT 86,568 → 86,57; rounding 432,84 → 433,00 (+0,16).
    check_totals(draft, gross=43_284, vat=8_657, rounding=16, due=43_300)


def test_a_missed_month_is_caught_up_one_line_each():
    plan = dataclasses.replace(PHONE, months_billed=1, paid_ore=33_292)
    charges = invoicing.instalment_charges(plan, "2026-12")  # November was never invoiced
    assert [(c.first_month, c.amount_ore, c.left_after_ore) for c in charges] == [
        (2, 33_292, 732_416),
        (3, 33_292, 699_124),
    ]  # 799 000 − 2 × 33 292, − 3 × 33 292


def test_early_payoff_is_one_final_line_for_the_remainder():
    # Eight months invoiced (Oct 2026 – May 2027): 8 × 332,92 = 2 663,36 paid; the agent pays off in June.
    plan = dataclasses.replace(PHONE, months_billed=8, paid_ore=8 * 33_292, payoff=True)
    draft = bill("2027-06", plan)
    # Remainder 7 990,00 − 2 663,36 = 5 326,64 on one line for months 9–24.
    assert [(ln.description, ln.amount_ore) for ln in draft.lines] == [
        ("Liten 3 GB, 1 jun–30 jun", 10_000),
        (f"Slutbetalning Testtelefon, månad 9–24 av 24 (betalt 7{NBSP}990,00{NBSP}kr, kvar 0,00{NBSP}kr)", 532_664),
    ]
    assert (draft.lines[1].quantity, draft.lines[1].unit_price) == (16, None)
    # 100,00 + 5 326,64 = 5 426,64; VAT 1 085,328 → 1 085,33; net 4 341,31; → 5 427,00 (+0,36).
    check_totals(draft, gross=542_664, vat=108_533, rounding=36, due=542_700)
    done = after(plan, "2027-06")
    assert (done.months_billed, done.paid_ore) == (24, 799_000)
    assert invoicing.instalment_charges(dataclasses.replace(done, payoff=True), "2027-07") == []


def test_subscription_ended_early_keeps_the_instalment_coming():
    # The subscription ends 15 Nov 2026; the phone is not paid. December: no fee, month 3 still billed.
    ended = Subscription(1, "S-1", 1, MSISDN, (PlanSegment("liten", date(2026, 1, 1), date(2026, 11, 15)),))
    plan = dataclasses.replace(PHONE, months_billed=2, paid_ore=2 * 33_292)
    draft = bill("2026-12", plan, ended)
    assert [(ln.kind, ln.amount_ore, ln.msisdn) for ln in draft.lines] == [("instalment", 33_292, MSISDN)]
    check_totals(draft, gross=33_292, vat=6_658, rounding=8, due=33_300)  # VAT 66,584 → 66,58


def test_invoice_discounts_do_not_reduce_the_phone():
    grant = invoicing.DiscountGrant("rabatt-25", "2026-10")  # 25 kr off the invoice
    draft = bill("2026-10", PHONE, grants=[grant])
    # The 25 kr comes off the fee (the only discountable line): 100,00 − 25,00 + 332,92 = 407,92.
    assert [(ln.kind, ln.amount_ore) for ln in draft.lines] == [
        ("fee", 10_000),
        ("discount", -2_500),
        ("instalment", 33_292),
    ]
    check_totals(draft, gross=40_792, vat=8_158, rounding=8, due=40_800)  # VAT 81,584 → 81,58


# --------------------------------------------------------------------------- one-off charges and credits


def test_one_off_charge_and_credit_are_lines_of_their_own():
    sim = invoicing.OneOffCharge("Byte av SIM-kort", 9_900, VAT25, 1)
    credit = invoicing.OneOffCharge("Kompensation för avbrott", -5_000, VAT25)
    draft = invoicing.build_invoice(CAT, 1, [LITEN], period_for("2026-10"), [], one_offs=[sim, credit])
    assert [(ln.description, ln.amount_ore, ln.kind, ln.msisdn) for ln in draft.lines] == [
        ("Liten 3 GB, 1 okt–31 okt", 10_000, "fee", MSISDN),
        ("Byte av SIM-kort", 9_900, "one_off", MSISDN),
        ("Kompensation för avbrott", -5_000, "one_off", None),
    ]
    # 100,00 + 99,00 − 50,00 = 149,00; VAT 29,80; net 119,20; whole kronor already.
    check_totals(draft, gross=14_900, vat=2_980, rounding=0, due=14_900)


def test_a_credit_larger_than_the_invoice_asks_for_nothing():
    credit = invoicing.OneOffCharge("Återbetalning", -15_000, VAT25)
    draft = invoicing.build_invoice(CAT, 1, [LITEN], period_for("2026-10"), [], one_offs=[credit])
    # 100,00 − 150,00 = −50,00: no öresavrundning on a negative total; it becomes credit balance.
    check_totals(draft, gross=-5_000, vat=-1_000, rounding=0, due=-5_000)


# --------------------------------------------------------------------------- an add-on bought mid-period

PURCHASE = ts("2026-10-15T12:00:00+02:00")
OCTOBER = [
    data("d1", "2026-10-01T09:00:00+02:00", 3_500),  # 3 000 MB from the plan, 500 MB overage
    data("d2", "2026-10-14T09:00:00+02:00", 200),  # before the purchase: overage
    data("d3", "2026-10-15T12:00:00+02:00", 100),  # at the very second of the purchase: covered
    data("d4", "2026-10-16T09:00:00+02:00", 1_400),  # covered (1 900 of 2 000 MB used)
    data("d5", "2026-10-20T09:00:00+02:00", 1_000),  # 100 MB covered, 900 MB overage
]


def rated(events, bought=None):
    results, rater = rate_period(CAT, LITEN, period_for("2026-10"), list(events), bought_allowances=bought)
    assert not [r for r in results if isinstance(r, Rejection)]
    return {r.record_id: r for r in results}, rater


def test_add_on_covers_usage_from_the_moment_it_is_bought():
    by_id, rater = rated(OCTOBER, [(PURCHASE, "data", 2_000 * MB)])
    assert {rid: (r.included_units // MB, r.charged_units // MB) for rid, r in by_id.items()} == {
        "d1": (3_000, 500),
        "d2": (0, 200),
        "d3": (100, 0),
        "d4": (1_400, 0),
        "d5": (500, 500),
    }
    # Without the add-on: d3, d4 and d5 would be all overage.
    without, _ = rated(OCTOBER)
    assert sum(r.charged_units for r in without.values()) // MB == 500 + 200 + 100 + 1_400 + 1_000
    assert rater.remaining()["data"] == 0


def test_add_on_order_of_arrival_does_not_matter_and_late_events_before_it_keep_their_charges():
    first, _ = rated(OCTOBER, [(PURCHASE, "data", 2_000 * MB)])
    again, _ = rated(list(reversed(OCTOBER)), [(PURCHASE, "data", 2_000 * MB)])
    assert first == again


def test_add_on_golden_invoice_usage_before_charged_after_covered():
    by_id, _ = rated(OCTOBER, [(PURCHASE, "data", 2_000 * MB)])
    period = period_for("2026-10")
    addon = invoicing.AddonCharge("extra-2gb", "Extra 2 GB", 3_000, VAT25, date(2026, 10, 15), 1)
    draft = invoicing.build_invoice(CAT, 1, [LITEN], period, aggregate(1, period, list(by_id.values())), addons=[addon])
    # Overage: 500 (d1) + 200 (d2) + 500 (d5) = 1 200 MB × 1 öre = 12,00 kr. Add-on 30,00 kr on its own line.
    assert [(ln.description, ln.amount_ore, ln.kind) for ln in draft.lines] == [
        ("Liten 3 GB, 1 okt–31 okt", 10_000, "fee"),
        ("Surf", 1_200, "usage"),
        ("Extra 2 GB, köpt 15 okt", 3_000, "addon"),
    ]
    assert draft.lines[2].unit_price == Decimal("30.00") and draft.lines[2].msisdn == MSISDN
    # 100,00 + 12,00 + 30,00 = 142,00; VAT 28,40; net 113,60.
    check_totals(draft, gross=14_200, vat=2_840, rounding=0, due=14_200)
    # Without the add-on the subscriber would have paid 3 200 MB overage = 32,00 kr for usage alone.


def test_add_on_goes_to_the_plan_active_when_bought_and_unlimited_plans_ignore_it():
    change = Subscription(
        1,
        "S-1",
        1,
        MSISDN,
        (PlanSegment("liten", date(2026, 1, 1), date(2026, 10, 15)), PlanSegment("obegransad", date(2026, 10, 16))),
    )
    results, rater = rate_period(
        CAT, change, period_for("2026-10"), [], bought_allowances=[(PURCHASE, "data", 2 * 10**9)]
    )
    rater.apply_purchases(PURCHASE)
    # Liten 1–15 Oct: 3 GB × 15/31 = 1 451 612 903,2 bytes → 1 451 612 903 (a whole byte, down) + the 2 GB bought.
    assert rater.states[0].remaining["data"] == 1_451_612_903 + 2 * 10**9
    assert rater.states[1].remaining["data"] == -1  # unlimited stays unlimited


def test_devices_are_validated_with_clear_errors():
    bad = (
        GOLDEN_TEXT
        + """
[[devices]]
id = "x"
name = "X"
cash_price = "0.05"
months = [24, 0, 24]
vat_rate = "1.5"
"""
    )
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue_text(bad)
    errors = exc.value.errors
    assert "devices[0].months[0]: 0.05 kr cannot be paid over 24 months" in errors
    assert "devices[0].months[1]: 0 is not a term of 1..60 months" in errors
    assert "devices[0].months: a term is listed twice" in errors
    assert any(e.startswith("devices[0].vat_rate:") for e in errors)
    with pytest.raises(CatalogueError) as exc:
        parse_catalogue_text(GOLDEN_TEXT + '\n[[devices]]\nid = "y"\nname = "Y"\ncash_price = 100\nmonths = [12]\n')
    assert exc.value.errors[0].startswith("devices[0].cash_price:")
