"""Rating: usage events of one subscription and billing period to exact charges.

Pure. ``PeriodRater`` holds the state of one (subscription, period): what is left of
each allowance, the EU fair-use volume and the non-EU data spend. Events are fed in
(``started_at``, ``record_id``) order, so the same set of events always gives the same
charges, whatever order they arrived in (rules §2). Each event either gets a
``RatedEvent`` or a ``Rejection`` (the reason it goes to suspense).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from backend_stub.domain.catalogue import UNLIMITED, Catalogue, Plan, Tariff, Zone
from backend_stub.domain.money import EXACT_PER_ORE
from backend_stub.domain.periods import Period, PlanSegment, Subscription

STOCKHOLM = ZoneInfo("Europe/Stockholm")
GB = 1_000_000_000
MB = 1_000_000


class UsageEvent(NamedTuple):
    """A usage record as the rating engine sees it (validated, times as UTC epoch seconds)."""

    record_id: str
    msisdn: str
    service: str  # voice, sms, mms, data
    started_at: int  # epoch seconds, UTC
    duration_s: int
    volume_bytes: int
    called_number: str
    visited_country: str


class RatedEvent(NamedTuple):
    """The result of rating one event. Charges are exact (``money.EXACT_PER_ORE``)."""

    record_id: str
    plan_id: str
    category: str  # domestic, international, premium, eu_roaming, roaming
    rate_key: str
    offpeak: bool
    billed_units: int  # seconds, messages or bytes after increments
    included_units: int  # covered by an allowance
    charged_units: int  # billed at the rate (billed - included, less fair-use part)
    surcharge_units: int  # EU data beyond fair use, at the surcharge rate
    charge_exact: int  # everything: usage + connection fee + surcharge
    fee_exact: int  # the connection fee part
    surcharge_exact: int  # the EU fair-use surcharge part
    destination: str  # destination class id, or roaming zone id


class Rejection(NamedTuple):
    record_id: str
    field: str
    reason: str


class Notification(NamedTuple):
    """A bill-shock notice: non-EU roaming data spend reached ``threshold`` of the limit."""

    record_id: str
    threshold: str  # "0.8", "1.0"
    spent_ore: int
    limit_ore: int


def billed_seconds(duration: int, first: int, nxt: int) -> int:
    """Charging increment a/b: ``a`` if d ≤ a, else ``a + ceil((d − a)/b) × b``; 0 s bills 0."""
    if duration <= 0:
        return 0
    if duration <= first:
        return first
    return first + -(-(duration - first) // nxt) * nxt


def billed_bytes(volume: int, increment: int) -> int:
    """Data volume rounded up to the rate's increment."""
    if volume <= 0:
        return 0
    return -(-volume // increment) * increment


def prorated_units(amount: int, days: int, period_days: int) -> int:
    """An allowance (base units) prorated by ``days/period_days``, rounded down to a whole base unit.

    Prorating in bytes, seconds or messages (not in the unit the catalogue happened to write)
    makes "5 GB" and "5000 MB" the same allowance (rules §4): 5 GB for 15 of 30 days is 2,5 GB.
    """
    if amount == UNLIMITED or days >= period_days:
        return amount
    return amount * days // period_days


def fair_use_bytes(catalogue: Catalogue, plan: Plan, year: int, days: int, period_days: int) -> int:
    """EU fair-use volume (Regulation (EU) 2022/612): 2 × price ex VAT ÷ wholesale cap, in GB.

    The price is converted to EUR at the catalogue's rate; the result is prorated like
    allowances and rounded down to a whole byte (exact: ``Fraction`` throughout).
    """
    roaming = catalogue.roaming
    return _fair_use_bytes(roaming.wholesale_cap(year), roaming.eur_to_sek, plan.fee_ex_vat, days, period_days)


@lru_cache(maxsize=4096)
def _fair_use_bytes(cap_eur: Any, eur_to_sek: Any, fee_ex_vat: Any, days: int, period_days: int) -> int:
    """The exact computation, cached on plain values: a bill run asks it for every subscription."""
    cap_sek = Fraction(cap_eur) * Fraction(eur_to_sek)
    if cap_sek <= 0:
        return UNLIMITED
    fee_kr = Fraction(fee_ex_vat) / 100
    volume = 2 * fee_kr / cap_sek * GB * days / period_days
    return math.floor(volume)


_LOCAL_HOURS: dict[int, tuple[date, int, int]] = {}


@dataclass
class _SegmentState:
    segment: PlanSegment
    plan: Plan
    remaining: dict[str, int]  # pool -> base units left (UNLIMITED = -1)
    fair_use_left: int


class PeriodRater:
    """Rates the events of one subscription in one billing period, in event order."""

    def __init__(
        self,
        catalogue: Catalogue,
        subscription: Subscription,
        period: Period,
        extra_allowances: list[tuple[date, str, int]] | None = None,
        *,
        bought_allowances: list[tuple[int, str, int]] | None = None,
        roaming_continue_at: int | None = None,
        spend_limits: Sequence[tuple[int, int]] | None = None,
    ):
        """``extra_allowances`` count from the start of the period (on the plan active that day);
        ``bought_allowances`` are add-ons ``(bought at, epoch s UTC; pool; base units)``: they count
        for events that start at or after the purchase only (earlier events keep their charges).
        ``roaming_continue_at``: when the subscriber chose to go on using data outside the EU/EEA past the
        spending limit this period (epoch s): data that starts then or later is charged again.
        ``spend_limits``: the subscriber's chosen spending limits, ``(from, epoch s; limit, öre)`` rising by time;
        each data event outside the EU/EEA is capped at the limit in force when it started (before the first
        choice: the first one's). None: the catalogue's limit.
        """
        self.catalogue = catalogue
        self.subscription = subscription
        self.period = period
        self.states: list[_SegmentState] = []
        for seg, days in subscription.segments_in(period):
            plan = catalogue.plans.get(seg.plan_id)
            if plan is None:
                continue  # an unknown plan rejects its events below
            remaining = {pool: prorated_units(a.amount, days, period.days) for pool, a in plan.allowances.items()}
            fair = fair_use_bytes(catalogue, plan, period.start.year, days, period.days)
            self.states.append(_SegmentState(seg, plan, remaining, fair))
        for day, pool, amount in extra_allowances or ():
            state = self._state_on(day)
            if state is not None and state.remaining.get(pool, 0) != UNLIMITED:
                state.remaining[pool] = state.remaining.get(pool, 0) + amount
        # The common case, one plan the whole period: every event of the period is on it.
        only = self.states[0].segment if len(self.states) == 1 else None
        self._whole_period = (
            self.states[0]
            if only is not None and only.start <= period.start and (only.end is None or only.end >= period.end)
            else None
        )
        roaming = catalogue.roaming
        limits = sorted(spend_limits) if spend_limits else [(0, roaming.data_spend_limit_ore)]
        self._limit_from = [at for at, _ore in limits]
        self._limits_exact = [ore * EXACT_PER_ORE for _at, ore in limits]
        self.spend_limit_exact = self._limits_exact[-1]  # the limit in force now (the latest chosen)
        self.roaming_data_spent = 0
        self.notify_at = sorted(roaming.notify_at)
        self.notified: set[str] = set()
        self.notifications: list[Notification] = []
        self.roaming_continue_at = roaming_continue_at
        self.roamed = False  # an event abroad was rated (what the usage alerts look at, services/alerts)
        self.first_surcharge_at: int | None = None  # the first event charged the EU fair-use surcharge
        self._extra = list(extra_allowances or ())
        self._bought_all = list(bought_allowances or ())
        if bought_allowances:
            # Only a rater with add-ons pays for the purchase-time check: its ``rate`` is the gated one.
            self._bought = sorted(bought_allowances)
            self.rate = self._rate_after_purchases  # type: ignore[method-assign]

    def _state_on(self, day: date) -> _SegmentState | None:
        for state in self.states:
            if state.segment.active_on(day):
                return state
        return None

    @staticmethod
    def _local(ts: int) -> tuple[date, int, int]:
        """(local date, weekday, minute of day) in Europe/Stockholm; cached per UTC hour.

        Stockholm's offset changes only on whole UTC hours, so the hour's start tells the
        rest. The cache is shared by all raters of the process (a month is ~744 hours).
        """
        hour = ts // 3600
        hit = _LOCAL_HOURS.get(hour)
        if hit is None:
            local = datetime.fromtimestamp(hour * 3600, STOCKHOLM)
            hit = (local.date(), local.weekday(), local.hour * 60)
            if len(_LOCAL_HOURS) >= 100_000:  # ~11 years of hours
                _LOCAL_HOURS.clear()
            _LOCAL_HOURS[hour] = hit
        return hit[0], hit[1], hit[2] + (ts % 3600) // 60

    def rate(self, ev: UsageEvent) -> RatedEvent | Rejection:
        """Rate one event, in ``(started_at, record_id)`` order: the import's hot path, in one piece on purpose."""
        day, weekday, minute = self._local(ev.started_at)
        whole = self._whole_period
        state = whole if whole is not None and self.period.start <= day <= self.period.end else self._state_on(day)
        if state is None:
            return self._no_subscription(ev, day)
        plan = state.plan
        tariff = plan.tariff
        if tariff is None:
            return Rejection(ev.record_id, "service", f"plan {plan.id} ({plan.kind}) has no usage tariff")
        service = ev.service
        country = ev.visited_country
        category_override = None
        if country:
            self.roamed = True
            zone = self.catalogue.zone_of(country)
            if zone is None:
                return Rejection(ev.record_id, "visited_country", f"no roaming zone for country {country}")
            if not zone.eu:
                return self._rate_roaming(ev, plan.id, zone)
            category_override = "eu_roaming"  # roam like at home

        # Home network, or EU/EEA roaming (roam like at home): which rate, how many units.
        if service == "data":
            rate = tariff.rates.get(("data", ""))
            if rate is None:
                return Rejection(ev.record_id, "service", f"tariff {tariff.id} has no data rate")
            destination, category = "", "domestic"
            billed = billed_bytes(ev.volume_bytes, rate.first_block)
        else:
            number = ev.called_number
            dest = self.catalogue.destination_of(number)
            if dest is None:
                return Rejection(ev.record_id, "called_number", f"unknown destination {number}")
            priced_as = dest.id
            if category_override is not None and dest.eea and self.catalogue.roaming.calls_as:
                priced_as = self.catalogue.roaming.calls_as  # roam like at home: an EU/EEA number costs a call home
            rate = tariff.rates.get((service, priced_as))
            if rate is None:
                return self._no_rate(ev, tariff, priced_as)
            destination, category = dest.id, dest.category
            billed = billed_seconds(ev.duration_s, rate.first_block, rate.next_block) if service == "voice" else 1

        # What it costs: beyond fair use the surcharge, then the allowance, the rest at the (off-peak) price.
        offpeak, per_unit = False, rate.exact_per_unit
        if rate.offpeak_exact_per_unit is not None and tariff.offpeak is not None:
            if tariff.offpeak.is_offpeak(weekday, minute):
                offpeak = True
                per_unit = rate.offpeak_exact_per_unit
        usable, surcharge_units, surcharge = billed, 0, 0
        if category_override == "eu_roaming" and service == "data" and state.fair_use_left != UNLIMITED:
            usable, surcharge_units, surcharge = self._beyond_fair_use(state, billed, ev.started_at)
        included = 0
        pool = rate.allowance
        if pool and usable:
            left = state.remaining.get(pool, 0)
            if left == UNLIMITED:
                included = usable
            elif left > 0:
                included = min(usable, left)
                state.remaining[pool] = left - included
        charged = usable - included
        fee = rate.connection_fee_exact if billed and service == "voice" else 0
        charge = charged * per_unit + fee + surcharge
        return RatedEvent(
            ev.record_id,
            plan.id,
            category_override or category,
            rate.key,
            offpeak,
            billed,
            included,
            charged,
            surcharge_units,
            charge,
            fee,
            surcharge,
            destination,
        )

    def _beyond_fair_use(self, state: _SegmentState, billed: int, at: int) -> tuple[int, int, int]:
        """EU/EEA roaming data: (bytes within the fair-use limit, bytes beyond it, their surcharge, exact); notes
        when the first surcharge was (``at``, the event's start: what the usage alerts look at)."""
        within = min(billed, state.fair_use_left)
        state.fair_use_left -= within
        surcharge_units = billed - within
        if surcharge_units and self.first_surcharge_at is None:
            self.first_surcharge_at = at
        return within, surcharge_units, surcharge_units * self.catalogue.roaming.fair_use_surcharge.exact_per_unit

    def _rate_roaming(self, ev: UsageEvent, plan_id: str, zone: Zone) -> RatedEvent | Rejection:
        """Roaming outside the EU/EEA: the zone's own rates, no allowances; data is capped by the spend limit."""
        service = ev.service
        rate = zone.rates.get(service)
        if rate is None:
            return Rejection(ev.record_id, "service", f"no {service} rate in roaming zone {zone.id}")
        if service == "voice":
            billed = billed_seconds(ev.duration_s, rate.first_block, rate.next_block)
        elif service == "data":
            billed = billed_bytes(ev.volume_bytes, rate.first_block)
        else:
            billed = 1
        charge = billed * rate.exact_per_unit
        fee = rate.connection_fee_exact if billed and service == "voice" else 0
        if service == "data":
            continued = self.roaming_continue_at
            if continued is None or ev.started_at < continued:
                charge = self._cap_roaming_data(ev.record_id, charge, ev.started_at)
        return RatedEvent(
            ev.record_id, plan_id, "roaming", rate.key, False, billed, 0, billed, 0, charge + fee, fee, 0, zone.id
        )

    def _no_subscription(self, ev: UsageEvent, day: date) -> Rejection:
        """No plan on the event's day: none at all, or one the catalogue does not have."""
        if self.subscription.segment_on(day) is not None:
            return Rejection(ev.record_id, "msisdn", "the subscription's plan is not in the catalogue")
        return Rejection(ev.record_id, "msisdn", f"no active subscription for {ev.msisdn} on {day}")

    def _no_rate(self, ev: UsageEvent, tariff: Tariff, priced_as: str) -> Rejection:
        return Rejection(
            ev.record_id,
            "called_number",
            f"tariff {tariff.id} has no {ev.service} rate for {self.catalogue.destinations[priced_as].name}",
        )

    def _rate_after_purchases(self, ev: UsageEvent) -> RatedEvent | Rejection:
        """``rate`` for a period with add-ons: purchases made up to the event's start count first."""
        bought = self._bought
        while bought and bought[0][0] <= ev.started_at:
            self._add_bought(*bought.pop(0))
        return PeriodRater.rate(self, ev)

    def _add_bought(self, at: int, pool: str, amount: int) -> None:
        """Grow ``pool`` of the plan active when the add-on was bought (a later plan has its own)."""
        state = self._state_on(self._local(at)[0])
        if state is None:
            return
        left = state.remaining.get(pool, 0)
        if left == UNLIMITED:
            return
        state.remaining[pool] = UNLIMITED if amount == UNLIMITED else left + amount

    def apply_purchases(self, until: int) -> None:
        """Count the add-ons bought up to ``until`` (epoch s) without rating anything (what is left now)."""
        bought = getattr(self, "_bought", None)
        while bought and bought[0][0] <= until:
            self._add_bought(*bought.pop(0))

    def spend_limit_at(self, at: int) -> int:
        """The spending limit (exact) in force at ``at`` (epoch s)."""
        if len(self._limits_exact) == 1:
            return self._limits_exact[0]
        return self._limits_exact[max(0, bisect_right(self._limit_from, at) - 1)]

    def _cap_roaming_data(self, record_id: str, charge: int, at: int) -> int:
        """Bill-shock protection: non-EU roaming data stops being charged at the limit in force when it started."""
        limit = self.spend_limit_at(at)
        room = max(0, limit - self.roaming_data_spent)
        charge = min(charge, room)
        self.roaming_data_spent += charge
        for threshold in self.notify_at:
            key = str(threshold)
            if key not in self.notified and self.roaming_data_spent * 1 >= limit * threshold:
                self.notified.add(key)
                self.notifications.append(
                    Notification(record_id, key, self.roaming_data_spent // EXACT_PER_ORE, limit // EXACT_PER_ORE)
                )
        return charge

    def allowance_totals(self) -> dict[str, int]:
        """The period's allowance per pool: each plan segment's, prorated, and every add-on bought for the
        period, whenever bought (``UNLIMITED`` where any part has no limit)."""
        totals: dict[str, int] = {}
        parts = [
            (pool, prorated_units(a.amount, days, self.period.days) if a.amount != UNLIMITED else UNLIMITED)
            for seg, days in self.subscription.segments_in(self.period)
            if (plan := self.catalogue.plans.get(seg.plan_id)) is not None
            for pool, a in plan.allowances.items()
        ]
        parts += [(pool, amount) for _day, pool, amount in self._extra]
        parts += [(pool, amount) for _at, pool, amount in self._bought_all]
        for pool, amount in parts:
            if totals.get(pool) != UNLIMITED:
                totals[pool] = UNLIMITED if amount == UNLIMITED else totals.get(pool, 0) + amount
        return totals

    def allowances_added(self) -> bool:
        """Whether add-ons or extra allowances add to the plans' own this period."""
        return bool(self._bought_all or self._extra)

    def allowance_left(self) -> dict[str, int]:
        """What is left of each pool now, over all plan segments (``UNLIMITED`` where any has no limit); add-ons
        not yet reached by an event are counted as left (``apply_purchases`` first to count them)."""
        left: dict[str, int] = {}
        for state in self.states:
            for pool, amount in state.remaining.items():
                if left.get(pool) != UNLIMITED:
                    left[pool] = UNLIMITED if amount == UNLIMITED else left.get(pool, 0) + amount
        return left

    def remaining(self) -> dict[str, int]:
        """Allowance left per pool in the latest segment (UNLIMITED = -1)."""
        return dict(self.states[-1].remaining) if self.states else {}


def event_order(ev: UsageEvent) -> tuple[int, str]:
    """The order events are applied in: (started_at, record_id)."""
    return ev.started_at, ev.record_id


def rate_period(
    catalogue: Catalogue,
    subscription: Subscription,
    period: Period,
    events: list[UsageEvent],
    frozen: list[UsageEvent] = (),  # type: ignore[assignment]
    extra_allowances: list[tuple[date, str, int]] | None = None,
    *,
    bought_allowances: list[tuple[int, str, int]] | None = None,
    roaming_continue_at: int | None = None,
    spend_limits: Sequence[tuple[int, int]] | None = None,
) -> tuple[list[RatedEvent | Rejection], PeriodRater]:
    """Rate ``events`` of one subscription and period, after replaying ``frozen`` ones.

    ``frozen`` are events already invoiced: they are replayed only to rebuild what they
    consumed, so late events are rated "with what was left of that period's allowances".
    ``bought_allowances``, ``roaming_continue_at``, ``spend_limits``: see ``PeriodRater``.
    """
    rater = PeriodRater(
        catalogue,
        subscription,
        period,
        extra_allowances,
        bought_allowances=bought_allowances,
        roaming_continue_at=roaming_continue_at,
        spend_limits=spend_limits,
    )
    for ev in sorted(frozen, key=event_order):
        rater.rate(ev)
    return [rater.rate(ev) for ev in sorted(events, key=event_order)], rater
