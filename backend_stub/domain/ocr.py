"""OCR references (Bankgirot "check digit + length"): digits, a length digit, a Luhn digit.

The Luhn (modulus-10) digit is written here once: OCR references, and the autopay checks of
bank accounts and personal identity numbers, use ``luhn_digit`` / ``has_luhn_digit``.
"""

from __future__ import annotations


def luhn_digit(digits: str) -> int:
    """The modulus-10 (Luhn) check digit for ``digits`` (weights 2, 1, 2, … from the right)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def has_luhn_digit(digits: str) -> bool:
    """Whether the last of ``digits`` is the Luhn digit of the ones before it (an account, a personal number)."""
    return digits != "" and luhn_digit(digits[:-1]) == int(digits[-1])


def ocr_reference(invoice_number: str) -> str:
    """OCR for an invoice number: its digits, the total length mod 10, then the Luhn digit."""
    digits = "".join(ch for ch in str(invoice_number) if ch.isdigit())
    if not digits:
        raise ValueError(f"invoice number {invoice_number!r} has no digits")
    if len(digits) > 23:
        raise ValueError("an OCR reference holds at most 25 digits")
    body = digits + str((len(digits) + 2) % 10)
    return body + str(luhn_digit(body))


def is_valid_ocr(reference: str) -> bool:
    """Whether ``reference`` passes its own length and Luhn checks."""
    if not reference.isdigit() or not 2 <= len(reference) <= 25:
        return False
    if int(reference[-2]) != len(reference) % 10:
        return False
    return has_luhn_digit(reference)
