"""rating: increments, allowances, roaming, time bands and rejections, event by event.

Prices are those of tests/fixtures/golden.toml (see its header). Charges are exact; a
comment shows each figure by hand. ``kr(x)`` turns an exact charge into kronor.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from backend_stub.domain.catalogue import UNLIMITED, load_catalogue
from backend_stub.domain.money import EXACT_PER_KR
from backend_stub.domain.periods import PlanSegment, Subscription, period_containing, period_for, validate_segments
from backend_stub.domain.rating import (
    GB,
    MB,
    Notification,
    RatedEvent,
    Rejection,
    UsageEvent,
    billed_bytes,
    billed_seconds,
    fair_use_bytes,
    prorated_units,
    rate_period,
)
from tests.conftest import FIXTURES

CAT = load_catalogue(FIXTURES / "golden.toml")
MSISDN = "+46701234567"
OCT = period_for("2026-10")  # 31 days
SEP = period_for("2026-09")  # 30 days
_ids = iter(range(1, 1_000_000))


def ev(
    started: str, service: str, amount: int = 0, *, to: str = "", country: str = "", rid: str | None = None
) -> UsageEvent:
    """A usage event: ``amount`` is seconds for voice, bytes for data (ignored for sms/mms)."""
    return UsageEvent(
        record_id=rid or f"r{next(_ids):06d}",
        msisdn=MSISDN,
        service=service,
        started_at=int(datetime.fromisoformat(started).timestamp()),
        duration_s=amount if service == "voice" else 0,
        volume_bytes=amount if service == "data" else 0,
        called_number=to,
        visited_country=country,
    )


def subscription(*segments: PlanSegment) -> Subscription:
    return Subscription(id=1, number="S-1", customer_id=1, msisdn=MSISDN, segments=segments)


def on(plan_id: str) -> Subscription:
    """A subscription holding ``plan_id`` since before the test periods."""
    return subscription(PlanSegment(plan_id, date(2026, 1, 1)))


def rate(plan_id: str, *events: UsageEvent, period=OCT) -> list[RatedEvent | Rejection]:
    results, _ = rate_period(CAT, on(plan_id), period, list(events))
    return results


def kr(exact: int) -> Decimal:
    return Decimal(exact) / EXACT_PER_KR


# Liten 1–10 September, then Stor from 11 September (September has 30 days).
PLAN_CHANGE = (PlanSegment("liten", date(2026, 9, 1), date(2026, 9, 10)), PlanSegment("stor", date(2026, 9, 11)))
TUESDAY = "2026-10-06T14:22:05+02:00"  # a weekday, peak time


# --------------------------------------------------------------------------- charging increments


@pytest.mark.parametrize(
    ("duration", "first", "nxt", "billed"),
    [
        (0, 60, 60, 0),  # a call of 0 s bills nothing
        (1, 60, 60, 60),
        (60, 60, 60, 60),
        (61, 60, 60, 120),  # 60/60: whole minutes
        (125, 60, 60, 180),
        (30, 60, 1, 60),  # 60/1: a first minute ...
        (61, 60, 1, 61),  # ... then seconds
        (125, 60, 1, 125),
        (125, 1, 1, 125),
        (1, 1, 1, 1),
        (95, 30, 10, 100),  # 30 + ceil(65 / 10) × 10
        (-5, 60, 60, 0),
    ],
)
def test_billed_seconds(duration, first, nxt, billed):
    assert billed_seconds(duration, first, nxt) == billed


@pytest.mark.parametrize(
    ("volume", "increment", "billed"),
    [(0, 1_000, 0), (1, 1_000, 1_000), (1_000, 1_000, 1_000), (1_001, 1_000, 2_000), (1, MB, MB), (MB + 1, MB, 2 * MB)],
)
def test_billed_bytes(volume, increment, billed):
    assert billed_bytes(volume, increment) == billed


def test_125_s_at_60_1_is_charged_125_s():
    # 125 s at 60/1 → 60 + 65 = 125 s; 125 × 0.0115 = 1.4375 kr.
    [r] = rate("rorlig", ev(TUESDAY, "voice", 125, to="+46812345678"))
    assert (r.billed_units, r.included_units, r.charged_units) == (125, 0, 125)
    assert kr(r.charge_exact) == Decimal("1.4375")
    assert r.category == "domestic"
    assert r.rate_key == "test/voice/se-fast"
    assert r.destination == "se-fast"


def test_30_s_at_60_1_is_charged_a_whole_first_minute():
    # 30 s at 60/1 → 60 s; 60 × 0.0115 = 0.69 kr.
    [r] = rate("rorlig", ev(TUESDAY, "voice", 30, to="+46812345678"))
    assert r.billed_units == 60
    assert kr(r.charge_exact) == Decimal("0.69")


def test_125_s_at_60_60_is_charged_three_minutes():
    # 125 s at 60/60 → 180 s = 3 min; 3 × 0.60 = 1.80 kr.
    [r] = rate("rorlig", ev(TUESDAY, "voice", 125, to="+46771234567"))
    assert r.billed_units == 180
    assert kr(r.charge_exact) == Decimal("1.80")


def test_125_s_at_1_1_is_charged_per_second_plus_connection_fee():
    # 125 s at 1/1 → 125 s × 0.02 kr = 2.50 kr, plus the 0.50 kr connection fee.
    [r] = rate("rorlig", ev(TUESDAY, "voice", 125, to="+4722123456"))
    assert r.billed_units == 125
    assert kr(r.fee_exact) == Decimal("0.50")
    assert kr(r.charge_exact) == Decimal("3.00")
    assert r.category == "international"


def test_a_0_s_call_bills_nothing_and_no_connection_fee():
    [r] = rate("rorlig", ev(TUESDAY, "voice", 0, to="+4722123456"))
    assert isinstance(r, RatedEvent)
    assert (r.billed_units, r.charged_units, r.charge_exact, r.fee_exact) == (0, 0, 0, 0)


def test_premium_number_voice_and_sms():
    # 125 s at 60/60 → 3 min × 5.00 = 15.00 kr + 1.00 kr connection fee; sms 5.00 kr. No allowance covers them.
    voice, sms = rate(
        "obegransad",
        ev(TUESDAY, "voice", 125, to="+46900123456"),
        ev("2026-10-06T14:30:00+02:00", "sms", to="+46900123456"),
    )
    assert voice.category == "premium"
    assert voice.included_units == 0
    assert kr(voice.charge_exact) == Decimal("16.00")
    assert kr(voice.fee_exact) == Decimal("1.00")
    assert sms.category == "premium"
    assert kr(sms.charge_exact) == Decimal("5.00")


def test_sms_and_mms_are_per_message():
    sms, mms = rate("rorlig", ev(TUESDAY, "sms", to="+46739876543"), ev(TUESDAY, "mms", to="+46739876543"))
    assert (sms.billed_units, kr(sms.charge_exact)) == (1, Decimal("0.50"))
    assert (mms.billed_units, kr(mms.charge_exact)) == (1, Decimal("1.00"))


# --------------------------------------------------------------------------- data


def test_data_is_rounded_up_to_the_increment():
    # 1 byte → 1 MB; 1 000 001 bytes → 2 MB; 0 bytes → nothing. 10 kr/GB = 0.01 kr per MB.
    one, two, zero = rate(
        "rorlig",
        ev(TUESDAY, "data", 1),
        ev("2026-10-06T15:00:00+02:00", "data", 1_000_001),
        ev("2026-10-06T16:00:00+02:00", "data", 0),
    )
    assert (one.billed_units, kr(one.charge_exact)) == (MB, Decimal("0.01"))
    assert (two.billed_units, kr(two.charge_exact)) == (2 * MB, Decimal("0.02"))
    assert (zero.billed_units, zero.charge_exact) == (0, 0)


# --------------------------------------------------------------------------- allowances


def test_allowance_exhausted_inside_one_call_charges_the_rest_without_a_new_minimum():
    # Liten: 10 min = 600 s. 550 s are included; of the next 80 s call 50 s are included and
    # 30 s charged: 30 × 0.01 = 0.30 kr (not a new 60 s first block, which would be 0.60 kr).
    first, second = rate(
        "liten",
        ev("2026-10-06T10:00:00+02:00", "voice", 550, to="+46739876543"),
        ev("2026-10-06T11:00:00+02:00", "voice", 80, to="+46739876543"),
    )
    assert (first.billed_units, first.included_units, first.charged_units, first.charge_exact) == (550, 550, 0, 0)
    assert (second.billed_units, second.included_units, second.charged_units) == (80, 50, 30)
    assert kr(second.charge_exact) == Decimal("0.30")


def test_a_short_call_still_takes_its_whole_first_block_from_the_allowance():
    # 10 s at 60/1 bills 60 s, and those 60 s come off the allowance: 600 − 60 = 540 s left.
    results, rater = rate_period(CAT, on("liten"), OCT, [ev(TUESDAY, "voice", 10, to="+46739876543")])
    assert results[0].included_units == 60
    assert rater.remaining()["voice"] == 540


def test_allowances_are_consumed_in_event_order_not_arrival_order():
    # Two calls of 400 s against 600 s: the earlier one is fully included, the later gets 200 s.
    late = ev("2026-10-20T10:00:00+02:00", "voice", 400, to="+46739876543", rid="a")
    early = ev("2026-10-05T10:00:00+02:00", "voice", 400, to="+46739876543", rid="b")
    results = rate("liten", late, early)
    by_id = {r.record_id: r for r in results}
    assert by_id["b"].included_units == 400
    assert by_id["a"].included_units == 200
    assert kr(by_id["a"].charge_exact) == Decimal("2.00")  # 200 s × 0.01


def test_events_at_the_same_second_are_ordered_by_record_id():
    # Same start: record "x1" comes before "x2", whatever the list order.
    a = ev(TUESDAY, "voice", 400, to="+46739876543", rid="x2")
    b = ev(TUESDAY, "voice", 400, to="+46739876543", rid="x1")
    for events in ([a, b], [b, a]):
        by_id = {r.record_id: r for r in rate("liten", *events)}
        assert by_id["x1"].included_units == 400
        assert by_id["x2"].included_units == 200


def test_sms_allowance_then_overage():
    # Liten: 100 sms included; the 101st costs 0.50 kr.
    events = [ev(f"2026-10-06T10:{i // 60:02d}:{i % 60:02d}+02:00", "sms", to="+46739876543") for i in range(101)]
    results = rate("liten", *events)
    assert sum(r.included_units for r in results) == 100
    assert [kr(r.charge_exact) for r in results if r.charge_exact] == [Decimal("0.50")]


def test_unlimited_allowances_never_run_out():
    events = [ev(f"2026-10-{day:02d}T10:00:00+02:00", "data", 50 * GB) for day in range(1, 31)]
    results, rater = rate_period(CAT, on("obegransad"), OCT, events)
    assert all(r.included_units == r.billed_units and r.charge_exact == 0 for r in results)
    assert rater.remaining()["data"] == UNLIMITED


def test_data_allowance_then_overage_in_one_session():
    # Liten: 3 GB. A 3.5 GB session: 3 000 MB included, 500 MB × 0.01 = 5.00 kr.
    [r] = rate("liten", ev(TUESDAY, "data", 3_500 * MB))
    assert (r.included_units, r.charged_units) == (3 * GB, 500 * MB)
    assert kr(r.charge_exact) == Decimal("5.00")


def test_a_rate_without_allowance_pool_is_always_charged():
    # The service number rate draws from no pool, even on an unlimited plan: 61 s at 60/60 → 2 × 0.60.
    [r] = rate("obegransad", ev(TUESDAY, "voice", 61, to="+46771234567"))
    assert (r.included_units, kr(r.charge_exact)) == (0, Decimal("1.20"))


def test_extra_allowances_add_to_the_pool():
    # An add-on of 1 GB on 2026-10-10 on top of Liten's 3 GB: a 4 GB session is all included.
    results, rater = rate_period(
        CAT,
        on("liten"),
        OCT,
        [ev("2026-10-20T10:00:00+02:00", "data", 4 * GB)],
        extra_allowances=[(date(2026, 10, 10), "data", GB)],
    )
    assert results[0].included_units == 4 * GB
    assert rater.remaining()["data"] == 0


def test_late_events_use_what_was_left_of_the_period():
    # 500 s were already invoiced (frozen); a late 200 s call gets the 100 s left and pays for 100 s.
    frozen = [ev("2026-10-05T10:00:00+02:00", "voice", 500, to="+46739876543")]
    late = [ev("2026-10-06T10:00:00+02:00", "voice", 200, to="+46739876543")]
    results, _ = rate_period(CAT, on("liten"), OCT, late, frozen=frozen)
    assert len(results) == 1
    assert (results[0].included_units, results[0].charged_units) == (100, 100)
    assert kr(results[0].charge_exact) == Decimal("1.00")


# --------------------------------------------------------------------------- proration


@pytest.mark.parametrize(
    ("amount", "days", "period_days", "expected"),
    [
        (3 * GB, 10, 30, 1 * GB),  # 3 GB × 10/30 = 1 GB
        (1 * GB, 10, 30, 333_333_333),  # 1 GB × 10/30 = 333 333 333,3 bytes → down to a whole byte
        (5 * GB, 15, 30, 2_500_000_000),  # 5 GB × 15/30 = 2,5 GB (not 2 GB)
        (5_000 * MB, 15, 30, 2_500_000_000),  # the same allowance spelled in MB: the same bytes
        (600, 10, 30, 200),  # 10 min × 10/30 = 200 s
        (100, 10, 30, 33),  # 100 sms × 10/30 = 33.3 → 33
        (30 * GB, 30, 30, 30 * GB),  # a whole period is not prorated
        (UNLIMITED, 1, 31, UNLIMITED),
    ],
)
def test_prorated_allowance_is_rounded_down_to_a_whole_base_unit(amount, days, period_days, expected):
    assert prorated_units(amount, days, period_days) == expected


def test_plan_change_mid_month_uses_each_plans_prorated_allowance():
    # Liten 1–10 Sep (10 of 30 days): 3 GB × 10/30 = 1 GB, 600 s × 10/30 = 200 s.
    # Stor 11–30 Sep (20 days): 30 GB × 20/30 = 20 GB, unlimited voice.
    sub = subscription(*PLAN_CHANGE)
    events = [
        ev("2026-09-05T12:00:00+02:00", "data", 1_500 * MB),  # 1 000 MB included, 500 MB × 0.01 = 5.00 kr
        ev("2026-09-06T12:00:00+02:00", "voice", 220, to="+46739876543"),  # 200 s included, 20 s × 0.01 = 0.20
        ev("2026-09-20T12:00:00+02:00", "data", 1_500 * MB),  # inside Stor's 20 GB
        ev("2026-09-21T12:00:00+02:00", "voice", 200, to="+46739876543"),  # Stor: unlimited
    ]
    results, rater = rate_period(CAT, sub, SEP, events)
    assert [r.plan_id for r in results] == ["liten", "liten", "stor", "stor"]
    assert [kr(r.charge_exact) for r in results] == [Decimal("5.00"), Decimal("0.20"), 0, 0]
    assert [r.included_units for r in results] == [1_000 * MB, 200, 1_500 * MB, 200]
    assert rater.remaining() == {"data": 20 * GB - 1_500 * MB, "voice": UNLIMITED, "sms": UNLIMITED, "mms": UNLIMITED}


def test_the_plan_of_an_event_follows_stockholm_local_date():
    # 2026-09-10T22:30Z is 11 Sep 00:30 in Stockholm: the new plan (Stor) applies.
    sub = subscription(*PLAN_CHANGE)
    results, _ = rate_period(CAT, sub, SEP, [ev("2026-09-10T22:30:00+00:00", "data", MB)])
    assert results[0].plan_id == "stor"


# --------------------------------------------------------------------------- EU roaming


def test_fair_use_volume_follows_regulation_2022_612():
    # Obegränsad 249.00 kr incl. VAT = 199.20 ex VAT; cap 1.00 EUR × 10.00 kr = 10 kr/GB.
    # 2 × 199.20 / 10 = 39.84 GB = 39 840 MB.
    assert fair_use_bytes(CAT, CAT.plan("obegransad"), 2026, 31, 31) == 39_840 * MB
    # Stor 250.00 → 200 ex VAT → 40 GB; for 20 of 30 days: 26.666… GB → 26 666 666 666 bytes (a whole
    # byte, down: computed in bytes like the allowances, not in MB).
    assert fair_use_bytes(CAT, CAT.plan("stor"), 2026, 30, 30) == 40 * GB
    assert fair_use_bytes(CAT, CAT.plan("stor"), 2026, 20, 30) == 26_666_666_666
    # Liten 100.00 → 80 ex VAT → 16 GB; 7 of 30 days: 16 × 7/30 = 3.7333… GB → 3 733 333 333 bytes.
    assert fair_use_bytes(CAT, CAT.plan("liten"), 2026, 7, 30) == 3_733_333_333


def test_eu_roaming_is_like_at_home():
    # A call from Spain to a Swedish mobile uses the domestic rate and allowance.
    [r] = rate("liten", ev(TUESDAY, "voice", 125, to="+46739876543", country="ES"))
    assert r.category == "eu_roaming"
    assert r.rate_key == "test/voice/se-mobil"
    assert r.included_units == 125


def test_eu_roaming_calls_to_eea_numbers_cost_a_call_home():
    # Roam like at home (Regulation (EU) 2022/612 art. 4): from Spain, a call to Norway (EEA) is priced
    # and counted like a call to a Swedish mobile; the same call from home is an international call.
    roaming, home = rate(
        "liten", ev(TUESDAY, "voice", 125, to="+4791234567", country="ES"), ev(TUESDAY, "voice", 125, to="+4791234567")
    )
    assert (roaming.category, roaming.rate_key, roaming.included_units) == ("eu_roaming", "test/voice/se-mobil", 125)
    assert roaming.charge_exact == 0 and roaming.destination == "norden"  # the called class is still shown
    assert (home.category, home.rate_key) == ("international", "test/voice/norden")
    assert kr(home.charge_exact) == Decimal("0.50") + Decimal("2.50")  # connection fee + 125 s × 0.02
    # An SMS to Norway from France takes the domestic SMS rate and allowance too.
    [sms] = rate("liten", ev(TUESDAY, "sms", to="+4791234567", country="FR"))
    assert (sms.rate_key, sms.included_units) == ("test/sms/se-mobil", 1)


def test_eu_roaming_calls_outside_the_eea_stay_international():
    # A call from Spain to the USA is not a regulated roaming call: the international rate applies.
    [r] = rate("liten", ev(TUESDAY, "voice", 60, to="+12025550100", country="ES"))
    assert (r.category, r.rate_key, r.included_units) == ("eu_roaming", "test/voice/usa", 0)
    assert kr(r.charge_exact) == Decimal("3.00")


def test_eu_roaming_data_past_fair_use_is_surcharged():
    # Obegränsad: fair use 39 840 MB. 30 GB in Spain, then 10 GB in France: 9 840 MB within fair use
    # (from the unlimited allowance), 160 MB beyond: 0.16 GB × 12.00 kr = 1.92 kr.
    first, second = rate(
        "obegransad",
        ev("2026-10-05T12:00:00+02:00", "data", 30 * GB, country="ES"),
        ev("2026-10-20T12:00:00+02:00", "data", 10 * GB, country="FR"),
    )
    assert (first.surcharge_units, first.charge_exact) == (0, 0)
    assert second.category == "eu_roaming"
    assert second.included_units == 9_840 * MB
    assert second.surcharge_units == 160 * MB
    assert kr(second.surcharge_exact) == kr(second.charge_exact) == Decimal("1.92")


def test_home_data_does_not_use_the_fair_use_volume():
    # 45 GB at home, then 1 GB in Germany: the fair-use volume is untouched, so no surcharge.
    home, roam = rate(
        "obegransad",
        ev("2026-10-05T12:00:00+02:00", "data", 45 * GB),
        ev("2026-10-20T12:00:00+02:00", "data", GB, country="DE"),
    )
    assert home.category == "domestic"
    assert roam.surcharge_units == 0


def test_eu_roaming_data_beyond_the_allowance_and_fair_use():
    # Liten: 3 GB allowance, fair use 2 × 80 / 10 = 16 GB. 20 GB in Spain:
    # 16 GB within fair use → 3 GB included + 13 GB × 10 kr = 130.00 kr; 4 GB surcharged × 12 kr = 48.00 kr.
    [r] = rate("liten", ev(TUESDAY, "data", 20 * GB, country="ES"))
    assert (r.included_units, r.charged_units, r.surcharge_units) == (3 * GB, 13 * GB, 4 * GB)
    assert kr(r.charge_exact - r.surcharge_exact) == Decimal("130.00")
    assert kr(r.surcharge_exact) == Decimal("48.00")


# --------------------------------------------------------------------------- roaming outside the EU/EEA


def test_non_eu_zone_rates_with_no_allowance():
    # In the USA, Obegränsad's allowances do not apply: 61 s at 60/60 → 2 min × 6.00 = 12.00 kr; sms 2.00 kr.
    voice, sms = rate(
        "obegransad",
        ev(TUESDAY, "voice", 61, to="+46739876543", country="US"),
        ev("2026-10-06T15:00:00+02:00", "sms", to="+46739876543", country="US"),
    )
    assert (voice.category, voice.rate_key, voice.destination) == ("roaming", "roaming/zon-1/voice", "zon-1")
    assert (voice.billed_units, voice.included_units) == (120, 0)
    assert kr(voice.charge_exact) == Decimal("12.00")
    assert kr(sms.charge_exact) == Decimal("2.00")


def test_non_eu_data_stops_being_charged_at_the_spend_limit_with_notices():
    # Limit 100 kr; 1.00 kr/MB. 50 MB → 50 kr; 30 MB → 80 kr (80 %); 30 MB → only 20 kr (100 %); 10 MB → 0.
    events = [
        ev(f"2026-10-{10 + i}T12:00:00+02:00", "data", mb * MB, country="US", rid=f"d{i}")
        for i, mb in enumerate([50, 30, 30, 10])
    ]
    results, rater = rate_period(CAT, on("stor"), OCT, events)
    assert [kr(r.charge_exact) for r in results] == [Decimal(50), Decimal(30), Decimal(20), Decimal(0)]
    assert [r.charged_units for r in results] == [50 * MB, 30 * MB, 30 * MB, 10 * MB]
    assert rater.notifications == [
        Notification("d1", "0.8", 8_000, 10_000),
        Notification("d2", "1.0", 10_000, 10_000),
    ]


def test_the_spend_limit_is_not_touched_by_eu_or_home_data():
    results, rater = rate_period(CAT, on("rorlig"), OCT, [ev(TUESDAY, "data", 20 * GB, country="ES")])
    assert results[0].charge_exact > 100 * EXACT_PER_KR
    assert rater.notifications == []


# --------------------------------------------------------------------------- off-peak


@pytest.mark.parametrize(
    ("started", "offpeak"),
    [
        ("2026-10-06T17:59:59+02:00", False),  # Tuesday, just before 18:00
        ("2026-10-06T18:00:00+02:00", True),
        ("2026-10-07T07:59:00+02:00", True),
        ("2026-10-07T08:00:00+02:00", False),
        ("2026-10-10T12:00:00+02:00", True),  # Saturday
        ("2026-10-06T16:00:00+00:00", True),  # 16:00 UTC = 18:00 in Stockholm (CEST)
        ("2026-03-27T06:30:00+00:00", True),  # Friday before DST: 07:30 CET → off-peak
        ("2026-03-30T06:30:00+00:00", False),  # Monday after DST began 29 Mar: 08:30 CEST → peak
        ("2026-10-26T06:30:00+00:00", True),  # Monday after DST ended 25 Oct: 07:30 CET → off-peak
        ("2026-10-26T07:00:00+00:00", False),  # 08:00 CET → peak
    ],
)
def test_off_peak_band_by_stockholm_local_time(started, offpeak):
    period = period_for(started[:7])
    [r] = rate("rorlig", ev(started, "voice", 60, to="+4722123456"), period=period)
    assert r.offpeak is offpeak
    # 60 s at 1/1: peak 60 × 0.02 = 1.20 kr, off-peak 60 × 0.01 = 0.60 kr; plus 0.50 kr fee either way.
    assert kr(r.charge_exact) == (Decimal("1.10") if offpeak else Decimal("1.70"))


def test_the_whole_call_takes_the_band_of_its_start():
    # Starts 17:59 on a Tuesday and lasts 10 minutes: all at peak, 600 × 0.02 + 0.50 = 12.50 kr.
    [r] = rate("rorlig", ev("2026-10-06T17:59:00+02:00", "voice", 600, to="+4722123456"))
    assert r.offpeak is False
    assert kr(r.charge_exact) == Decimal("12.50")


def test_rates_without_an_off_peak_price_ignore_the_band():
    [r] = rate("rorlig", ev("2026-10-10T12:00:00+02:00", "voice", 60, to="+46812345678"))
    assert r.offpeak is False


# --------------------------------------------------------------------------- rejections


def test_unknown_destination_is_rejected_not_free():
    [r] = rate("obegransad", ev(TUESDAY, "voice", 60, to="+442012345678", rid="x"))
    assert r == Rejection("x", "called_number", "unknown destination +442012345678")


def test_a_destination_the_tariff_does_not_price_is_rejected():
    [r] = rate("obegransad", ev(TUESDAY, "sms", to="+12125550100", rid="x"))
    assert r == Rejection("x", "called_number", "tariff test has no sms rate for USA")


def test_unknown_visited_country_is_rejected():
    [r] = rate("obegransad", ev(TUESDAY, "data", MB, country="JP", rid="x"))
    assert r == Rejection("x", "visited_country", "no roaming zone for country JP")


def test_no_active_subscription_is_rejected():
    sub = subscription(PlanSegment("liten", date(2026, 10, 10), date(2026, 10, 20)))
    events = [
        ev("2026-10-09T23:59:59+02:00", "sms", to="+46739876543", rid="before"),
        ev("2026-10-10T00:00:00+02:00", "sms", to="+46739876543", rid="first"),
        ev("2026-10-21T00:00:00+02:00", "sms", to="+46739876543", rid="after"),
    ]
    results, _ = rate_period(CAT, sub, OCT, events)
    by_id = {r.record_id: r for r in results}
    assert by_id["before"] == Rejection("before", "msisdn", f"no active subscription for {MSISDN} on 2026-10-09")
    assert isinstance(by_id["first"], RatedEvent)
    assert by_id["after"] == Rejection("after", "msisdn", f"no active subscription for {MSISDN} on 2026-10-21")


def test_a_plan_for_the_whole_period_does_not_cover_days_outside_it():
    # A subscription that ends in November: its October events rate, a November one given to
    # October's rater is still checked against the segment (the one-plan shortcut is per period).
    sub = subscription(PlanSegment("liten", date(2026, 9, 1), date(2026, 11, 5)))
    events = [
        ev("2026-10-31T23:59:59+01:00", "sms", to="+46739876543", rid="in"),
        ev("2026-11-06T10:00:00+01:00", "sms", to="+46739876543", rid="out"),
    ]
    results, _ = rate_period(CAT, sub, OCT, events)
    by_id = {r.record_id: r for r in results}
    assert isinstance(by_id["in"], RatedEvent)
    assert by_id["out"] == Rejection("out", "msisdn", f"no active subscription for {MSISDN} on 2026-11-06")


def test_usage_on_a_broadband_plan_is_rejected():
    [r] = rate("bredband", ev(TUESDAY, "data", MB, rid="x"))
    assert r == Rejection("x", "service", "plan bredband (broadband) has no usage tariff")


def test_a_plan_missing_from_the_catalogue_is_rejected():
    [r] = rate("mobi", ev(TUESDAY, "data", MB, rid="x"))
    assert r.field == "msisdn"
    assert "plan is not in the catalogue" in r.reason


# --------------------------------------------------------------------------- billing periods


def test_calendar_month_periods():
    assert (OCT.start, OCT.end, OCT.days, OCT.label) == (date(2026, 10, 1), date(2026, 10, 31), 31, "2026-10")
    assert period_for("2028-02").days == 29  # leap year
    assert OCT.next() == period_for("2026-11")


def test_periods_on_a_cycle_day():
    period = period_for("2026-10", cycle_day=15)
    assert (period.start, period.end, period.days) == (date(2026, 10, 15), date(2026, 11, 14), 31)
    assert period_containing(date(2026, 10, 14), cycle_day=15) == period_for("2026-09", cycle_day=15)
    assert period_containing(date(2026, 10, 15), cycle_day=15) == period


@pytest.mark.parametrize(("label", "cycle_day"), [("2026-13", 1), ("oktober", 1), ("2026-10", 29), ("2026-10", 0)])
def test_bad_periods_are_refused(label, cycle_day):
    with pytest.raises(ValueError, match="period|cycle_day"):
        period_for(label, cycle_day)


def test_active_days_of_plan_segments_in_a_period():
    sub = subscription(*PLAN_CHANGE)
    assert [(seg.plan_id, days) for seg, days in sub.segments_in(SEP)] == [("liten", 10), ("stor", 20)]
    assert [(seg.plan_id, days) for seg, days in sub.segments_in(OCT)] == [("stor", 31)]


def test_overlapping_plan_segments_are_refused():
    with pytest.raises(ValueError, match="segments: plan liten from 2026-09-01 overlaps plan stor"):
        validate_segments(
            [PlanSegment("liten", date(2026, 9, 1), date(2026, 9, 11)), PlanSegment("stor", date(2026, 9, 11))]
        )
    with pytest.raises(ValueError, match="ends 2026-09-01 before it starts"):
        validate_segments([PlanSegment("liten", date(2026, 9, 2), date(2026, 9, 1))])
    validate_segments(list(PLAN_CHANGE))
