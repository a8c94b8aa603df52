"""The usage alerts of one rated group, worked out in the rating pass from what is in memory (issue 17).

The import rates each (subscription, period) in event order with a ``PeriodRater``; when the group is
done, :class:`GroupAlerts` reads off it what the subscriber is owed, without a query:

* allowance thresholds: the rater knows the period's allowance (``allowance_totals``) and what is left
  (``allowance_left``); only a group whose use reached a threshold is walked again to find the event
  that reached it (``domain.alerts.crossings``);
* EU fair use: the first event charged the surcharge;
* the spending limit outside the EU/EEA: the rater's notices at 80 % and 100 %;
* roaming welcomes: the first event in each country on each trip, for a group with a roaming event
  (a trip that began in the period before is settled after the import, ``settle_trips``).

Everything is an ``Alert`` with its ``late`` flag; recording decides what is told (``delivery.record``).
Runs in the import's rating child too: plain values only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import UNLIMITED, Catalogue
from backend_stub.domain.invoicing import rate_index
from backend_stub.domain.money import EXACT_PER_ORE
from backend_stub.domain.periods import Subscription
from backend_stub.domain.rating import PeriodRater, RatedEvent, Rejection, UsageEvent
from backend_stub.storage.models import billing as m


class GroupAlerts:
    """Collects the alerts of an import's groups as they are rated."""

    def __init__(self, catalogue: Catalogue, now: datetime) -> None:
        self.catalogue = catalogue
        self.now = now
        self.pool_of = {r.key: r.allowance for r in rate_index(catalogue).values() if r.allowance in rules.POOLS}
        # The catalogue's per cents (``usage_alert_percent``): a group is walked again only past the lowest.
        self.percent = {pool: tuple(catalogue.alert_percent.get(pool, ())) for pool in rules.POOLS}
        self.lowest = {pool: min(ts) for pool, ts in self.percent.items() if ts}
        self.found: list[rules.Alert] = []
        self._totals_cache: dict[tuple[Any, Any], dict[str, int]] = {}
        # Per rated group, its latest event and whether its period is invoiced: what the cost warning needs.
        self.latest: dict[tuple[int, date], tuple[int, bool]] = {}

    def after_group(
        self,
        sub: Subscription,
        period_start: date,
        closed: bool,
        rater: PeriodRater,
        events: Sequence[UsageEvent],
        outcomes: Sequence[RatedEvent | Rejection],
    ) -> None:
        """``events`` and ``outcomes``: the group's events in rating order and what rating made of each."""
        if events:
            self.latest[(sub.id, period_start)] = (events[-1].started_at, closed)
        at_of = {ev.record_id: ev.started_at for ev in events} if rater.notifications else {}
        # One session can cross 80 % and 100 % at once: then only the higher one is told.
        highest = {n.record_id: n.threshold for n in sorted(rater.notifications, key=lambda n: Decimal(n.threshold))}
        for n in rater.notifications:
            if highest[n.record_id] != n.threshold:
                continue
            level = str(int(Decimal(n.threshold) * 100))  # "0.8" → "80"
            at = at_of.get(n.record_id, 0)
            data = {
                "spent_ore": n.spent_ore,
                "limit_ore": n.limit_ore,
                "late": self._late(at, closed) and level != "100",
            }
            self.found.append(rules.Alert(sub.id, period_start, rules.SPEND_LIMIT, level, at, data))
        reached = self._reached(rater)
        if reached:
            self._allowance(sub, period_start, closed, reached, rater, events, outcomes)
        if rater.first_surcharge_at is not None:
            at = rater.first_surcharge_at
            data = {"late": self._late(at, closed)}
            self.found.append(rules.Alert(sub.id, period_start, rules.FAIR_USE, "", at, data))
        if rater.roamed:
            self._welcomes(sub, period_start, closed, events, rater)

    def _late(self, at: int, closed: bool) -> bool:
        return rules.is_late(at, self.now, period_invoiced=closed)

    def _totals(self, rater: PeriodRater) -> dict[str, int]:
        """The period's allowances, once per plan history and period when nothing was bought (most groups)."""
        if rater.allowances_added():
            return rater.allowance_totals()
        key = (rater.subscription.segments, rater.period)
        totals = self._totals_cache.get(key)
        if totals is None:
            totals = self._totals_cache[key] = rater.allowance_totals()
        return totals

    def _reached(self, rater: PeriodRater) -> dict[str, tuple[int, int]]:
        """Pools whose use reached the lowest threshold: ``{pool: (the period's allowance, used)}``."""
        rater.apply_purchases(2**62)  # every add-on of the period counts in what is left
        totals, left = self._totals(rater), rater.allowance_left()
        out: dict[str, tuple[int, int]] = {}
        for pool, total in totals.items():
            lowest = self.lowest.get(pool)
            if lowest is None or total in (UNLIMITED, 0) or left.get(pool, 0) == UNLIMITED:
                continue
            used = total - max(0, left.get(pool, 0))
            if used * 100 >= total * lowest:
                out[pool] = (total, used)
        return out

    def _allowance(
        self,
        sub: Subscription,
        period_start: date,
        closed: bool,
        reached: dict[str, tuple[int, int]],
        rater: PeriodRater,
        events: Sequence[UsageEvent],
        outcomes: Sequence[RatedEvent | Rejection],
    ) -> None:
        pool_of = self.pool_of
        uses = [
            (ev.started_at, pool_of.get(o.rate_key, ""), o.billed_units - o.surcharge_units)
            for ev, o in zip(events, outcomes, strict=True)
            if o.__class__ is RatedEvent
        ]
        totals = {pool: total for pool, (total, _used) in reached.items()}
        crossed = rules.crossings(uses, totals, self.percent)
        top = {(pool, at): threshold for pool, threshold, at in crossed}  # one event over 80 % and 100 %: tell 100 %
        for pool, threshold, at in crossed:
            if top[(pool, at)] != threshold:
                continue
            total, used = reached[pool]
            data = {"pool": pool, "percent": threshold, "included": total, "used": used, "late": self._late(at, closed)}
            self.found.append(rules.Alert(sub.id, period_start, rules.ALLOWANCE, f"{pool}-{threshold}", at, data))

    def _welcomes(
        self, sub: Subscription, period_start: date, closed: bool, events: Sequence[UsageEvent], rater: PeriodRater
    ) -> None:
        trail = [(ev.started_at, ev.visited_country) for ev in events]
        for i in rules.trip_starts(trail):
            at, country = trail[i]
            zone = self.catalogue.zone_of(country)
            data: dict[str, Any] = {
                "country": country,
                "zone": zone.id if zone else "",
                "eu": bool(zone and zone.eu),
                "first_of_period": i == 0,
                "late": self._late(at, closed),
            }
            if zone is not None and not zone.eu:  # the subscription's spending limit when the trip began
                data["limit_ore"] = rater.spend_limit_at(at) // EXACT_PER_ORE
            self.found.append(rules.Alert(sub.id, period_start, rules.WELCOME, f"{country}{at}", at, data))


def settle_trips(conn: Connection, found: list[rules.Alert]) -> list[rules.Alert]:
    """Drop the welcomes of trips that began in the period before (a welcome for a group's first event, when the
    subscription's last event before the period was abroad in the same country less than 24 h before)."""
    first = [a for a in found if a.kind == rules.WELCOME and a.data.get("first_of_period")]
    if not first:
        return found
    u, s = m.UsageEvent, m.Subscription
    ids = sorted({a.subscription_id for a in first})
    customer_of = {sub_id: cid for sub_id, cid in conn.execute(select(s.id, s.customer_id).where(s.id.in_(ids)))}
    dropped: set[str] = set()
    for alert in first:
        before: Any = conn.execute(
            select(u.started_at, u.visited_country)
            .where(u.customer_id == customer_of.get(alert.subscription_id), u.period_start < alert.period_start)
            .where(u.subscription_id == alert.subscription_id)
            .order_by(u.period_start.desc(), u.started_at.desc())
            .limit(1)
        ).first()
        trail = [(alert.at, str(alert.data["country"]))]
        if before is not None and not rules.trip_starts(trail, last_before=(int(before[0]), before[1] or "")):
            dropped.add(alert.key)
    return [a for a in found if a.key not in dropped]
