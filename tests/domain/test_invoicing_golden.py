"""Golden invoices worked out by hand from the rule book (spec/billing-rules.md), on tests/fixtures/golden.toml.

Each test builds the usage of one subscription, rates it (``rating.rate_period``), sums the
rated events per (subscription, period, rate, band) exactly as the bill run's SQL does, and
builds the invoice (``invoicing.build_invoice``). Every figure has its hand calculation next
to it. Amounts are öre: 24_900 is 249,00 kr.

Prices (incl. 25 % VAT): voice Sverige mobil 0.60 kr/min 60/1, Sverige fast 0.0115 kr/s 60/1,
servicenummer 0.60 kr/min 60/60, betalnummer 5.00 kr/min 60/60 + 1.00 kr per call, Norden
1.20 kr/min 1/1 + 0.50 kr per call (off-peak 0.60 kr/min); data 10 kr/GB = 1 öre per MB;
roaming zon 1: voice 6.00 kr/min 60/60, sms 2.00 kr, data 1.00 kr/MB, spend limit 100 kr.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import Discount, load_catalogue
from backend_stub.domain.money import exact_to_ore
from backend_stub.domain.ocr import is_valid_ocr
from backend_stub.domain.periods import Period, PlanSegment, Subscription, period_for
from backend_stub.domain.rating import GB, MB, RatedEvent, Rejection, UsageEvent, rate_period
from tests.conftest import FIXTURES

CAT = load_catalogue(FIXTURES / "golden.toml")
MSISDN = "+46701234567"
VAT25 = Decimal("0.25")
_ids = iter(range(1, 1_000_000))
# Liten 1–10 September, then Stor from 11 September (September has 30 days).
PLAN_CHANGE = (PlanSegment("liten", date(2026, 9, 1), date(2026, 9, 10)), PlanSegment("stor", date(2026, 9, 11)))


# --------------------------------------------------------------------------- helpers


def ev(started: str, service: str, amount: int = 0, *, to: str = "", country: str = "") -> UsageEvent:
    """A usage event: ``amount`` is seconds for voice, bytes for data (ignored for sms/mms)."""
    return UsageEvent(
        f"r{next(_ids):06d}",
        MSISDN,
        service,
        int(datetime.fromisoformat(started).timestamp()),
        amount if service == "voice" else 0,
        amount if service == "data" else 0,
        to,
        country,
    )


def subscription(*segments: PlanSegment, sub_id: int = 1) -> Subscription:
    return Subscription(id=sub_id, number=f"S-{sub_id}", customer_id=1, msisdn=MSISDN, segments=segments)


def on(plan_id: str) -> Subscription:
    return subscription(PlanSegment(plan_id, date(2026, 1, 1)))


def aggregate(sub_id: int, period: Period, rated: list[RatedEvent]) -> list[invoicing.UsageAggregate]:
    """Sum rated events per (subscription, period_start, rate_key, offpeak), as the bill run's SQL does."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for r in rated:
        s = sums[(sub_id, period.start, r.rate_key, r.offpeak)]
        s[0] += r.charged_units
        s[1] += r.charge_exact - r.fee_exact - r.surcharge_exact
        s[2] += 1 if r.fee_exact > 0 else 0
        s[3] += r.fee_exact
        s[4] += r.surcharge_units
        s[5] += r.surcharge_exact
    return [invoicing.UsageAggregate(*key, *values) for key, values in sums.items()]


def rated(sub: Subscription, period: Period, events: list[UsageEvent]) -> list[RatedEvent]:
    results, _ = rate_period(CAT, sub, period, events)
    rejected = [r for r in results if isinstance(r, Rejection)]
    assert not rejected, rejected
    return results


def invoice(
    sub: Subscription, label: str, events: list[UsageEvent] = (), grants=(), one_offs=()
) -> invoicing.InvoiceDraft:
    period = period_for(label)
    aggs = aggregate(sub.id, period, rated(sub, period, list(events)))
    return invoicing.build_invoice(CAT, 1, [sub], period, aggs, list(grants), list(one_offs))


def amounts(draft: invoicing.InvoiceDraft) -> list[tuple[str, int]]:
    """The invoice as a bookkeeper reads it: (line text, amount in öre)."""
    return [(ln.description, ln.amount_ore) for ln in draft.lines]


def check_totals(draft, *, gross: int, vat: int, rounding: int, due: int) -> None:
    assert draft.gross_ore == gross
    assert draft.vat_ore == vat
    assert draft.net_ore == gross - vat
    assert draft.rounding_ore == rounding
    assert draft.amount_due_ore == due
    assert sum(ln.amount_ore for ln in draft.lines) == gross


# --------------------------------------------------------------------------- VAT and öresavrundning


def test_vat_example_249_kr_is_net_199_20_plus_vat_49_80():
    draft = invoice(on("obegransad"), "2026-10")
    assert amounts(draft) == [("Obegränsad, 1 okt–31 okt", 24_900)]  # whole month: the full fee
    # VAT = 249,00 × 0.25 / 1.25 = 49,80; net = 249,00 − 49,80 = 199,20; already whole kronor.
    assert draft.vat == (invoicing.VatRow(VAT25, 24_900, 19_920, 4_980),)
    check_totals(draft, gross=24_900, vat=4_980, rounding=0, due=24_900)
    [line] = draft.lines
    assert (line.quantity, line.unit, line.unit_price, line.kind) == (1, "mån", Decimal("249.00"), "fee")


def test_ore_rounding_up_218_80_to_219():
    # Rörlig 49,00 + 16 980 MB data × 0.01 = 169,80 → gross 218,80.
    draft = invoice(on("rorlig"), "2026-10", [ev("2026-10-04T08:00:00+02:00", "data", 16_980 * MB)])
    assert amounts(draft) == [("Rörlig, 1 okt–31 okt", 4_900), ("Surf", 16_980)]
    # VAT = 218,80 × 0.2 = 43,76; net 175,04. Öresavrundning 218,80 → 219,00: +0,20, outside VAT.
    check_totals(draft, gross=21_880, vat=4_376, rounding=20, due=21_900)
    assert draft.vat == (invoicing.VatRow(VAT25, 21_880, 17_504, 4_376),)


def test_ore_rounding_half_a_krona_goes_up():
    # Rörlig 49,00 + 5 150 MB × 0.01 = 51,50 → 100,50; .50 rounds up → 101,00 (+0,50).
    draft = invoice(on("rorlig"), "2026-10", [ev("2026-10-04T08:00:00+02:00", "data", 5_150 * MB)])
    check_totals(draft, gross=10_050, vat=2_010, rounding=50, due=10_100)  # VAT 100,50 × 0.2 = 20,10


def test_ore_rounding_down():
    # Rörlig 49,00 + 5 140 MB = 51,40 → 100,40 → 100,00 (−0,40).
    draft = invoice(on("rorlig"), "2026-10", [ev("2026-10-04T08:00:00+02:00", "data", 5_140 * MB)])
    check_totals(draft, gross=10_040, vat=2_008, rounding=-40, due=10_000)  # VAT 100,40 × 0.2 = 20,08


def test_several_vat_rates_on_one_invoice():
    # Fee 249,00 at 25 %: VAT 49,80. A one-off 60,00 at 6 %: VAT 60 × 6/106 = 3,396… → 3,40, net 56,60.
    paper = invoicing.OneOffCharge("Tidning", 6_000, Decimal("0.06"))
    draft = invoice(on("obegransad"), "2026-10", one_offs=[paper])
    assert draft.vat == (
        invoicing.VatRow(Decimal("0.06"), 6_000, 5_660, 340),
        invoicing.VatRow(VAT25, 24_900, 19_920, 4_980),
    )
    check_totals(draft, gross=30_900, vat=5_320, rounding=0, due=30_900)


# --------------------------------------------------------------------------- plan change and proration


def test_plan_change_mid_month():
    # September has 30 days. Liten (100,00 kr) 1–10 Sep = 10 days, Stor (250,00 kr) 11–30 Sep = 20 days.
    sub = subscription(*PLAN_CHANGE)
    events = [
        # Liten's allowances × 10/30 in base units: data 3 GB → 1 GB; voice 600 s → 200 s.
        ev("2026-09-05T12:00:00+02:00", "data", 1_500 * MB),  # 1 000 MB included, 500 MB charged
        ev("2026-09-06T12:00:00+02:00", "voice", 220, to="+46739876543"),  # 200 s included, 20 s charged
        # Stor's allowances × 20/30: data 30 GB → 20 GB; voice unlimited. Nothing charged.
        ev("2026-09-20T12:00:00+02:00", "data", 1_500 * MB),
        ev("2026-09-21T12:00:00+02:00", "voice", 200, to="+46739876543"),
    ]
    draft = invoice(sub, "2026-09", events)
    assert amounts(draft) == [
        ("Liten 3 GB, 1 sep–10 sep", 3_333),  # 100,00 × 10/30 = 33,333… → 33,33
        ("Stor 30 GB, 11 sep–30 sep", 16_667),  # 250,00 × 20/30 = 166,666… → 166,67
        ("Surf", 500),  # 500 MB × 0,01 = 5,00 (used before the change: Liten's 1 GB)
        ("Samtal Sverige mobil", 20),  # 20 s × 0,01 = 0,20
    ]
    fee_liten, fee_stor, data, voice = draft.lines
    assert (fee_liten.quantity, fee_stor.quantity) == (Decimal("0.3333"), Decimal("0.6667"))
    assert (data.quantity, data.unit, data.unit_price) == (Decimal("0.5"), "GB", Decimal("10.00"))
    assert (voice.quantity, voice.unit) == (Decimal("0.3333"), "min")  # 20 s = 0.3333 min at 0.60 kr/min
    # Gross 33,33 + 166,67 + 5,00 + 0,20 = 205,20; VAT × 0.2 = 41,04; net 164,16; 205,20 → 205,00 (−0,20).
    check_totals(draft, gross=20_520, vat=4_104, rounding=-20, due=20_500)


def test_subscription_starting_mid_month():
    # Obegränsad from 22 Oct: 10 of 31 days. 249,00 × 10/31 = 80,322… → 80,32.
    draft = invoice(subscription(PlanSegment("obegransad", date(2026, 10, 22))), "2026-10")
    assert amounts(draft) == [("Obegränsad, 22 okt–31 okt", 8_032)]
    # VAT 80,32 × 0.2 = 16,064 → 16,06; 80,32 → 80,00 (−0,32).
    check_totals(draft, gross=8_032, vat=1_606, rounding=-32, due=8_000)


def test_subscription_ending_mid_month():
    # Liten until 15 Oct: 15 of 31 days. 100,00 × 15/31 = 48,387… → 48,39.
    # Voice allowance in seconds: 600 s × 15/31 = 290,3 → 290 s (a whole second, down).
    sub = subscription(PlanSegment("liten", date(2026, 1, 1), date(2026, 10, 15)))
    draft = invoice(sub, "2026-10", [ev("2026-10-02T10:00:00+02:00", "voice", 350, to="+46739876543")])
    assert amounts(draft) == [
        ("Liten 3 GB, 1 okt–15 okt", 4_839),
        ("Samtal Sverige mobil", 60),  # 350 s − 290 s included = 60 s × 0,01 = 0,60
    ]
    check_totals(draft, gross=4_899, vat=980, rounding=1, due=4_900)  # VAT 48,99 × 0.2 = 9,798 → 9,80


# --------------------------------------------------------------------------- increments and rounding once per line


def test_increments_60_60_60_1_1_1_and_a_connection_fee():
    tuesday = "2026-10-06T14:22:05+02:00"  # weekday, peak
    events = [
        ev(tuesday, "voice", 125, to="+46812345678"),  # se-fast 60/1: 125 s × 0.0115 = 1.4375 kr
        ev(tuesday, "voice", 30, to="+46812345678"),  # se-fast 60/1: 30 s → 60 s × 0.0115 = 0.69 kr
        ev(tuesday, "voice", 125, to="+46771234567"),  # service 60/60: 125 s → 3 min × 0.60 = 1.80 kr
        ev(tuesday, "voice", 125, to="+46739876543"),  # se-mobil 60/1: 125 s × 0.01 = 1.25 kr
        ev(tuesday, "voice", 0, to="+46739876543"),  # 0 s: nothing
        ev(tuesday, "voice", 125, to="+4722123456"),  # norden 1/1: 125 s × 0.02 = 2.50 kr + 0.50 kr fee
        ev(tuesday, "voice", 0, to="+4722123456"),  # 0 s: no connection fee either
    ]
    draft = invoice(on("rorlig"), "2026-10", events)
    assert amounts(draft) == [
        ("Rörlig, 1 okt–31 okt", 4_900),
        ("Samtal Norden", 250),  # 125 s × 0,02 = 2,50
        ("Öppningsavgift Norden", 50),  # 1 answered call × 0,50 (the 0 s call has none)
        ("Samtal Sverige fast", 213),  # 1.4375 + 0.69 = 2.1275 kr → 2,13
        ("Samtal Sverige mobil", 125),  # 1,25
        ("Samtal Servicenummer", 180),  # 1,80
    ]
    fee = draft.lines[2]
    assert (fee.quantity, fee.unit, fee.unit_price, fee.kind) == (1, "st", Decimal("0.5"), "connection_fee")
    assert draft.lines[3].quantity == Decimal("185")  # 125 + 60 billed seconds at 0.0115 kr/s
    # Gross 49,00 + 2,50 + 0,50 + 2,13 + 1,25 + 1,80 = 57,18; VAT 11,436 → 11,44; 57,18 → 57,00.
    check_totals(draft, gross=5_718, vat=1_144, rounding=-18, due=5_700)


def test_rounding_once_per_line_not_per_event():
    # Ten calls of 61 s to Sverige fast at 60/1: 61 × 0.0115 = 0.7015 kr each.
    events = [ev(f"2026-10-06T10:{i:02d}:00+02:00", "voice", 61, to="+46812345678") for i in range(10)]
    results = rated(on("rorlig"), period_for("2026-10"), events)
    # Rounded per event each would show 0,70 and sum to 7,00 …
    assert [exact_to_ore(r.charge_exact) for r in results] == [70] * 10
    assert sum(exact_to_ore(r.charge_exact) for r in results) == 700
    # … but the line is the exact sum 7.015 kr, rounded once (half up) → 7,02.
    draft = invoice(on("rorlig"), "2026-10", events)
    assert amounts(draft) == [("Rörlig, 1 okt–31 okt", 4_900), ("Samtal Sverige fast", 702)]
    # Gross 56,02; VAT 11,204 → 11,20; 56,02 → 56,00.
    check_totals(draft, gross=5_602, vat=1_120, rounding=-2, due=5_600)


def test_data_is_rounded_up_to_the_increment_before_pricing():
    # 1 byte → 1 MB, 1 000 001 bytes → 2 MB, 0 bytes → 0: 3 MB × 0,01 = 0,03.
    events = [
        ev("2026-10-04T08:00:00+02:00", "data", 1),
        ev("2026-10-04T09:00:00+02:00", "data", 1_000_001),
        ev("2026-10-04T10:00:00+02:00", "data", 0),
    ]
    draft = invoice(on("rorlig"), "2026-10", events)
    assert amounts(draft) == [("Rörlig, 1 okt–31 okt", 4_900), ("Surf", 3)]
    assert draft.lines[1].quantity == Decimal("0.003")  # GB
    check_totals(draft, gross=4_903, vat=981, rounding=-3, due=4_900)  # VAT 49,03 × 0.2 = 9,806 → 9,81


# --------------------------------------------------------------------------- allowances


def test_allowance_exhausted_inside_one_call():
    # Liten: 10 min = 600 s. 550 s included; the next call of 80 s: 50 s included, 30 s × 0,01 = 0,30
    # (no new 60 s first block for the overage part, which would have made it 0,60).
    events = [
        ev("2026-10-06T10:00:00+02:00", "voice", 550, to="+46739876543"),
        ev("2026-10-06T11:00:00+02:00", "voice", 80, to="+46739876543"),
    ]
    draft = invoice(on("liten"), "2026-10", events)
    assert amounts(draft) == [("Liten 3 GB, 1 okt–31 okt", 10_000), ("Samtal Sverige mobil", 30)]
    assert draft.lines[1].quantity == Decimal("0.5")  # 30 s = 0.5 min at 0.60 kr/min
    # Gross 100,30; VAT 20,06; net 80,24; 100,30 → 100,00.
    check_totals(draft, gross=10_030, vat=2_006, rounding=-30, due=10_000)


def test_usage_inside_the_allowance_gives_no_line():
    draft = invoice(on("liten"), "2026-10", [ev("2026-10-06T10:00:00+02:00", "data", 2 * GB)])
    assert amounts(draft) == [("Liten 3 GB, 1 okt–31 okt", 10_000)]


# --------------------------------------------------------------------------- roaming and premium


def test_eu_roaming_data_past_fair_use():
    # Obegränsad 249,00 = 199,20 ex VAT. Fair use = 2 × 199,20 / (1,00 EUR × 10,00 kr) = 39,84 GB.
    events = [
        ev("2026-10-05T12:00:00+02:00", "data", 30 * GB, country="ES"),  # within fair use, unlimited: free
        ev("2026-10-20T12:00:00+02:00", "data", 10 * GB, country="FR"),  # 9,84 GB within, 0,16 GB beyond
        ev("2026-10-21T12:00:00+02:00", "data", 5 * GB),  # at home: no fair-use limit
        ev("2026-10-21T13:00:00+02:00", "voice", 300, to="+46739876543", country="ES"),  # like at home: free
    ]
    draft = invoice(on("obegransad"), "2026-10", events)
    assert amounts(draft) == [
        ("Obegränsad, 1 okt–31 okt", 24_900),
        ("Surf i EU/EES utöver skälig användning", 192),  # 0,16 GB × 12,00 = 1,92
    ]
    surcharge = draft.lines[1]
    assert (surcharge.quantity, surcharge.unit, surcharge.unit_price) == (Decimal("0.16"), "GB", Decimal("12.00"))
    # Gross 250,92; VAT 50,184 → 50,18; net 200,74; 250,92 → 251,00 (+0,08).
    check_totals(draft, gross=25_092, vat=5_018, rounding=8, due=25_100)


def test_non_eu_zone_and_bill_shock_cap():
    events = [
        ev("2026-10-09T12:00:00+02:00", "voice", 61, to="+46739876543", country="US"),  # 2 min × 6,00 = 12,00
        ev("2026-10-09T12:05:00+02:00", "sms", to="+46739876543", country="US"),  # 2,00
        ev("2026-10-10T12:00:00+02:00", "data", 50 * MB, country="US"),  # 50,00 (spent 50)
        ev("2026-10-11T12:00:00+02:00", "data", 30 * MB, country="US"),  # 30,00 (spent 80: 80 % notice)
        ev("2026-10-12T12:00:00+02:00", "data", 30 * MB, country="US"),  # 20,00, capped (spent 100: 100 %)
        ev("2026-10-13T12:00:00+02:00", "data", 10 * MB, country="US"),  # 0,00: past the limit
    ]
    sub = on("stor")
    period = period_for("2026-10")
    _, rater = rate_period(CAT, sub, period, events)
    assert [(n.threshold, n.spent_ore, n.limit_ore) for n in rater.notifications] == [
        ("0.8", 8_000, 10_000),
        ("1.0", 10_000, 10_000),
    ]
    draft = invoice(sub, "2026-10", events)
    assert amounts(draft) == [
        ("Stor 30 GB, 1 okt–31 okt", 25_000),
        ("Surf utomlands, Roaming zon 1", 10_000),  # 120 MB used, charged up to the 100 kr limit
        ("SMS utomlands, Roaming zon 1", 200),
        ("Samtal utomlands, Roaming zon 1", 1_200),  # no allowance outside the EU/EEA
    ]
    assert draft.lines[1].quantity == Decimal("120")  # MB
    # Gross 250 + 100 + 2 + 12 = 364,00; VAT 72,80; net 291,20.
    check_totals(draft, gross=36_400, vat=7_280, rounding=0, due=36_400)


def test_premium_number():
    # Not in any allowance, even on Obegränsad. 125 s at 60/60 → 3 min × 5,00 = 15,00 + 1,00 per call; sms 5,00.
    events = [
        ev("2026-10-06T14:00:00+02:00", "voice", 125, to="+46900123456"),
        ev("2026-10-06T14:10:00+02:00", "sms", to="+46900123456"),
    ]
    draft = invoice(on("obegransad"), "2026-10", events)
    assert amounts(draft) == [
        ("Obegränsad, 1 okt–31 okt", 24_900),
        ("SMS Betalnummer", 500),
        ("Samtal Betalnummer", 1_500),
        ("Öppningsavgift Betalnummer", 100),
    ]
    # Gross 270,00; VAT 54,00; net 216,00.
    check_totals(draft, gross=27_000, vat=5_400, rounding=0, due=27_000)


def test_off_peak_calls_get_their_own_line():
    # Norden 1/1: peak 0,02 kr/s, off-peak (weekdays 18–08, weekends) 0,01 kr/s; 0,50 per call either way.
    events = [
        ev("2026-10-06T17:59:00+02:00", "voice", 100, to="+4722123456"),  # Tue peak: 100 × 0,02 = 2,00
        ev("2026-10-06T18:00:00+02:00", "voice", 100, to="+4722123456"),  # Tue off-peak: 100 × 0,01 = 1,00
        ev("2026-10-25T02:30:00+01:00", "voice", 100, to="+4722123456"),  # Sun, the DST night: off-peak 1,00
    ]
    draft = invoice(on("rorlig"), "2026-10", events)
    assert amounts(draft) == [
        ("Rörlig, 1 okt–31 okt", 4_900),
        ("Samtal Norden", 200),
        ("Öppningsavgift Norden", 50),
        ("Samtal Norden lågtrafik", 200),
        ("Öppningsavgift Norden", 100),  # 2 calls × 0,50
    ]
    assert draft.lines[3].unit_price == Decimal("0.60")
    check_totals(draft, gross=5_450, vat=1_090, rounding=50, due=5_500)  # 54,50 → 55,00


# --------------------------------------------------------------------------- discounts


@pytest.mark.parametrize("label", ["2026-10", "2026-11", "2026-12"])
def test_three_months_free_is_active_in_periods_1_to_3(label):
    grant = invoicing.DiscountGrant("3-man-gratis", "2026-10", subscription_id=1)
    draft = invoice(on("liten"), label, grants=[grant])
    assert amounts(draft)[1:] == [("3 månader utan månadsavgift", -10_000)]  # 100 % of 100,00
    line = draft.lines[1]
    assert (line.kind, line.vat_rate) == ("discount", VAT25)  # the VAT rate of what it discounts
    check_totals(draft, gross=0, vat=0, rounding=0, due=0)


def test_three_months_free_is_over_in_period_4():
    grant = invoicing.DiscountGrant("3-man-gratis", "2026-10", subscription_id=1)
    draft = invoice(on("liten"), "2027-01", grants=[grant])
    assert amounts(draft) == [("Liten 3 GB, 1 jan–31 jan", 10_000)]
    check_totals(draft, gross=10_000, vat=2_000, rounding=0, due=10_000)


def test_a_discount_does_not_start_before_its_first_period():
    grant = invoicing.DiscountGrant("3-man-gratis", "2026-10", subscription_id=1)
    draft = invoice(on("liten"), "2026-09", grants=[grant])
    assert len(draft.lines) == 1


def test_plan_fee_discount_does_not_touch_usage():
    # 100 % off the fee; the 5,00 kr of data stays.
    grant = invoicing.DiscountGrant("3-man-gratis", "2026-10", subscription_id=1)
    draft = invoice(on("liten"), "2026-10", [ev("2026-10-06T10:00:00+02:00", "data", 3_500 * MB)], grants=[grant])
    assert amounts(draft) == [
        ("Liten 3 GB, 1 okt–31 okt", 10_000),
        ("Surf", 500),
        ("3 månader utan månadsavgift", -10_000),
    ]
    check_totals(draft, gross=500, vat=100, rounding=0, due=500)


def test_percentage_discount_on_prorated_fees_is_rounded_per_line():
    # Halva (50 %) on the plan change in September: 33,33 × 0.5 = 16,665 → 16,67; 166,67 × 0.5 = 83,335 → 83,34.
    sub = subscription(*PLAN_CHANGE)
    draft = invoice(sub, "2026-09", grants=[invoicing.DiscountGrant("halva", "2026-09")])
    assert amounts(draft) == [
        ("Liten 3 GB, 1 sep–10 sep", 3_333),
        ("Stor 30 GB, 11 sep–30 sep", 16_667),
        ("Halva månadsavgiften", -1_667),
        ("Halva månadsavgiften", -8_334),
    ]
    # Gross 200,00 − 100,01 = 99,99; VAT 19,998 → 20,00; 99,99 → 100,00.
    check_totals(draft, gross=9_999, vat=2_000, rounding=1, due=10_000)


def test_a_grant_with_its_own_terms_and_one_plan_discounts_only_that_plans_days():
    # An offer's "first month free" on Stor from 11 September: the grant carries its own terms
    # (100 % of the plan fee, 1 period) and names the plan, so Liten's 1–10 September stays charged.
    terms = Discount(
        id="offer-7",
        name="Stor: första månaden 0 kr",
        percent=Decimal(100),
        amount_ore=None,
        applies_to="plan_fee",
        periods=1,
    )
    grant = invoicing.DiscountGrant("offer-7", "2026-09", subscription_id=1, terms=terms, plan_id="stor")
    draft = invoice(subscription(*PLAN_CHANGE), "2026-09", grants=[grant])
    assert amounts(draft) == [
        ("Liten 3 GB, 1 sep–10 sep", 3_333),
        ("Stor 30 GB, 11 sep–30 sep", 16_667),
        ("Stor: första månaden 0 kr", -16_667),
    ]
    check_totals(draft, gross=3_333, vat=667, rounding=-33, due=3_300)
    # The next period the grant has run out.
    assert [ln.kind for ln in invoice(subscription(*PLAN_CHANGE), "2026-10", grants=[grant]).lines] == ["fee"]


def test_fixed_invoice_discount():
    # 249,00 − 25,00 = 224,00; VAT 44,80; net 179,20.
    draft = invoice(on("obegransad"), "2026-10", grants=[invoicing.DiscountGrant("rabatt-25", "2026-10")])
    assert amounts(draft) == [("Obegränsad, 1 okt–31 okt", 24_900), ("Rabatt 25 kr", -2_500)]
    check_totals(draft, gross=22_400, vat=4_480, rounding=0, due=22_400)


def test_fixed_invoice_discount_is_split_over_vat_rates():
    # 25,00 off an invoice of 249,00 at 25 % and 50,00 at 6 % is split in proportion to the two rates.
    paper = invoicing.OneOffCharge("Tidning", 5_000, Decimal("0.06"))
    draft = invoice(
        subscription(PlanSegment("obegransad", date(2026, 10, 1))),
        "2026-10",
        one_offs=[paper],
        grants=[invoicing.DiscountGrant("rabatt-25", "2026-10")],
    )
    discount = [(ln.vat_rate, ln.amount_ore) for ln in draft.lines if ln.kind == "discount"]
    # 249,00 and 50,00: 2 500 × 24 900 / 29 900 = 2 081,9 and 418,06 → largest remainder: 2 082 + 418.
    assert discount == [(Decimal("0.06"), -418), (VAT25, -2_082)]
    # 6 %: 50,00 − 4,18 = 45,82 → VAT 45,82 × 6/106 = 2,593… → 2,59. 25 %: 249,00 − 20,82 = 228,18 → VAT 45,636 → 45,64.
    assert draft.vat == (
        invoicing.VatRow(Decimal("0.06"), 4_582, 4_323, 259),
        invoicing.VatRow(VAT25, 22_818, 18_254, 4_564),
    )
    check_totals(draft, gross=27_400, vat=4_823, rounding=0, due=27_400)


# --------------------------------------------------------------------------- late usage


def test_late_usage_gets_its_own_line_naming_its_period():
    # A September data session arriving after September was invoiced lands on October's invoice.
    sub = on("rorlig")
    sep = period_for("2026-09")
    late = aggregate(sub.id, sep, rated(sub, sep, [ev("2026-09-30T23:00:00+02:00", "data", 250 * MB)]))
    draft = invoicing.build_invoice(CAT, 1, [sub], period_for("2026-10"), late)
    assert amounts(draft) == [("Rörlig, 1 okt–31 okt", 4_900), ("Surf (period 2026-09)", 250)]
    assert (draft.lines[1].kind, draft.lines[1].period_label) == ("late_usage", "2026-09")
    # 250 MB × 0,01 = 2,50. Gross 51,50; VAT 10,30; 51,50 → 52,00 (+0,50).
    check_totals(draft, gross=5_150, vat=1_030, rounding=50, due=5_200)


# --------------------------------------------------------------------------- bad input


def test_an_unknown_plan_names_the_plan():
    with pytest.raises(KeyError, match="unknown plan 'mobi'"):
        invoice(on("mobi"), "2026-10")


# --------------------------------------------------------------------------- issue and credit notes


def _rounded_invoice() -> invoicing.InvoiceDraft:
    """218,80 kr + 0,20 öresavrundning = 219,00 kr (see test_ore_rounding_up_218_80_to_219)."""
    return invoice(on("rorlig"), "2026-10", [ev("2026-10-04T08:00:00+02:00", "data", 16_980 * MB)])


def test_issue_gives_number_ocr_and_due_date():
    issued = invoicing.issue(_rounded_invoice(), "1001", date(2026, 11, 1), 30)
    assert issued.number == "1001"
    assert issued.ocr == "100164"  # 1001, length 6, Luhn digit 4
    assert is_valid_ocr(issued.ocr)
    assert issued.due_date == date(2026, 12, 1)
    assert issued.amount_due_ore == 21_900  # totals are unchanged by issuing


def test_full_credit_note():
    original = _rounded_invoice()
    lines = invoicing.credit_note_lines(list(original.lines))
    assert [(ln.description, ln.amount_ore, ln.kind) for ln in lines] == [
        ("Rörlig, 1 okt–31 okt", -4_900, "credit"),
        ("Surf", -16_980, "credit"),
    ]
    assert lines[1].quantity == -original.lines[1].quantity
    # Crediting the whole invoice also takes back its öresavrundning, so it cancels the 219,00 exactly.
    note = invoicing.draft_from_lines(
        1, original.period, lines, kind="credit_note", ore_rounding=False, rounding_ore=-original.rounding_ore
    )
    assert note.kind == "credit_note"
    check_totals(note, gross=-21_880, vat=-4_376, rounding=-20, due=-21_900)
    assert note.vat == (invoicing.VatRow(VAT25, -21_880, -17_504, -4_376),)


def test_a_credit_note_is_never_rounded_on_its_own():
    # A total ≤ 0 asks for no payment, so there is no öresavrundning unless the caller passes one.
    note = invoicing.draft_from_lines(
        1,
        period_for("2026-10"),
        invoicing.credit_note_lines(list(_rounded_invoice().lines)),
        kind="credit_note",
        ore_rounding=True,
    )
    check_totals(note, gross=-21_880, vat=-4_376, rounding=0, due=-21_880)


def test_partial_credit_note_of_one_line():
    original = _rounded_invoice()
    lines = invoicing.credit_note_lines(list(original.lines), line_indexes=[1])
    assert [(ln.description, ln.amount_ore) for ln in lines] == [("Surf", -16_980)]
    note = invoicing.draft_from_lines(1, original.period, lines, kind="credit_note", ore_rounding=False)
    # VAT −169,80 × 0.2 = −33,96; net −135,84.
    check_totals(note, gross=-16_980, vat=-3_396, rounding=0, due=-16_980)


def test_partial_credit_note_of_an_amount():
    lines = invoicing.credit_note_lines(
        list(_rounded_invoice().lines), amount_ore=5_000, vat_rate=VAT25, reason="Felaktig debitering"
    )
    assert [(ln.description, ln.amount_ore, ln.vat_rate) for ln in lines] == [
        ("Kreditering: Felaktig debitering", -5_000, VAT25)
    ]
    note = invoicing.draft_from_lines(1, period_for("2026-10"), lines, kind="credit_note", ore_rounding=False)
    check_totals(note, gross=-5_000, vat=-1_000, rounding=0, due=-5_000)  # −50,00: VAT −10,00, net −40,00


def test_a_credit_amount_must_be_positive():
    with pytest.raises(ValueError, match="amount_ore"):
        invoicing.credit_note_lines([], amount_ore=0)


def test_a_credit_followed_by_a_replacement_keeps_the_books_whole():
    # Original 219,00 to pay; full credit −219,00; replacement without the data line: 49,00.
    original = _rounded_invoice()
    credit = invoicing.draft_from_lines(
        1,
        original.period,
        invoicing.credit_note_lines(list(original.lines)),
        kind="credit_note",
        ore_rounding=False,
        rounding_ore=-original.rounding_ore,
    )
    replacement = invoicing.draft_from_lines(1, original.period, [original.lines[0]], kind="invoice", ore_rounding=True)
    assert original.amount_due_ore + credit.amount_due_ore + replacement.amount_due_ore == 4_900


# --------------------------------------------------------------------------- proration in base units


def _catalogue_with_mellan(data_allowance: str, tmp_path: Path):
    text = (FIXTURES / "golden.toml").read_text(encoding="utf-8")
    text += (
        '\n[[plans]]\nid = "mellan"\nname = "Mellan"\nkind = "mobile"\nmonthly_fee = "150.00"\n'
        f'tariff = "test"\nallowances = {{ data = "{data_allowance}" }}\n'
    )
    path = tmp_path / f"cat-{data_allowance.replace(' ', '')}.toml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path)


def test_every_spelling_of_an_allowance_gives_the_same_prorated_invoice(tmp_path):
    # Mellan (150,00 kr, 5 GB) from 16 Sep: 15 of 30 days. Allowance 5 GB × 15/30 = 2 500 000 000 bytes
    # (2,5 GB), whether the catalogue writes "5 GB" or "5000 MB". 3 GB used: 500 MB × 0,01 = 5,00.
    from types import SimpleNamespace

    from backend_stub.services.billing.documents import invoice_document

    customer = SimpleNamespace(
        name="Test", customer_number="K1", street="", postal_code="", city="", email="", phone=""
    )
    sub = subscription(PlanSegment("mellan", date(2026, 9, 16)))
    period = period_for("2026-09")
    docs = []
    for spelling in ("5 GB", "5000 MB"):
        cat = _catalogue_with_mellan(spelling, tmp_path)
        results, rater = rate_period(cat, sub, period, [ev("2026-09-20T12:00:00+02:00", "data", 3 * GB)])
        assert [r.included_units for r in results] == [2_500_000_000]
        draft = invoicing.build_invoice(cat, 1, [sub], period, aggregate(sub.id, period, results))
        issued = invoicing.issue(draft, "100001", date(2026, 10, 1), 30)
        docs.append(invoice_document(cat, customer, [sub], issued))
    assert docs[0] == docs[1]
    assert [(ln["description"], ln["amount_ore"]) for ln in docs[0]["lines"]] == [
        ("Mellan, 16 sep–30 sep", 7_500),  # 150,00 × 15/30
        ("Surf", 500),  # 3 GB − 2,5 GB = 500 MB × 0,01
    ]
    assert docs[0]["plans"][0]["allowances"] == "2,5 GB surf"
