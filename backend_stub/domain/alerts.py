"""Usage alerts: which messages the usage that just arrived calls for (no bill shock). Pure rules.

A subscriber is told, once per subscription, period and threshold (the ``key`` makes it once,
across re-imports, late records and re-rating):

* **allowance**: data, minutes and SMS at 80 % and 100 % (the catalogue's ``usage_alert_percent``) of what the
  period includes (the plan's allowance, prorated, plus what was bought); unlimited pools never alert;
* **roaming welcome**: the first event in a visited country on a trip, with that zone's prices
  (Regulation (EU) 2022/612 art. 15). A trip starts at the first roaming event after an event at
  home or after a gap of 24 hours without events;
* **EU fair use**: the fair-use volume is used up and the surcharge applies (art. 13);
* **roaming spending limit**: non-EU data at 80 % and 100 % of the limit the subscriber chose among the
  catalogue's levels (art. 14; the 100 % notice cannot be turned off);
* **cost warning**: the period's forecast crosses the amount the subscriber chose.

Records that arrive late raise nothing: older than a day when they are read, or in a period
already invoiced (they still count towards later thresholds). SMS wait for the day: between
21:00 and 08:00 Stockholm time an SMS alert is held until 08:00, except the roaming stop (it
tells the subscriber why data abroad stopped, so it goes at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ALLOWANCE_THRESHOLDS = (80, 100)  # per cent of the period's allowance, without a catalogue's usage_alert_percent
POOLS = ("data", "voice", "sms")
TRIP_GAP_S = 24 * 3600
LATE_AFTER = timedelta(days=1)
DAY_STARTS, DAY_ENDS = time(8, 0), time(21, 0)  # SMS alerts only between these, Stockholm time

ALLOWANCE, WELCOME, FAIR_USE, SPEND_LIMIT, COST = "allowance", "roaming_welcome", "fair_use", "spend_limit", "cost"
KINDS = (ALLOWANCE, WELCOME, FAIR_USE, SPEND_LIMIT, COST)
ALWAYS_ON = frozenset({(SPEND_LIMIT, "100")})  # the stop notice cannot be turned off
URGENT = frozenset({(SPEND_LIMIT, "100")})  # sent at night too


@dataclass(frozen=True, slots=True)
class Alert:
    """One message the subscriber is owed. ``key`` is unique per subscription and what it tells."""

    subscription_id: int
    period_start: date
    kind: str
    level: str  # what makes it one of its kind: "data-80", "ES<trip start>", "100" (spending limit), ""
    at: int  # epoch seconds of the event that crossed the line
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subscription_id}:{self.period_start.isoformat()}:{self.level}"


def crossed(included: int, before: int, after: int, thresholds: Sequence[int] = ALLOWANCE_THRESHOLDS) -> list[int]:
    """The thresholds (per cent of ``included``) that use going from ``before`` to ``after`` crosses.

    Integer arithmetic: ``after × 100 ≥ included × threshold``. Nothing for an empty allowance
    (nothing included is not "used up": that is simply paid use).
    """
    if included <= 0 or after <= before:
        return []
    return [t for t in thresholds if before * 100 < included * t <= after * 100]


def trip_starts(events: Iterable[tuple[int, str]], *, last_before: tuple[int, str] | None = None) -> list[int]:
    """Indexes of the events that are the first in their country on their trip.

    ``events``: (started_at, country) in time order, ``country`` "" at home. ``last_before``: the
    latest event before these (so a trip that began in an earlier file goes on).
    """
    out: list[int] = []
    seen: set[str] = set()
    previous = last_before
    if previous is not None and previous[1]:
        seen.add(previous[1])
    for i, (at, country) in enumerate(events):
        new_trip = previous is None or not previous[1] or at - previous[0] >= TRIP_GAP_S
        if new_trip:
            seen = set()
        if country and country not in seen:
            seen.add(country)
            out.append(i)
        previous = (at, country)
    return out


def is_late(event_at: int, now: datetime, *, period_invoiced: bool) -> bool:
    """A record that raises no alert: older than a day when read, or in a period already invoiced."""
    return period_invoiced or now - datetime.fromtimestamp(event_at, STOCKHOLM) > LATE_AFTER


def send_at(now: datetime, *, channel: str, kind: str, level: str) -> datetime:
    """When the alert may go: at once, except SMS at night (held until 08:00 Stockholm time)."""
    if channel != "sms" or (kind, level) in URGENT:
        return now
    local = now.astimezone(STOCKHOLM)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return now
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=STOCKHOLM)


def wanted(alert: Alert, settings: AlertSettings) -> bool:
    """Whether the subscriber's settings let this alert through."""
    if (alert.kind, alert.level) in ALWAYS_ON:
        return True
    if alert.kind == ALLOWANCE:
        pool = alert.data.get("pool", "")
        return int(alert.data.get("percent", 0)) in settings.thresholds.get(pool, ())
    if alert.kind == COST:
        return settings.cost_limit_ore is not None
    return alert.kind in settings.kinds


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """A subscription's choices. Defaults (``defaults``): every alert on, the catalogue's per cents for each pool
    (80 % and 100 %), no cost warning, the catalogue's spending limit."""

    thresholds: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict.fromkeys(POOLS, ALLOWANCE_THRESHOLDS))
    kinds: frozenset[str] = frozenset({WELCOME, FAIR_USE, SPEND_LIMIT})
    cost_limit_ore: int | None = None
    spend_limit_ore: int | None = None  # None: the catalogue's limit
    channels: frozenset[str] = frozenset({"sms", "email", "app"})
    spend_limits: tuple[tuple[int, int], ...] = ()  # every level chosen, (from epoch s, öre): what the rater caps at

    @classmethod
    def defaults(cls, percent: Mapping[str, Sequence[int]]) -> AlertSettings:
        """The choices of a subscription that made none: ``percent``, the catalogue's per cents per pool."""
        return cls(thresholds={pool: tuple(percent.get(pool, ())) for pool in POOLS})


def cost_crossed(limit_ore: int | None, forecast_before: int, forecast_after: int) -> bool:
    """Whether the period's forecast has just gone over the subscriber's chosen amount."""
    return limit_ore is not None and forecast_before <= limit_ore < forecast_after


def crossings(
    uses: Iterable[tuple[int, str, int]],
    totals: dict[str, int],
    thresholds: Sequence[int] | Mapping[str, Sequence[int]] = ALLOWANCE_THRESHOLDS,
) -> list[tuple[str, int, int]]:
    """When each pool's use first reached each threshold: ``(pool, threshold, started_at)``.

    ``uses``: ``(started_at, pool, units)`` in event order (a period's rated events, ``pool`` "" for use that
    draws on no allowance); ``totals``: the period's allowance per limited pool; ``thresholds``: the same per
    cents for every pool, or per pool. One pass, one comparison per event: the rating pass calls it for a group
    whose use reached a threshold.
    """
    out: list[tuple[str, int, int]] = []
    running: dict[str, int] = dict.fromkeys(totals, 0)
    per_pool = thresholds if isinstance(thresholds, Mapping) else dict.fromkeys(totals, thresholds)
    pending = {pool: [t for t in sorted(per_pool.get(pool, ())) if total > 0] for pool, total in totals.items()}
    for started_at, pool, units in uses:
        if pool not in running or not pending[pool]:
            continue
        running[pool] += units
        total = totals[pool]
        while pending[pool] and running[pool] * 100 >= total * pending[pool][0]:
            out.append((pool, pending[pool].pop(0), started_at))
    return out
