"""The demo's months: the complete calendar months before today that usage is generated for, and the
running totals the generators' weighted choices bisect.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

DEFAULT_MONTHS = 3
"""Usage months assumed by :func:`generate_customers` when ``months`` is not given."""


def month_last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + delta
    return idx // 12, idx % 12 + 1


def usage_months(today: date, months: int) -> list[tuple[date, date]]:
    """Return the ``months`` complete calendar months before ``today``'s month.

    Oldest first, each as ``(first_day, last_day)``. ``usage_months(date(2026, 11, 5), 2)``
    is ``[(2026-09-01, 2026-09-30), (2026-10-01, 2026-10-31)]``.
    """
    if months < 0:
        raise ValueError("months must be >= 0")
    out: list[tuple[date, date]] = []
    for back in range(months, 0, -1):
        y, m = add_months(today.year, today.month, -back)
        out.append((date(y, m, 1), month_last_day(y, m)))
    return out


def parse_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def cumulative(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
