"""Golden invoices worked out by hand from the rule book (spec/billing-rules.md), on tests/fixtures/golden.toml.

Most tests are cases a bookkeeper can read (``tests/domain/invoice_text.py``): the docstring holds
the plan, the usage and the invoice it must give, with the hand calculation as comments; the
harness rates the usage (``rating.rate_period``), sums it per rate as the bill run's SQL does,
builds the invoice (``invoicing.build_invoice``) and compares it line by line and total by total.
The rest (credit notes, grants with their own terms) build the same steps in code.

Prices (incl. 25 % VAT): voice Sverige mobil 0.60 kr/min 60/1, Sverige fast 0.0115 kr/s 60/1,
servicenummer 0.60 kr/min 60/60, betalnummer 5.00 kr/min 60/60 + 1.00 kr per call, Norden
1.20 kr/min 1/1 + 0.50 kr per call (off-peak 0.60 kr/min); data 10 kr/GB = 1 öre per MB;
roaming zon 1: voice 6.00 kr/min 60/60, sms 2.00 kr, data 1.00 kr/MB, spend limit 100 kr.
"""

from __future__ import annotations

import re
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
from tests.domain.invoice_text import aggregate, check, invoice_case, parse

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


@invoice_case
def test_vat_example_249_kr_is_net_199_20_plus_vat_49_80(draft):
    """
    plan obegransad
    period 2026-10

    Obegränsad, 1 okt–31 okt     249,00 kr   # a whole month: the full fee
    ---
    Summa                        249,00 kr
    Moms 25 %                     49,80 kr   # 249,00 × 0,25 / 1,25; net 199,20; whole kronor already
    Att betala                   249,00 kr
    """
    assert draft.vat == (invoicing.VatRow(VAT25, 24_900, 19_920, 4_980),)
    [line] = draft.lines
    assert (line.quantity, line.unit, line.unit_price, line.kind) == (1, "mån", Decimal("249.00"), "fee")


@invoice_case
def test_ore_rounding_up_218_80_to_219(draft):
    """
    plan rorlig
    period 2026-10

    2026-10-04 08:00  data  16 980 MB           # 16 980 MB × 0,01 kr = 169,80 kr

    Rörlig, 1 okt–31 okt          49,00 kr
    Surf                         169,80 kr
    ---
    Summa                        218,80 kr
    Moms 25 %                     43,76 kr      # 218,80 × 0,2; net 175,04
    Öresavrundning                 0,20 kr      # to whole kronor, outside VAT
    Att betala                   219,00 kr
    """
    assert draft.vat == (invoicing.VatRow(VAT25, 21_880, 17_504, 4_376),)


@invoice_case
def test_ore_rounding_half_a_krona_goes_up(draft):
    """
    plan rorlig
    period 2026-10

    2026-10-04 08:00  data  5 150 MB            # 51,50 kr

    Rörlig, 1 okt–31 okt          49,00 kr
    Surf                          51,50 kr
    ---
    Summa                        100,50 kr
    Moms 25 %                     20,10 kr
    Öresavrundning                 0,50 kr      # ,50 rounds up
    Att betala                   101,00 kr
    """


@invoice_case
def test_ore_rounding_down(draft):
    """
    plan rorlig
    period 2026-10

    2026-10-04 08:00  data  5 140 MB            # 51,40 kr

    Rörlig, 1 okt–31 okt          49,00 kr
    Surf                          51,40 kr
    ---
    Summa                        100,40 kr
    Moms 25 %                     20,08 kr
    Öresavrundning                -0,40 kr
    Att betala                   100,00 kr
    """


@invoice_case
def test_several_vat_rates_on_one_invoice(draft):
    """
    plan obegransad
    period 2026-10
    one-off Tidning  60,00 kr  moms 6 %

    Obegränsad, 1 okt–31 okt     249,00 kr
    Tidning                       60,00 kr
    ---
    Summa                        309,00 kr
    Moms 6 %                       3,40 kr      # 60 × 6/106 = 3,396… → 3,40; net 56,60
    Moms 25 %                     49,80 kr
    Att betala                   309,00 kr
    """
    assert draft.vat == (
        invoicing.VatRow(Decimal("0.06"), 6_000, 5_660, 340),
        invoicing.VatRow(VAT25, 24_900, 19_920, 4_980),
    )


# --------------------------------------------------------------------------- plan change and proration


@invoice_case
def test_plan_change_mid_month(draft):
    """
    # September has 30 days: Liten (100,00 kr) 1–10 Sep = 10 days, Stor (250,00 kr) 11–30 Sep = 20 days.
    plan liten from 2026-09-01 until 2026-09-10
    plan stor from 2026-09-11
    period 2026-09

    # Liten's allowances × 10/30 in base units: data 3 GB → 1 GB; voice 600 s → 200 s.
    2026-09-05 12:00  data   1 500 MB                   # 1 000 MB included, 500 MB charged
    2026-09-06 12:00  voice  220 s  to +46739876543     # 200 s included, 20 s charged
    # Stor's allowances × 20/30: data 30 GB → 20 GB; voice unlimited. Nothing charged.
    2026-09-20 12:00  data   1 500 MB
    2026-09-21 12:00  voice  200 s  to +46739876543

    Liten 3 GB, 1 sep–10 sep       33,33 kr     # 100,00 × 10/30 = 33,333…
    Stor 30 GB, 11 sep–30 sep     166,67 kr     # 250,00 × 20/30 = 166,666…
    Surf                            5,00 kr     # 500 MB × 0,01 (used before the change: Liten's 1 GB)
    Samtal Sverige mobil            0,20 kr     # 20 s × 0,01
    ---
    Summa                         205,20 kr
    Moms 25 %                      41,04 kr     # net 164,16
    Öresavrundning                 -0,20 kr
    Att betala                    205,00 kr
    """
    fee_liten, fee_stor, data, voice = draft.lines
    assert (fee_liten.quantity, fee_stor.quantity) == (Decimal("0.3333"), Decimal("0.6667"))
    assert (data.quantity, data.unit, data.unit_price) == (Decimal("0.5"), "GB", Decimal("10.00"))
    assert (voice.quantity, voice.unit) == (Decimal("0.3333"), "min")  # 20 s = 0.3333 min at 0.60 kr/min


@invoice_case
def test_subscription_starting_mid_month(draft):
    """
    plan obegransad from 2026-10-22
    period 2026-10

    Obegränsad, 22 okt–31 okt     80,32 kr     # 10 of 31 days: 249,00 × 10/31 = 80,322…
    ---
    Summa                         80,32 kr
    Moms 25 %                     16,06 kr     # 16,064
    Öresavrundning                -0,32 kr
    Att betala                    80,00 kr
    """


@invoice_case
def test_subscription_ending_mid_month(draft):
    """
    plan liten until 2026-10-15                # 15 of 31 days
    period 2026-10

    # Voice allowance in seconds: 600 s × 15/31 = 290,3 → 290 s (a whole second, down).
    2026-10-02 10:00  voice  350 s  to +46739876543

    Liten 3 GB, 1 okt–15 okt      48,39 kr     # 100,00 × 15/31 = 48,387…
    Samtal Sverige mobil           0,60 kr     # 350 s − 290 s included = 60 s × 0,01
    ---
    Summa                         48,99 kr
    Moms 25 %                      9,80 kr     # 9,798
    Öresavrundning                 0,01 kr
    Att betala                    49,00 kr
    """


# --------------------------------------------------------------------------- increments and rounding once per line


@invoice_case
def test_increments_60_60_60_1_1_1_and_a_connection_fee(draft):
    """
    plan rorlig
    period 2026-10

    # A Tuesday, peak time.
    2026-10-06 14:22:05  voice  125 s  to +46812345678   # se-fast 60/1: 125 s × 0,0115 = 1,4375
    2026-10-06 14:22:05  voice   30 s  to +46812345678   # se-fast 60/1: 30 s → 60 s × 0,0115 = 0,69
    2026-10-06 14:22:05  voice  125 s  to +46771234567   # service 60/60: 125 s → 3 min × 0,60 = 1,80
    2026-10-06 14:22:05  voice  125 s  to +46739876543   # se-mobil 60/1: 125 s × 0,01 = 1,25
    2026-10-06 14:22:05  voice    0 s  to +46739876543   # 0 s: nothing
    2026-10-06 14:22:05  voice  125 s  to +4722123456    # norden 1/1: 125 s × 0,02 = 2,50, and 0,50 a call
    2026-10-06 14:22:05  voice    0 s  to +4722123456    # 0 s: no connection fee either

    Rörlig, 1 okt–31 okt          49,00 kr
    Samtal Norden                  2,50 kr
    Öppningsavgift Norden          0,50 kr     # 1 answered call
    Samtal Sverige fast            2,13 kr     # 1,4375 + 0,69 = 2,1275, rounded once
    Samtal Sverige mobil           1,25 kr
    Samtal Servicenummer           1,80 kr
    ---
    Summa                         57,18 kr
    Moms 25 %                     11,44 kr     # 11,436
    Öresavrundning                -0,18 kr
    Att betala                    57,00 kr
    """
    fee = draft.lines[2]
    assert (fee.quantity, fee.unit, fee.unit_price, fee.kind) == (1, "st", Decimal("0.5"), "connection_fee")
    assert draft.lines[3].quantity == Decimal("185")  # 125 + 60 billed seconds at 0.0115 kr/s


@invoice_case
def test_rounding_once_per_line_not_per_event(draft):
    """
    plan rorlig
    period 2026-10

    # Ten calls of 61 s to Sverige fast at 60/1: 61 × 0,0115 = 0,7015 kr each (0,70 if rounded per call).
    2026-10-06 10:00  voice  61 s  to +46812345678
    2026-10-06 10:01  voice  61 s  to +46812345678
    2026-10-06 10:02  voice  61 s  to +46812345678
    2026-10-06 10:03  voice  61 s  to +46812345678
    2026-10-06 10:04  voice  61 s  to +46812345678
    2026-10-06 10:05  voice  61 s  to +46812345678
    2026-10-06 10:06  voice  61 s  to +46812345678
    2026-10-06 10:07  voice  61 s  to +46812345678
    2026-10-06 10:08  voice  61 s  to +46812345678
    2026-10-06 10:09  voice  61 s  to +46812345678

    Rörlig, 1 okt–31 okt          49,00 kr
    Samtal Sverige fast            7,02 kr     # the exact sum 7,015 rounded once, half up (not 7,00)
    ---
    Summa                         56,02 kr
    Moms 25 %                     11,20 kr
    Öresavrundning                -0,02 kr
    Att betala                    56,00 kr
    """


def test_a_call_alone_rounds_to_0_70():
    """The other half of the rule above: each call on its own is 0,7015 kr → 0,70 kr."""
    events = [ev(f"2026-10-06T10:{i:02d}:00+02:00", "voice", 61, to="+46812345678") for i in range(10)]
    results = rated(on("rorlig"), period_for("2026-10"), events)
    assert [exact_to_ore(r.charge_exact) for r in results] == [70] * 10


@invoice_case
def test_data_is_rounded_up_to_the_increment_before_pricing(draft):
    """
    plan rorlig
    period 2026-10

    2026-10-04 08:00  data          1 B     # → 1 MB
    2026-10-04 09:00  data  1 000 001 B     # → 2 MB
    2026-10-04 10:00  data          0 B     # → nothing

    Rörlig, 1 okt–31 okt          49,00 kr
    Surf                           0,03 kr     # 3 MB × 0,01
    ---
    Summa                         49,03 kr
    Moms 25 %                      9,81 kr     # 9,806
    Öresavrundning                -0,03 kr
    Att betala                    49,00 kr
    """
    assert draft.lines[1].quantity == Decimal("0.003")  # GB


# --------------------------------------------------------------------------- allowances


@invoice_case
def test_allowance_exhausted_inside_one_call(draft):
    """
    plan liten                                 # 10 min = 600 s of calls
    period 2026-10

    2026-10-06 10:00  voice  550 s  to +46739876543    # all included
    2026-10-06 11:00  voice   80 s  to +46739876543    # 50 s included, 30 s charged

    Liten 3 GB, 1 okt–31 okt     100,00 kr
    Samtal Sverige mobil           0,30 kr     # 30 s × 0,01; no new 60 s first block (0,60) for the overage
    ---
    Summa                        100,30 kr
    Moms 25 %                     20,06 kr
    Öresavrundning                -0,30 kr
    Att betala                   100,00 kr
    """
    assert draft.lines[1].quantity == Decimal("0.5")  # 30 s = 0.5 min at 0.60 kr/min


@invoice_case
def test_usage_inside_the_allowance_gives_no_line(draft):
    """
    plan liten
    period 2026-10

    2026-10-06 10:00  data  2 GB

    Liten 3 GB, 1 okt–31 okt     100,00 kr
    ---
    Summa                        100,00 kr
    Moms 25 %                     20,00 kr
    Att betala                   100,00 kr
    """


# --------------------------------------------------------------------------- roaming and premium


@invoice_case
def test_eu_roaming_data_past_fair_use(draft):
    """
    plan obegransad           # 249,00 kr = 199,20 ex VAT; fair use 2 × 199,20 / (1,00 EUR × 10,00 kr) = 39,84 GB
    period 2026-10

    2026-10-05 12:00  data   30 GB  in ES                     # within fair use, unlimited: free
    2026-10-20 12:00  data   10 GB  in FR                     # 9,84 GB within, 0,16 GB beyond
    2026-10-21 12:00  data    5 GB                            # at home: no fair-use limit
    2026-10-21 13:00  voice 300 s  to +46739876543  in ES     # roam like at home: free

    Obegränsad, 1 okt–31 okt                     249,00 kr
    Surf i EU/EES utöver skälig användning         1,92 kr     # 0,16 GB × 12,00
    ---
    Summa                                        250,92 kr
    Moms 25 %                                     50,18 kr     # 50,184; net 200,74
    Öresavrundning                                 0,08 kr
    Att betala                                   251,00 kr
    """
    surcharge = draft.lines[1]
    assert (surcharge.quantity, surcharge.unit, surcharge.unit_price) == (Decimal("0.16"), "GB", Decimal("12.00"))


NON_EU = """
    plan stor
    period 2026-10

    2026-10-09 12:00  voice  61 s  to +46739876543  in US     # 2 min × 6,00 = 12,00
    2026-10-09 12:05  sms          to +46739876543  in US     # 2,00
    2026-10-10 12:00  data   50 MB  in US                     # 50,00 (spent 50)
    2026-10-11 12:00  data   30 MB  in US                     # 30,00 (spent 80: the 80 % notice)
    2026-10-12 12:00  data   30 MB  in US                     # 20,00, capped (spent 100: the 100 % notice)
    2026-10-13 12:00  data   10 MB  in US                     # 0,00: past the limit

    Stor 30 GB, 1 okt–31 okt            250,00 kr
    Surf utomlands, Roaming zon 1       100,00 kr     # 120 MB used, charged up to the 100 kr limit
    SMS utomlands, Roaming zon 1          2,00 kr
    Samtal utomlands, Roaming zon 1      12,00 kr     # no allowance outside the EU/EEA
    ---
    Summa                               364,00 kr
    Moms 25 %                            72,80 kr
    Att betala                          364,00 kr
"""


def test_non_eu_zone_and_bill_shock_cap():
    draft = check(NON_EU)
    assert draft.lines[1].quantity == Decimal("120")  # MB
    case = parse(NON_EU)
    _, rater = rate_period(CAT, case.subscription, period_for("2026-10"), case.events["2026-10"])
    assert [(n.threshold, n.spent_ore, n.limit_ore) for n in rater.notifications] == [
        ("0.8", 8_000, 10_000),
        ("1.0", 10_000, 10_000),
    ]


@invoice_case
def test_premium_number(draft):
    """
    plan obegransad                   # premium numbers are in no allowance, not even Obegränsad's
    period 2026-10

    2026-10-06 14:00  voice  125 s  to +46900123456     # 60/60: 3 min × 5,00 = 15,00, and 1,00 a call
    2026-10-06 14:10  sms           to +46900123456     # 5,00

    Obegränsad, 1 okt–31 okt     249,00 kr
    SMS Betalnummer                5,00 kr
    Samtal Betalnummer            15,00 kr
    Öppningsavgift Betalnummer     1,00 kr
    ---
    Summa                        270,00 kr
    Moms 25 %                     54,00 kr
    Att betala                   270,00 kr
    """


@invoice_case
def test_off_peak_calls_get_their_own_line(draft):
    """
    plan rorlig          # Norden 1/1: peak 0,02 kr/s; off-peak (weekdays 18–08, weekends) 0,01 kr/s; 0,50 a call
    period 2026-10

    2026-10-06 17:59        voice  100 s  to +4722123456     # Tuesday, peak: 2,00
    2026-10-06 18:00        voice  100 s  to +4722123456     # Tuesday, off-peak: 1,00
    2026-10-25 02:30+01:00  voice  100 s  to +4722123456     # Sunday, the DST night: off-peak 1,00

    Rörlig, 1 okt–31 okt          49,00 kr
    Samtal Norden                  2,00 kr
    Öppningsavgift Norden          0,50 kr
    Samtal Norden lågtrafik        2,00 kr
    Öppningsavgift Norden          1,00 kr     # 2 calls × 0,50
    ---
    Summa                         54,50 kr
    Moms 25 %                     10,90 kr
    Öresavrundning                 0,50 kr
    Att betala                    55,00 kr
    """
    assert draft.lines[3].unit_price == Decimal("0.60")


# --------------------------------------------------------------------------- discounts


@pytest.mark.parametrize("label", ["2026-10", "2026-11", "2026-12"])
def test_three_months_free_is_active_in_periods_1_to_3(label):
    grant = invoicing.DiscountGrant("3-man-gratis", "2026-10", subscription_id=1)
    draft = invoice(on("liten"), label, grants=[grant])
    assert amounts(draft)[1:] == [("3 månader utan månadsavgift", -10_000)]  # 100 % of 100,00
    line = draft.lines[1]
    assert (line.kind, line.vat_rate) == ("discount", VAT25)  # the VAT rate of what it discounts
    check_totals(draft, gross=0, vat=0, rounding=0, due=0)


@invoice_case
def test_three_months_free_is_over_in_period_4(draft):
    """
    plan liten
    period 2027-01
    discount 3-man-gratis from 2026-10

    Liten 3 GB, 1 jan–31 jan     100,00 kr
    ---
    Summa                        100,00 kr
    Moms 25 %                     20,00 kr
    Att betala                   100,00 kr
    """


@invoice_case
def test_a_discount_does_not_start_before_its_first_period(draft):
    """
    plan liten
    period 2026-09
    discount 3-man-gratis from 2026-10

    Liten 3 GB, 1 sep–30 sep     100,00 kr
    ---
    Summa                        100,00 kr
    Moms 25 %                     20,00 kr
    Att betala                   100,00 kr
    """


@invoice_case
def test_plan_fee_discount_does_not_touch_usage(draft):
    """
    plan liten
    period 2026-10
    discount 3-man-gratis from 2026-10           # 100 % off the plan fee

    2026-10-06 10:00  data  3 500 MB              # 500 MB over the 3 GB

    Liten 3 GB, 1 okt–31 okt        100,00 kr
    Surf                              5,00 kr     # stays
    3 månader utan månadsavgift    -100,00 kr
    ---
    Summa                             5,00 kr
    Moms 25 %                         1,00 kr
    Att betala                        5,00 kr
    """


@invoice_case
def test_percentage_discount_on_prorated_fees_is_rounded_per_line(draft):
    """
    plan liten from 2026-09-01 until 2026-09-10
    plan stor from 2026-09-11
    period 2026-09
    discount halva from 2026-09 account          # 50 % of each fee line

    Liten 3 GB, 1 sep–10 sep       33,33 kr
    Stor 30 GB, 11 sep–30 sep     166,67 kr
    Halva månadsavgiften          -16,67 kr     # 33,33 × 0,5 = 16,665 → 16,67
    Halva månadsavgiften          -83,34 kr     # 166,67 × 0,5 = 83,335 → 83,34
    ---
    Summa                          99,99 kr
    Moms 25 %                      20,00 kr     # 19,998
    Öresavrundning                  0,01 kr
    Att betala                    100,00 kr
    """


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


@invoice_case
def test_fixed_invoice_discount(draft):
    """
    plan obegransad
    period 2026-10
    discount rabatt-25 from 2026-10 account

    Obegränsad, 1 okt–31 okt     249,00 kr
    Rabatt 25 kr                 -25,00 kr
    ---
    Summa                        224,00 kr
    Moms 25 %                     44,80 kr     # net 179,20
    Att betala                   224,00 kr
    """


@invoice_case
def test_fixed_invoice_discount_is_split_over_vat_rates(draft):
    """
    plan obegransad from 2026-10-01
    period 2026-10
    one-off Tidning  50,00 kr  moms 6 %
    discount rabatt-25 from 2026-10 account

    # 25,00 off is split in proportion to the rates' amounts: 2 500 × 24 900 / 29 900 = 2 081,9 and
    # 418,06 → by largest remainder 20,82 + 4,18.
    Obegränsad, 1 okt–31 okt     249,00 kr
    Tidning                       50,00 kr
    Rabatt 25 kr                  -4,18 kr
    Rabatt 25 kr                 -20,82 kr
    ---
    Summa                        274,00 kr
    Moms 6 %                       2,59 kr     # 50,00 − 4,18 = 45,82 × 6/106 = 2,593…
    Moms 25 %                     45,64 kr     # 249,00 − 20,82 = 228,18 × 0,2 = 45,636
    Att betala                   274,00 kr
    """
    discount = [(ln.vat_rate, ln.amount_ore) for ln in draft.lines if ln.kind == "discount"]
    assert discount == [(Decimal("0.06"), -418), (VAT25, -2_082)]


# --------------------------------------------------------------------------- late usage


@invoice_case
def test_late_usage_gets_its_own_line_naming_its_period(draft):
    """
    plan rorlig
    period 2026-10

    late 2026-09          # a September session that arrives after September was invoiced
    2026-09-30 23:00  data  250 MB

    Rörlig, 1 okt–31 okt          49,00 kr
    Surf (period 2026-09)          2,50 kr     # 250 MB × 0,01
    ---
    Summa                         51,50 kr
    Moms 25 %                     10,30 kr
    Öresavrundning                 0,50 kr
    Att betala                    52,00 kr
    """
    assert (draft.lines[1].kind, draft.lines[1].period_label) == ("late_usage", "2026-09")


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


# --------------------------------------------------------------------------- the case language itself


def test_a_case_with_a_wrong_amount_fails_and_shows_both_invoices():
    case = """
        plan obegransad
        period 2026-10

        Obegränsad, 1 okt–31 okt     249,00 kr
        ---
        Summa                        249,00 kr
        Moms 25 %                     49,00 kr
        Att betala                   249,00 kr
    """
    with pytest.raises(AssertionError, match=r"(?s)the case says:.*49,00 kr.*the invoice is:.*49,80 kr"):
        check(case)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("2026-10-04 08:00  data  12 s", "voice is counted in s"),
        ("Surf  12,00", "an amount ends in kr"),
        ("discount halva 2026-10", "discount <id> from YYYY-MM"),
        ("plan liten since 2026-10-01", "'from' and 'until'"),
    ],
)
def test_a_case_line_that_cannot_be_read_is_named(line, says):
    text = f"plan liten\nperiod 2026-10\n{line}\n---\nAtt betala  0,00 kr"
    with pytest.raises(ValueError, match=rf"line 3: .*{re.escape(says)}"):
        parse(text)
