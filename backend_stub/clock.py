"""The core's clock: the one place that reads the wall clock.

Business code never calls ``datetime.now()`` or ``date.today()`` (ruff's banned-api rule
forbids it outside this module). It asks a ``Clock`` for "now" (an aware UTC datetime) and
"today" (the date in Stockholm, the operator's business day). The clock in force is the
process's: the system clock in production; a fixed instant when ``SELFCARE_CLOCK`` is set
and ``SELFCARE_ENV`` is exactly ``dev`` or ``test`` (``backend_stub.settings``; CLI and
subprocess tests); a ``FrozenClock`` installed with ``use()`` in tests. A ``Core`` holds the
clock it was made with and passes ``core.clock.now()``/``.today()`` down to the services it calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from backend_stub.settings import settings_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")

CLOCK_ENV = "SELFCARE_CLOCK"
"""An ISO instant (``2026-12-05T10:00:00+01:00``) or date (``2026-12-05``, noon Stockholm)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    def today(self) -> date:
        """The current business day: the date in Europe/Stockholm."""
        ...


class SystemClock:
    """The wall clock. The only reader of ``datetime.now``."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(STOCKHOLM).date()

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that stands still until moved: tests, fixed-date CLI runs, the demo's year."""

    def __init__(self, at: datetime | date | str):
        self._now = parse_instant(at) if isinstance(at, str) else to_instant(at)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.astimezone(STOCKHOLM).date()

    def set(self, at: datetime | date) -> None:
        self._now = to_instant(at)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"


def to_instant(at: datetime | date) -> datetime:
    """An aware UTC instant: a date is noon in Stockholm that day; a naive datetime is UTC."""
    if isinstance(at, datetime):
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.combine(at, time(12), tzinfo=STOCKHOLM).astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """``2026-12-05`` or ``2026-12-05T10:00:00+01:00``; ``ValueError`` names the variable."""
    text = text.strip()
    try:
        if len(text) == 10:
            return to_instant(date.fromisoformat(text))
        return to_instant(datetime.fromisoformat(text))
    except ValueError as exc:
        raise ValueError(f"{CLOCK_ENV}: not an ISO date or instant: {text!r}") from exc


def stockholm_date(at: datetime) -> date:
    """The Stockholm calendar date of an instant (how a date-only event is placed in time)."""
    return to_instant(at).astimezone(STOCKHOLM).date()


def start_of_day(day: date) -> datetime:
    """Midnight in Stockholm at the start of ``day``, as UTC."""
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM).astimezone(UTC)


BUSINESS_DAY_START = time(6, 0)
"""When a run "for a day" happens if that day is not today: the morning batch, 06:00 Stockholm."""


def moment_on(day: date, source: Clock | None = None) -> datetime:
    """The business time of something done for ``day``: now if ``day`` is today, else 06:00
    Stockholm that day (a dunning run, a bill run or a bank file dated another day)."""
    source = source or current()
    if source.today() == day:
        return source.now()
    return datetime.combine(day, BUSINESS_DAY_START, tzinfo=STOCKHOLM).astimezone(UTC)


def from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """The process clock the environment asks for (``SELFCARE_CLOCK`` only in dev and test)."""
    settings = settings_for(environ)
    fixed = (settings.clock or "").strip()
    if fixed and settings.is_dev:  # exactly ``dev`` or ``test``; never production
        return FrozenClock(fixed)
    return SystemClock()


_WALL = SystemClock()


def wall_now() -> datetime:
    """Real time, whatever the business clock says: only for security protocols whose peers check
    the wall clock (JWT ``exp``/``iat`` checked by PyJWT, webhook signature timestamps)."""
    return _WALL.now()


_current: Clock | None = None


def current() -> Clock:
    """The process's clock (from the environment on first use)."""
    global _current
    if _current is None:
        _current = from_env()
    return _current


def now() -> datetime:
    """``current().now()``: for code that has no clock passed to it."""
    return current().now()


def today() -> date:
    """``current().today()``: for code that has no clock passed to it."""
    return current().today()


def install(clock: Clock | None) -> Clock | None:
    """Make ``clock`` the process clock (``None``: back to the environment's); returns the old one."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Run a block with ``clock`` as the process clock (tests, the demo's simulated year)."""
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)
