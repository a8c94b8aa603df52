"""Rounding on whole numbers, written once for the core (``backend_stub.domain.money``) and the app."""

from __future__ import annotations


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (half away from zero), exactly, on ints."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return sign * quotient
