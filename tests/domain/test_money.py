"""money: whole öre for booked amounts, exact integer charges, half-up rounding, VAT of a gross amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backend_stub.domain import money
from backend_stub.domain.money import (
    EXACT_PER_KR,
    EXACT_PER_ORE,
    MoneyError,
    exact_per_base_unit,
    exact_to_ore,
    kr_to_ore,
    ore_to_kr,
    parse_decimal,
    round_half_up_div,
    vat_of_gross,
)

# --------------------------------------------------------------------------- parsing amounts


def test_parse_decimal_reads_strings_exactly():
    assert parse_decimal("0.0115", field="price") == Decimal("0.0115")
    assert parse_decimal(" 199,00 ", field="price") == Decimal("199.00")  # Swedish decimal comma
    assert parse_decimal(49, field="price") == Decimal(49)


def test_parse_decimal_refuses_floats_naming_the_field():
    with pytest.raises(MoneyError, match=r"plans\[0\]\.monthly_fee: write amounts as strings"):
        parse_decimal(199.0, field="plans[0].monthly_fee")


def test_parse_decimal_refuses_bools():
    with pytest.raises(MoneyError, match="price"):
        parse_decimal(True, field="price")


@pytest.mark.parametrize("text", ["abc", "", "1.2.3"])
def test_parse_decimal_refuses_non_numbers(text):
    with pytest.raises(MoneyError, match="price: .* is not a number"):
        parse_decimal(text, field="price")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf"])
def test_parse_decimal_refuses_non_finite(text):
    with pytest.raises(MoneyError, match="not a finite number"):
        parse_decimal(text, field="price")


def test_parse_decimal_refuses_too_many_decimals():
    with pytest.raises(MoneyError, match="price: '0.00001' has more than 4 decimals"):
        parse_decimal("0.00001", field="price")
    with pytest.raises(MoneyError, match="more than 2 decimals"):
        parse_decimal("1.001", field="fee", max_places=2)


# --------------------------------------------------------------------------- kronor and öre


def test_kr_to_ore_and_back():
    assert kr_to_ore("249.00") == 24_900
    assert kr_to_ore("0.01") == 1
    assert kr_to_ore(Decimal("199.2")) == 19_920
    assert ore_to_kr(24_900) == Decimal("249.00")
    assert str(ore_to_kr(5)) == "0.05"
    assert str(ore_to_kr(-1_980)) == "-19.80"


def test_kr_to_ore_refuses_fractions_of_an_ore():
    with pytest.raises(MoneyError, match="fee"):
        kr_to_ore("1.005", field="fee")
    with pytest.raises(MoneyError, match="not a whole number of öre"):
        kr_to_ore(Decimal("1.005"), field="fee")


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 10, 1),  # 0.5 goes up
        (4, 10, 0),
        (15, 10, 2),  # 1.5 → 2
        (25, 10, 3),  # 2.5 → 3 (half up, not banker's rounding)
        (-5, 10, -1),  # half away from zero, like Decimal's ROUND_HALF_UP
        (-4, 10, 0),
        (0, 7, 0),
        (7, 7, 1),
    ],
)
def test_round_half_up_div(numerator, denominator, expected):
    assert round_half_up_div(numerator, denominator) == expected


def test_round_half_up_div_needs_a_positive_denominator():
    with pytest.raises(ValueError, match="denominator"):
        round_half_up_div(1, 0)


def test_exact_to_ore_rounds_half_an_ore_up():
    assert exact_to_ore(EXACT_PER_ORE // 2) == 1  # 0.5 öre → 1 öre
    assert exact_to_ore(EXACT_PER_ORE // 2 - 1) == 0  # just below half an öre → 0
    assert exact_to_ore(143 * EXACT_PER_ORE + EXACT_PER_ORE * 3 // 4) == 144  # 143.75 öre → 1,44 kr


def test_one_krona_is_six_hundred_billion_exact_units():
    assert EXACT_PER_KR == 100 * EXACT_PER_ORE == 600_000_000_000


# --------------------------------------------------------------------------- prices per base unit


@pytest.mark.parametrize(
    ("price", "per", "kr_per_base_unit"),
    [
        ("0.69", "minute", Decimal("0.0115")),  # 0.69 kr/min = 0.0115 kr/s
        ("0.0115", "second", Decimal("0.0115")),
        ("1.49", "message", Decimal("1.49")),
        ("29.00", "GB", Decimal("0.000000029")),  # 29 kr per 10⁹ bytes
        ("0.0490", "MB", Decimal("0.000000049")),
        ("0.0001", "kB", Decimal("0.0000001")),
    ],
)
def test_exact_per_base_unit(price, per, kr_per_base_unit):
    exact = exact_per_base_unit(Decimal(price), per, field="price")
    assert Decimal(exact) / EXACT_PER_KR == kr_per_base_unit


def test_a_per_gb_price_with_more_than_two_decimals_cannot_be_charged_exactly():
    with pytest.raises(MoneyError, match=r"rates\[3\]\.price: 29.001 kr per GB cannot be charged exactly"):
        exact_per_base_unit(Decimal("29.001"), "GB", field="rates[3].price")


def test_an_unknown_price_unit_is_refused():
    with pytest.raises(MoneyError, match="price: unknown price unit 'hour'"):
        exact_per_base_unit(Decimal("1"), "hour", field="price")


# --------------------------------------------------------------------------- VAT


def test_vat_of_249_kr_is_49_80():
    # Billogram's example: 249,00 kr incl. 25 % VAT → VAT 249 × 0.25 / 1.25 = 49,80, net 199,20.
    vat = vat_of_gross(24_900, Decimal("0.25"))
    assert vat == 4_980
    assert 24_900 - vat == 19_920


def test_vat_rounds_half_up_once():
    # 1,01 kr at 25 %: 101 × 0.2 = 20.2 öre → 20. 1,03 kr: 20.6 → 21. 0,53 kr at 6 %: 53 × 6/106 = 3.0 → 3.
    assert vat_of_gross(101, Decimal("0.25")) == 20
    assert vat_of_gross(103, Decimal("0.25")) == 21
    assert vat_of_gross(53, Decimal("0.06")) == 3
    # 12,50 kr at 25 %: 1250 × 0.2 = 250 exactly; 0,05 kr at 12 %: 5 × 12/112 = 0.5357 → 1.
    assert vat_of_gross(1_250, Decimal("0.25")) == 250
    assert vat_of_gross(5, Decimal("0.12")) == 1


def test_vat_of_a_negative_amount_mirrors_the_positive_one():
    # A credit note's VAT is exactly the negative of the original's, halves included.
    for gross in (24_900, 101, 103, 5, 12_345):
        assert vat_of_gross(-gross, Decimal("0.25")) == -vat_of_gross(gross, Decimal("0.25"))


def test_vat_at_zero_rate_is_zero():
    assert vat_of_gross(10_000, Decimal("0")) == 0


def test_quantize_kr_rounds_half_up_for_display():
    assert money.quantize_kr(Decimal("0.115")) == Decimal("0.12")
    assert money.quantize_kr(Decimal("0.0115")) == Decimal("0.01")
