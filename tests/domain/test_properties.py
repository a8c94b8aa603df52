"""Property tests (hypothesis): order independence, totals, VAT formula, rounding, OCR, increments."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import load_catalogue
from backend_stub.domain.money import EXACT_PER_KR, EXACT_PER_ORE, exact_per_base_unit, round_half_up_div
from backend_stub.domain.ocr import is_valid_ocr, ocr_reference
from backend_stub.domain.periods import PlanSegment, Subscription, period_for
from backend_stub.domain.rating import (
    GB,
    MB,
    STOCKHOLM,
    RatedEvent,
    Rejection,
    UsageEvent,
    billed_bytes,
    billed_seconds,
    rate_period,
)
from tests.conftest import FIXTURES

CAT = load_catalogue(FIXTURES / "golden.toml")
OCT = period_for("2026-10")
OCT_START = int(datetime(2026, 9, 30, 22, 0, tzinfo=UTC).timestamp())  # 1 Oct 00:00 in Stockholm
OCT_SECONDS = 31 * 86_400 + 3_600  # the month has an extra hour when DST ends on 25 Oct
MOBILE_PLANS = ["rorlig", "liten", "stor", "obegransad"]
NUMBERS = [
    "+46739876543",
    "+46812345678",
    "+46771234567",
    "+46900123456",
    "+4722123456",
    "+12125550100",
    "+442012345678",
]  # the last one matches no destination
COUNTRIES = ["", "", "", "ES", "DE", "US", "JP"]  # JP is in no zone
VAT_RATES = [Decimal("0"), Decimal("0.06"), Decimal("0.12"), Decimal("0.25")]

PROPS = settings(max_examples=100, deadline=None)


# --------------------------------------------------------------------------- strategies


@st.composite
def usage_events(draw, max_size: int = 30) -> list[UsageEvent]:
    n = draw(st.integers(0, max_size))
    events = []
    for i in range(n):
        service = draw(st.sampled_from(["voice", "voice", "sms", "mms", "data", "data"]))
        # Starts on a coarse grid as often as not, so that several events share a second.
        started = OCT_START + draw(
            st.one_of(st.integers(0, 30).map(lambda day: day * 86_400), st.integers(0, OCT_SECONDS - 1))
        )
        duration = draw(st.integers(0, 3_600)) if service == "voice" else 0
        volume = draw(st.one_of(st.integers(0, 5 * MB), st.integers(0, 30 * GB))) if service == "data" else 0
        called = draw(st.sampled_from(NUMBERS)) if service != "data" else ""
        events.append(
            UsageEvent(
                f"e{i:03d}",
                "+46701234567",
                service,
                started,
                duration,
                volume,
                called,
                draw(st.sampled_from(COUNTRIES)),
            )
        )
    return events


@st.composite
def subscriptions(draw) -> Subscription:
    first = draw(st.sampled_from(MOBILE_PLANS))
    if draw(st.booleans()):
        return Subscription(1, "S-1", 1, "+46701234567", (PlanSegment(first, date(2026, 1, 1)),))
    change = date(2026, 10, 1) + timedelta(days=draw(st.integers(1, 30)))
    second = draw(st.sampled_from(MOBILE_PLANS))
    return Subscription(
        1,
        "S-1",
        1,
        "+46701234567",
        (PlanSegment(first, date(2026, 1, 1), change - timedelta(days=1)), PlanSegment(second, change)),
    )


grants = st.lists(
    st.sampled_from(
        [
            invoicing.DiscountGrant("3-man-gratis", "2026-09", 1),
            invoicing.DiscountGrant("halva", "2026-10"),
            invoicing.DiscountGrant("rabatt-25", "2026-10"),
        ]
    ),
    max_size=3,
    unique=True,
)

one_offs = st.lists(
    st.builds(
        invoicing.OneOffCharge, st.just("Engångsavgift"), st.integers(-10_000, 100_000), st.sampled_from(VAT_RATES)
    ),
    max_size=3,
)


# --------------------------------------------------------------------------- helpers


def aggregate(rated: list[RatedEvent | Rejection]) -> list[invoicing.UsageAggregate]:
    """Rated events summed per (subscription, period, rate, band), as the bill run's SQL does."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0] * 6)
    for r in rated:
        if isinstance(r, Rejection):
            continue
        s = sums[(1, OCT.start, r.rate_key, r.offpeak)]
        for i, value in enumerate(
            (
                r.charged_units,
                r.charge_exact - r.fee_exact - r.surcharge_exact,
                int(r.fee_exact > 0),
                r.fee_exact,
                r.surcharge_units,
                r.surcharge_exact,
            )
        ):
            s[i] += value
    return [invoicing.UsageAggregate(*key, *values) for key, values in sums.items()]


def build(sub, events, discount_grants=(), charges=()):
    rated, _ = rate_period(CAT, sub, OCT, events)
    draft = invoicing.build_invoice(CAT, 1, [sub], OCT, aggregate(rated), list(discount_grants), list(charges))
    return rated, draft


def decimal_vat(gross: int, rate: Decimal) -> int:
    """The rule book's formula, computed independently with Decimal: round_half_up(gross × r / (1 + r))."""
    return int((Decimal(gross) * rate / (1 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- order independence


@PROPS
@given(sub=subscriptions(), events=usage_events(), seed=st.randoms(use_true_random=False), discount_grants=grants)
def test_shuffled_input_gives_the_same_rated_events_and_invoice(sub, events, seed, discount_grants):
    shuffled = list(events)
    seed.shuffle(shuffled)
    rated_a, draft_a = build(sub, events, discount_grants)
    rated_b, draft_b = build(sub, shuffled, discount_grants)
    assert rated_a == rated_b
    assert draft_a == draft_b


@PROPS
@given(sub=subscriptions(), events=usage_events(), seed=st.randoms(use_true_random=False))
def test_aggregate_order_does_not_change_the_invoice(sub, events, seed):
    rated, _ = rate_period(CAT, sub, OCT, events)
    aggs = aggregate(rated)
    shuffled = list(aggs)
    seed.shuffle(shuffled)
    assert invoicing.build_invoice(CAT, 1, [sub], OCT, aggs) == invoicing.build_invoice(CAT, 1, [sub], OCT, shuffled)


@PROPS
@given(sub=subscriptions(), events=usage_events())
def test_every_event_gets_exactly_one_outcome(sub, events):
    rated, _ = rate_period(CAT, sub, OCT, events)
    assert sorted(r.record_id for r in rated) == sorted(e.record_id for e in events)
    for r in rated:
        if isinstance(r, RatedEvent):
            assert all(isinstance(x, int) for x in (r.charge_exact, r.fee_exact, r.surcharge_exact))  # never floats
            assert 0 <= r.fee_exact + r.surcharge_exact <= r.charge_exact
            if r.category != "roaming":
                # Every billed unit is included, charged or surcharged: none is dropped.
                assert r.included_units + r.charged_units + r.surcharge_units == r.billed_units
        else:
            assert r.field and r.reason


@PROPS
@given(sub=subscriptions(), events=usage_events())
def test_allowances_are_never_overdrawn(sub, events):
    rated, _ = rate_period(CAT, sub, OCT, events)
    day_of = {e.record_id: datetime.fromtimestamp(e.started_at, STOCKHOLM).date() for e in events}
    for seg, days in sub.segments_in(OCT):
        for pool, rate_keys in (
            ("data", {"test/data/data"}),
            ("voice", {"test/voice/se-mobil", "test/voice/se-fast"}),
            ("sms", {"test/sms/se-mobil"}),
        ):
            allowance = CAT.plan(seg.plan_id).allowances.get(pool)
            if allowance is None or allowance.unlimited:
                continue
            included = sum(
                r.included_units
                for r in rated
                if isinstance(r, RatedEvent) and r.rate_key in rate_keys and seg.active_on(day_of[r.record_id])
            )
            assert included <= allowance.amount * days // OCT.days


# --------------------------------------------------------------------------- totals and VAT


@PROPS
@given(sub=subscriptions(), events=usage_events(), discount_grants=grants, charges=one_offs)
def test_lines_sum_to_the_totals_and_vat_follows_the_formula(sub, events, discount_grants, charges):
    _, draft = build(sub, events, discount_grants, charges)
    assert sum(ln.amount_ore for ln in draft.lines) == draft.gross_ore
    by_rate: dict[Decimal, int] = defaultdict(int)
    for ln in draft.lines:
        by_rate[ln.vat_rate] += ln.amount_ore
    assert {row.rate: row.gross_ore for row in draft.vat} == dict(by_rate)
    for row in draft.vat:
        assert row.vat_ore == decimal_vat(row.gross_ore, row.rate)
        assert row.net_ore == row.gross_ore - row.vat_ore
    assert draft.vat_ore == sum(row.vat_ore for row in draft.vat)
    assert draft.net_ore == draft.gross_ore - draft.vat_ore
    assert draft.amount_due_ore == draft.gross_ore + draft.rounding_ore
    if draft.gross_ore > 0:
        assert draft.amount_due_ore % 100 == 0
        assert -50 < draft.rounding_ore <= 50
    else:
        assert draft.rounding_ore == 0


@PROPS
@given(sub=subscriptions(), events=usage_events())
def test_each_usage_line_is_its_exact_sum_rounded_once(sub, events):
    rated, draft = build(sub, events)
    usage: dict[tuple[str, bool], int] = defaultdict(int)
    fees: dict[tuple[str, bool], int] = defaultdict(int)
    surcharges: dict[tuple[str, bool], int] = defaultdict(int)
    for r in rated:
        if isinstance(r, RatedEvent):
            usage[(r.rate_key, r.offpeak)] += r.charge_exact - r.fee_exact - r.surcharge_exact
            fees[(r.rate_key, r.offpeak)] += r.fee_exact
            surcharges[(r.rate_key, r.offpeak)] += r.surcharge_exact
    usage_lines: dict[tuple[str, bool], int] = defaultdict(int)
    fee_lines: dict[str, int] = defaultdict(int)
    surcharge_total = 0
    for ln in draft.lines:
        if ln.rate_key == CAT.roaming.fair_use_surcharge.key:
            surcharge_total += ln.amount_ore
        elif ln.kind == "usage":
            usage_lines[(ln.rate_key, ln.description.endswith("lågtrafik"))] += ln.amount_ore
        elif ln.kind == "connection_fee":
            fee_lines[ln.rate_key] += ln.amount_ore  # a fee line per band; its text does not name the band
    assert surcharge_total == sum(exact_half_up(total) for total in surcharges.values())
    # One line per (rate, band), each the exact sum of its events rounded half up once.
    assert usage_lines == {key: exact_half_up(total) for key, total in usage.items() if key in usage_lines}
    assert all(exact_half_up(total) == 0 for key, total in usage.items() if key not in usage_lines)
    expected_fees: dict[str, int] = defaultdict(int)
    for (rate_key, _), total in fees.items():
        if total:
            expected_fees[rate_key] += exact_half_up(total)
    assert fee_lines == expected_fees


def exact_half_up(exact: int) -> int:
    """An exact charge in öre, rounded half up with Decimal (independent of money.exact_to_ore)."""
    return int((Decimal(exact) / EXACT_PER_ORE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@PROPS
@given(sub=subscriptions(), events=usage_events(max_size=10), charges=one_offs)
def test_a_full_credit_note_negates_the_invoice(sub, events, charges):
    _, draft = build(sub, events, (), charges)
    note = invoicing.draft_from_lines(
        1,
        OCT,
        invoicing.credit_note_lines(list(draft.lines)),
        kind="credit_note",
        ore_rounding=False,
        rounding_ore=-draft.rounding_ore,
    )
    assert (note.gross_ore, note.vat_ore, note.net_ore, note.amount_due_ore) == (
        -draft.gross_ore,
        -draft.vat_ore,
        -draft.net_ore,
        -draft.amount_due_ore,
    )


@PROPS
@given(gross=st.integers(-(10**9), 10**9), rate=st.sampled_from(VAT_RATES))
def test_vat_per_rate_follows_the_formula(gross, rate):
    line = invoicing.Line("x", Decimal(1), "st", None, rate, gross, "one_off")
    t = invoicing.totals([line], ore_rounding=True)
    [row] = t["vat"]
    assert row.vat_ore == decimal_vat(gross, rate)
    assert row.net_ore + row.vat_ore == gross


# --------------------------------------------------------------------------- money


@PROPS
@given(numerator=st.integers(-(10**30), 10**30), denominator=st.integers(1, 10**15))
def test_round_half_up_div_matches_decimal_quantize(numerator, denominator):
    with localcontext() as ctx:  # 28 digits are too few for 30-digit numerators
        ctx.prec = 80
        expected = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert round_half_up_div(numerator, denominator) == int(expected)


@PROPS
@given(units=st.integers(0, 99_999_999), per=st.sampled_from(["second", "minute", "message", "kB", "MB"]))
def test_every_four_decimal_price_is_exact(units, per):
    price = Decimal(units).scaleb(-4)  # 0.0000 … 9999.9999 kr
    exact = exact_per_base_unit(price, per, field="price")
    assert (
        Fraction(exact, EXACT_PER_KR)
        == Fraction(price) / {"second": 1, "minute": 60, "message": 1, "kB": 1_000, "MB": 1_000_000}[per]
    )


@PROPS
@given(cents=st.integers(0, 9_999_999))
def test_every_two_decimal_price_per_gb_is_exact(cents):
    price = Decimal(cents).scaleb(-2)
    assert Fraction(exact_per_base_unit(price, "GB", field="price"), EXACT_PER_KR) == Fraction(price) / GB


# --------------------------------------------------------------------------- OCR


@PROPS
@given(number=st.text(alphabet="0123456789", min_size=1, max_size=23))
def test_ocr_references_pass_their_own_check(number):
    ref = ocr_reference(number)
    assert ref.startswith(number)
    assert len(ref) == len(number) + 2
    assert is_valid_ocr(ref)


@PROPS
@given(number=st.text(alphabet="0123456789", min_size=1, max_size=23), data=st.data())
def test_a_single_changed_digit_fails_the_check(number, data):
    ref = ocr_reference(number)
    pos = data.draw(st.integers(0, len(ref) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != ref[pos]]))
    assert not is_valid_ocr(ref[:pos] + digit + ref[pos + 1 :])


# --------------------------------------------------------------------------- increments


increments = st.tuples(st.integers(1, 120), st.integers(1, 120))


@PROPS
@given(duration=st.integers(-10, 100_000), inc=increments)
def test_billed_seconds_structure(duration, inc):
    first, nxt = inc
    billed = billed_seconds(duration, first, nxt)
    if duration <= 0:
        assert billed == 0
        return
    assert billed >= duration
    assert billed >= first
    assert (billed - first) % nxt == 0  # a first block, then whole next blocks
    assert billed - duration < max(first, nxt)  # never a block more than needed
    if duration > first:
        assert billed - duration < nxt


@PROPS
@given(a=st.integers(0, 100_000), b=st.integers(0, 100_000), inc=increments)
def test_billed_seconds_is_monotone(a, b, inc):
    lo, hi = sorted((a, b))
    assert billed_seconds(lo, *inc) <= billed_seconds(hi, *inc)


@PROPS
@given(volume=st.integers(0, 10**12), increment=st.sampled_from([1, 1_000, 10_000, MB]))
def test_billed_bytes_rounds_up_to_the_increment(volume, increment):
    billed = billed_bytes(volume, increment)
    assert billed % increment == 0
    assert volume <= billed < volume + increment
