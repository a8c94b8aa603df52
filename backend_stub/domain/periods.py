"""Billing periods and subscriptions over time (pure values)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from backend_stub.domain.errors import Invalid


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A billing period, both ends inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """``YYYY-MM`` of the month the period starts in."""
        return f"{self.start.year:04d}-{self.start.month:02d}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap_days(self, start: date, end: date | None) -> int:
        """Days of ``[start, end]`` (``end`` None = open) that fall inside this period."""
        lo = max(start, self.start)
        hi = self.end if end is None else min(end, self.end)
        return max(0, (hi - lo).days + 1)

    def next(self, cycle_day: int = 1) -> Period:
        return period_starting(self.end + timedelta(days=1), cycle_day)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + n
    return idx // 12, idx % 12 + 1


def _cycle_start(year: int, month: int, cycle_day: int) -> date:
    return date(year, month, min(cycle_day, calendar.monthrange(year, month)[1]))


FIRST_BILLING_PERIOD = "2000-01"
"""No bill run before this month, whatever the data says: nothing of this system (subscriptions on plans
with allowances, EU roaming, OCR references) existed before it. The service also refuses a period before
the first subscription, usage event or charge of the operator's data (``billrun.first_billable_period``)."""


def month_label(day: date) -> str:
    """``YYYY-MM`` of the month ``day`` is in."""
    return f"{day.year:04d}-{day.month:02d}"


def bill_run_period_problem(label: str, today: date, first: str = FIRST_BILLING_PERIOD) -> str | None:
    """Why a bill run may not invoice period ``label`` (``YYYY-MM``) on ``today``, or None.

    A period before ``first`` has nothing to bill (the run would put pending charges and instalments on an
    invoice of 1900); one after next month cannot be billed in arrears, nor early (``allow_open_period``
    reaches at most next month). ``label`` has the shape of a month already (``period_for``).
    """
    latest = month_label(date(*_add_months(today.year, today.month, 1), 1))
    first = max(first, FIRST_BILLING_PERIOD)
    if label < first:
        return f"{label} is before {first}, the first period with anything to bill"
    if label > latest:
        return f"{label} is after {latest}: a bill run reaches at most next month (today is {today.isoformat()})"
    return None


def period_for(label: str, cycle_day: int = 1) -> Period:
    """The period that starts in month ``label`` (``YYYY-MM``) on the account's cycle day."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", label or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise Invalid("period", f"{label!r} is not a month like 2026-10")
    if not 1 <= cycle_day <= 28:
        raise Invalid("cycle_day", "must be 1..28")
    year, month = int(m.group(1)), int(m.group(2))
    start = _cycle_start(year, month, cycle_day)
    ny, nm = _add_months(year, month, 1)
    end = _cycle_start(ny, nm, cycle_day) - timedelta(days=1)
    return Period(start, end)


def period_containing(day: date, cycle_day: int = 1) -> Period:
    """The billing period (on ``cycle_day``) that contains ``day``."""
    if day.day >= cycle_day:
        return period_for(f"{day.year:04d}-{day.month:02d}", cycle_day)
    y, m = _add_months(day.year, day.month, -1)
    return period_for(f"{y:04d}-{m:02d}", cycle_day)


def period_starting(day: date, cycle_day: int = 1) -> Period:
    return period_containing(day, cycle_day)


@dataclass(frozen=True, slots=True)
class PlanSegment:
    """A plan held by a subscription from ``start`` to ``end`` (inclusive; None = open)."""

    plan_id: str
    start: date
    end: date | None = None

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription over time: its plan segments, in date order, without overlaps."""

    id: int
    number: str
    customer_id: int
    msisdn: str | None
    segments: tuple[PlanSegment, ...]

    def segment_on(self, day: date) -> PlanSegment | None:
        for seg in self.segments:
            if seg.active_on(day):
                return seg
        return None

    def segments_in(self, period: Period) -> list[tuple[PlanSegment, int]]:
        """The segments active in ``period`` with their active days there."""
        out = []
        for seg in self.segments:
            days = period.overlap_days(seg.start, seg.end)
            if days:
                out.append((seg, days))
        return out


def validate_segments(segments: list[PlanSegment], *, field: str = "segments") -> None:
    """Raise ``ValueError`` if segments overlap or end before they start."""
    ordered = sorted(segments, key=lambda s: s.start)
    for seg in ordered:
        if seg.end is not None and seg.end < seg.start:
            raise Invalid(field, f"plan {seg.plan_id} ends {seg.end} before it starts {seg.start}")
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.end is None or a.end >= b.start:
            raise Invalid(field, f"plan {a.plan_id} from {a.start} overlaps plan {b.plan_id} from {b.start}")
