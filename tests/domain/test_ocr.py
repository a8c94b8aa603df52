"""OCR references (Bankgirot "check digit + length"), checked against Bankgirot's own example file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_stub.domain.ocr import has_luhn_digit, is_valid_ocr, luhn_digit, ocr_reference

# shared/ stands beside the project root (here and in CI); a missing file fails the test, never skips it.
BGMAX_EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "bgmax" / "example-ocr-checksiffra-langd.txt"


def bgmax_ocr_references() -> list[str]:
    """References of the payment (20) and extra reference (22) records whose reference code is 2 (correct OCR).

    BgMax layout: record type in positions 1–2, the reference in 13–37, the reference code in 56.
    """
    refs = []
    for line in BGMAX_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line[:2] in ("20", "22") and "\t" not in line and len(line) > 55 and line[55] == "2":
            refs.append(line[12:37].strip())
    return refs


def test_the_example_file_has_the_references_we_expect():
    refs = bgmax_ocr_references()
    assert "655969" in refs
    assert "658765" in refs
    assert len(refs) == 13  # payment and extra-reference records with reference code 2


def test_every_ocr_reference_in_bankgirots_example_passes_our_check():
    for ref in bgmax_ocr_references():
        assert is_valid_ocr(ref), ref


# 657965 is on the record with TAB characters where spaces belong (line 17 of the example file).
@pytest.mark.parametrize(
    "ref", ["655969", "658765", "657866", "657767", "650861", "659763", "658260", "801266", "657965"]
)
def test_bankgirot_example_references_are_valid(ref):
    assert is_valid_ocr(ref)


@pytest.mark.parametrize("ref", ["655969", "658765", "657866", "650861", "659763", "801266"])
def test_ocr_reference_rebuilds_bankgirots_references_from_their_digits(ref):
    # The reference is the number's digits, then the length digit, then the Luhn digit.
    assert ocr_reference(ref[:-2]) == ref


def test_ocr_reference_of_an_invoice_number():
    # 1001 → "1001" + length 6 → "10016"; Luhn from the right 6·2=12→3, 1, 0, 0, 1·2=2 → 6 → check 4.
    assert ocr_reference("1001") == "100164"
    assert ocr_reference("F-2026-0001") == ocr_reference("20260001")  # only the digits count
    assert is_valid_ocr(ocr_reference("F-2026-0001"))


def test_the_length_digit_is_the_total_length_mod_10():
    ref = ocr_reference("12345678")  # 8 digits + length + check = 10 → length digit 0
    assert len(ref) == 10
    assert ref[-2] == "0"
    assert ocr_reference("1")[-2] == "3"


@pytest.mark.parametrize(("digits", "check"), [("7992739871", 3), ("65596", 9), ("0", 0), ("10016", 4)])
def test_luhn_digit(digits, check):
    assert luhn_digit(digits) == check
    assert has_luhn_digit(digits + str(check))
    assert not has_luhn_digit(digits + str((check + 1) % 10))


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_has_luhn_digit_is_the_modulus_10_sum(digits):
    # The whole number's Luhn sum (weights 1, 2, 1, … from the right, digits of products added) ends in 0.
    total = sum(sum(divmod(int(ch) * (1 + i % 2), 10)) for i, ch in enumerate(reversed(digits)))
    assert has_luhn_digit(digits) == (total % 10 == 0)


@pytest.mark.parametrize(
    "ref",
    [
        "655968",  # wrong check digit
        "655979",  # wrong length digit (and check)
        "65596",  # too short for its length digit
        "6559690",  # extra digit
        "655 969",  # not digits only
        "",
        "1",
        "1" * 26,  # more than 25 digits
        "89853",  # the type-21 deduction record's reference in the example file
    ],
)
def test_invalid_references(ref):
    assert not is_valid_ocr(ref)


def test_a_swapped_pair_of_neighbouring_digits_is_caught():
    assert not is_valid_ocr("565969")  # 655969 with the first two digits swapped


def test_ocr_reference_needs_digits():
    with pytest.raises(ValueError, match="no digits"):
        ocr_reference("F-")


def test_ocr_reference_is_at_most_25_digits():
    assert len(ocr_reference("1" * 23)) == 25
    with pytest.raises(ValueError, match="25 digits"):
        ocr_reference("1" * 24)
