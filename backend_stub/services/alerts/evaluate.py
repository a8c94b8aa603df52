"""Which alerts an import owes: run after a usage file's import has committed (issue 17).

Everything is read back from what the import stored, by its batch: the (subscription, period)
pairs it touched, their use per allowance pool (one grouped query), their roaming events (only
for subscriptions that roamed in the batch), the EU surcharge and the spending-limit notices the
rater wrote (``roaming_notices``). The rules are ``domain.alerts``; recording is idempotent by
key (``record``), so re-imports, re-rating and two imports at once tell the subscriber once.

The event that crossed a threshold decides whether it is told: a late record (older than a day,
or in a period already invoiced) crosses silently, and the threshold is then spent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from backend_stub import clock
from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import UNLIMITED, Catalogue
from backend_stub.domain.invoicing import rate_index
from backend_stub.domain.periods import Period, Subscription, period_starting
from backend_stub.domain.rating import PeriodRater
from backend_stub.services.billing.forecast import forecast
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import AlertSetting
from backend_stub.storage.models.charges import AddonPurchase
from backend_stub.storage.repo import chunks, load_subscriptions


def alerts_for_batch(
    engine: Engine, catalogue: Catalogue, batch_id: int, *, now: datetime | None = None
) -> list[rules.Alert]:
    """The alerts the usage of import batch ``batch_id`` calls for (before settings and de-duplication)."""
    now = now or clock.now()
    u = m.UsageEvent
    with engine.connect() as conn:
        touched = conn.execute(
            select(u.subscription_id, u.period_start, func.max(u.visited_country), func.max(u.surcharge_units))
            .where(u.batch_id == batch_id)
            .group_by(u.subscription_id, u.period_start)
        ).all()
        if not touched:
            return []
        sub_ids = sorted({t[0] for t in touched})
        subs = {s.id: s for s in _subscriptions(conn, sub_ids)}
        invoiced = _invoiced_periods(conn, touched)
        out: list[rules.Alert] = []
        for pstart, pairs in _by_period(touched).items():
            period = period_starting(pstart, pstart.day)
            ids = [sub_id for sub_id, *_ in pairs if sub_id in subs]
            out += _allowance_alerts(conn, catalogue, period, [subs[i] for i in ids], now, invoiced)
            roamed = [sub_id for sub_id, roaming, *_ in pairs if roaming and sub_id in subs]
            out += _welcome_alerts(conn, catalogue, period, roamed, now, invoiced)
            surcharged = [sub_id for sub_id, _r, surcharge in pairs if surcharge and sub_id in subs]
            out += _fair_use_alerts(conn, period, surcharged, now, invoiced)
        out += _spend_limit_alerts(conn, batch_id, now, invoiced)
        watched = _cost_limits(conn, sub_ids)
        latest = _latest_events(conn, batch_id, list(watched))
    out += _cost_alerts(engine, catalogue, watched, latest, subs, now, invoiced)
    return out


# --------------------------------------------------------------------------- allowances


def _allowance_alerts(
    conn: Connection,
    catalogue: Catalogue,
    period: Period,
    subs: list[Subscription],
    now: datetime,
    invoiced: set[tuple[int, date]],
) -> list[rules.Alert]:
    """80 % and 100 % of each pool, told by the event that crossed it (every threshold, whatever the settings:
    the settings choose what is sent when it is recorded)."""
    included = {sub.id: _included(catalogue, sub, period) for sub in subs}
    _add_bought(conn, period, included)
    for pools in included.values():
        for pool in [pool for pool, amount in pools.items() if amount == UNLIMITED]:
            del pools[pool]  # unlimited: use only, never an alert
    used = _used(conn, catalogue, period, list(included))
    out: list[rules.Alert] = []
    for sub_id, pools in included.items():
        for pool, total in pools.items():
            reached = [t for t in rules.ALLOWANCE_THRESHOLDS if total > 0 and used[sub_id][pool] * 100 >= total * t]
            for threshold in reached:
                at = _crossing_event(conn, catalogue, sub_id, period, pool, total, threshold)
                if at is None:
                    continue
                data = {"pool": pool, "percent": threshold, "included": total, "used": used[sub_id][pool]}
                late = rules.is_late(at, now, period_invoiced=(sub_id, period.start) in invoiced)
                out.append(
                    rules.Alert(sub_id, period.start, rules.ALLOWANCE, f"{pool}-{threshold}", at, data | {"late": late})
                )
    return out


def _included(catalogue: Catalogue, sub: Subscription, period: Period) -> dict[str, int]:
    """The period's allowance per alerting pool, prorated per plan segment (``UNLIMITED`` where a segment has
    no limit)."""
    out: dict[str, int] = defaultdict(int)
    for state in PeriodRater(catalogue, sub, period).states:
        for pool, amount in state.remaining.items():
            if pool in rules.POOLS and out.get(pool) != UNLIMITED:
                out[pool] = UNLIMITED if amount == UNLIMITED else out[pool] + amount
    return dict(out)


def _add_bought(conn: Connection, period: Period, included: dict[int, dict[str, int]]) -> None:
    """Add-ons bought for the period add to the pools (bought unlimited: nothing left to run out of)."""
    for part in chunks(list(included)):
        q = select(AddonPurchase.subscription_id, AddonPurchase.allowances).where(
            AddonPurchase.subscription_id.in_(part), AddonPurchase.period_start == period.start
        )
        for sub_id, allowances in conn.execute(q):
            pools = included[sub_id]
            for pool, units in allowances.items():
                if pool in rules.POOLS and pools.get(pool) != UNLIMITED:
                    pools[pool] = UNLIMITED if units == UNLIMITED else pools.get(pool, 0) + int(units)


def _used(conn: Connection, catalogue: Catalogue, period: Period, sub_ids: list[int]) -> dict[int, dict[str, int]]:
    """Use per subscription and pool this period (billed units less the EU surcharge's part), one grouped query."""
    rates = rate_index(catalogue)
    used: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    u = m.UsageEvent
    for part in chunks(sub_ids):
        q = (
            select(u.subscription_id, u.rate_key, func.sum(u.billed_units - u.surcharge_units))
            .where(u.subscription_id.in_(part), u.period_start == period.start)
            .group_by(u.subscription_id, u.rate_key)
        )
        for sub_id, key, units in conn.execute(q):
            rate = rates.get(key)
            if rate is not None and rate.allowance:
                used[sub_id][rate.allowance] += int(units or 0)
    return used


def _crossing_event(
    conn: Connection, catalogue: Catalogue, sub_id: int, period: Period, pool: str, total: int, threshold: int
) -> int | None:
    """When the use of ``pool`` first reached ``threshold`` per cent of ``total``: the start of that event."""
    keys = [r.key for r in rate_index(catalogue).values() if r.allowance == pool]
    u = m.UsageEvent
    q = (
        select(u.started_at, u.billed_units - u.surcharge_units)
        .where(u.subscription_id == sub_id, u.period_start == period.start, u.rate_key.in_(keys))
        .order_by(u.started_at, u.record_id)
    )
    running = 0
    for started_at, units in conn.execute(q):
        running += int(units or 0)
        if running * 100 >= total * threshold:
            return int(started_at)
    return None


# --------------------------------------------------------------------------- roaming


def _welcome_alerts(
    conn: Connection,
    catalogue: Catalogue,
    period: Period,
    sub_ids: list[int],
    now: datetime,
    invoiced: set[tuple[int, date]],
) -> list[rules.Alert]:
    """A welcome with the zone's prices for the first event in each country of each trip."""
    u = m.UsageEvent
    out: list[rules.Alert] = []
    for sub_id in sub_ids:
        events = [
            (int(at), country or "")
            for at, country in conn.execute(
                select(u.started_at, u.visited_country)
                .where(u.subscription_id == sub_id, u.period_start == period.start)
                .order_by(u.started_at, u.record_id)
            )
        ]
        before = conn.execute(
            select(u.started_at, u.visited_country)
            .where(u.subscription_id == sub_id, u.period_start < period.start)
            .order_by(u.started_at.desc())
            .limit(1)
        ).first()
        last = (int(before[0]), before[1] or "") if before else None
        for i in rules.trip_starts(events, last_before=last):
            at, country = events[i]
            zone = catalogue.zone_of(country)
            data = {"country": country, "zone": zone.id if zone else "", "eu": bool(zone and zone.eu)}
            data["late"] = rules.is_late(at, now, period_invoiced=(sub_id, period.start) in invoiced)
            out.append(rules.Alert(sub_id, period.start, rules.WELCOME, f"{country}{at}", at, data))
    return out


def _fair_use_alerts(
    conn: Connection, period: Period, sub_ids: list[int], now: datetime, invoiced: set[tuple[int, date]]
) -> list[rules.Alert]:
    """The EU fair-use volume is used up: told by the first event charged the surcharge."""
    u = m.UsageEvent
    out: list[rules.Alert] = []
    for part in chunks(sub_ids):
        q = (
            select(u.subscription_id, func.min(u.started_at))
            .where(u.subscription_id.in_(part), u.period_start == period.start, u.surcharge_units > 0)
            .group_by(u.subscription_id)
        )
        for sub_id, at in conn.execute(q):
            late = rules.is_late(int(at), now, period_invoiced=(sub_id, period.start) in invoiced)
            out.append(rules.Alert(sub_id, period.start, rules.FAIR_USE, "", int(at), {"late": late}))
    return out


def _spend_limit_alerts(
    conn: Connection, batch_id: int, now: datetime, invoiced: set[tuple[int, date]]
) -> list[rules.Alert]:
    """The rater's notices at 80 % and 100 % of the non-EU data spending limit, for the records of this batch."""
    n, u = m.RoamingNotice, m.UsageEvent
    q = (
        select(n.subscription_id, n.period_start, n.threshold, n.spent_ore, n.limit_ore, u.started_at)
        .join(u, u.record_id == n.record_id)
        .where(u.batch_id == batch_id)
    )
    out: list[rules.Alert] = []
    for sub_id, pstart, threshold, spent, limit, at in conn.execute(q):
        level = str(int(round(float(threshold) * 100)))  # "0.8" → "80"
        late = rules.is_late(int(at), now, period_invoiced=(sub_id, pstart) in invoiced)
        data = {"spent_ore": int(spent), "limit_ore": int(limit), "late": late and level != "100"}
        out.append(rules.Alert(sub_id, pstart, rules.SPEND_LIMIT, level, int(at), data))
    return out


# --------------------------------------------------------------------------- the cost warning


def _cost_limits(conn: Connection, sub_ids: list[int]) -> dict[int, int]:
    """The touched subscriptions whose subscriber chose a monthly cost warning, with the amount."""
    out: dict[int, int] = {}
    for part in chunks(sub_ids):
        q = select(AlertSetting.subscription_id, AlertSetting.cost_limit_ore).where(
            AlertSetting.subscription_id.in_(part), AlertSetting.cost_limit_ore.is_not(None)
        )
        out.update({sub_id: int(limit) for sub_id, limit in conn.execute(q) if limit is not None})
    return out


def _latest_events(conn: Connection, batch_id: int, sub_ids: list[int]) -> dict[tuple[int, date], int]:
    u = m.UsageEvent
    out: dict[tuple[int, date], int] = {}
    for part in chunks(sub_ids):
        q = (
            select(u.subscription_id, u.period_start, func.max(u.started_at))
            .where(u.batch_id == batch_id, u.subscription_id.in_(part))
            .group_by(u.subscription_id, u.period_start)
        )
        out.update({(sub_id, pstart): int(at) for sub_id, pstart, at in conn.execute(q)})
    return out


def _cost_alerts(
    engine: Engine,
    catalogue: Catalogue,
    limits: dict[int, int],
    latest: dict[tuple[int, date], int],
    subs: dict[int, Subscription],
    now: datetime,
    invoiced: set[tuple[int, date]],
) -> list[rules.Alert]:
    """The bill's forecast (the account's next invoice as it stands, projected) over the chosen amount."""
    out: list[rules.Alert] = []
    forecasts: dict[int, dict[str, Any]] = {}
    for (sub_id, pstart), at in latest.items():
        sub = subs.get(sub_id)
        if sub is None or (sub_id, pstart) in invoiced:
            continue
        if sub.customer_id not in forecasts:
            forecasts[sub.customer_id] = forecast(engine, catalogue, sub.customer_id, today=now.date())
        doc = forecasts[sub.customer_id]
        if doc["period"]["start"] != pstart.isoformat() or doc["forecast_ore"] <= limits[sub_id]:
            continue
        data = {"forecast_ore": int(doc["forecast_ore"]), "limit_ore": limits[sub_id]}
        data["late"] = rules.is_late(at, now, period_invoiced=False)
        out.append(rules.Alert(sub_id, pstart, rules.COST, "", at, data))
    return out


# --------------------------------------------------------------------------- helpers


def _subscriptions(conn: Connection, sub_ids: list[int]) -> list[Subscription]:
    customers = {
        cid
        for part in chunks(sub_ids)
        for (cid,) in conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id.in_(part)))
    }
    wanted = set(sub_ids)
    return [s for s in load_subscriptions(conn, customer_ids=customers) if s.id in wanted]


def _invoiced_periods(conn: Connection, touched: Sequence[Any]) -> set[tuple[int, date]]:
    """The touched (subscription, period) pairs whose period is already on an invoice."""
    u = m.UsageEvent
    out: set[tuple[int, date]] = set()
    for part in chunks(sorted({t[0] for t in touched})):
        q = (
            select(u.subscription_id, u.period_start)
            .where(u.subscription_id.in_(part), u.invoice_id.is_not(None))
            .group_by(u.subscription_id, u.period_start)
        )
        out.update((sub_id, pstart) for sub_id, pstart in conn.execute(q))
    return out


def _by_period(touched: Sequence[Any]) -> dict[date, list[tuple[int, bool, bool]]]:
    out: dict[date, list[tuple[int, bool, bool]]] = defaultdict(list)
    for sub_id, pstart, roaming, surcharge in touched:
        out[pstart].append((sub_id, bool(roaming), bool(surcharge)))
    return out
