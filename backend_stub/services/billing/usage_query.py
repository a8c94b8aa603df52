"""Usage queries: itemised records with paging and filters, and aggregates for charts."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select

from backend_stub import clock
from backend_stub.domain.catalogue import UNLIMITED, Catalogue, in_language
from backend_stub.domain.errors import Invalid
from backend_stub.domain.invoicing import UsageAggregate, _rate_index, usage_lines
from backend_stub.domain.money import exact_to_ore
from backend_stub.domain.periods import Period, Subscription, period_for
from backend_stub.domain.rating import STOCKHOLM, PeriodRater
from backend_stub.services.charges.addons import bought_by_pool
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions

logger = logging.getLogger(__name__)

SERVICES = ("voice", "sms", "mms", "data")
CATEGORIES = ("domestic", "international", "premium", "eu_roaming", "roaming")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).timestamp())


def _filters(
    q,
    customer_id: int,
    period: Period | None,
    subscription_id: int | None,
    service: str | None,
    category: str | None,
    charged_only: bool,
):
    u = m.UsageEvent
    q = q.where(u.customer_id == customer_id)
    if period is not None:
        q = q.where(u.started_at >= _epoch(period.start), u.started_at < _epoch(period.end + timedelta(days=1)))
    if subscription_id is not None:
        q = q.where(u.subscription_id == subscription_id)
    if service:
        if service not in SERVICES:
            raise Invalid("service", f"{service!r} is not one of {', '.join(SERVICES)}")
        q = q.where(u.service == service)
    if category:
        if category not in CATEGORIES:
            raise Invalid("category", f"{category!r} is not one of {', '.join(CATEGORIES)}")
        q = q.where(u.category == category)
    if charged_only:
        q = q.where(u.charge_exact > 0)
    return q


def itemised(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    *,
    period: str | None = None,
    subscription_id: int | None = None,
    service: str | None = None,
    category: str | None = None,
    rate_key: str | None = None,
    charged_only: bool = False,
    invoice_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Rated usage records, newest first, with cost rounded for display only (rules §1)."""
    if not 1 <= limit <= 1000:
        raise Invalid("limit", "must be 1..1000")
    p = period_for(period) if period else None
    u = m.UsageEvent
    q = _filters(select(u), customer_id, p, subscription_id, service, category, charged_only)
    if rate_key:
        q = q.where(u.rate_key == rate_key)
    if invoice_id:
        q = q.where(u.invoice_id == invoice_id)
    rates = _rate_index(catalogue)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.order_by(u.started_at.desc(), u.record_id.desc()).limit(limit).offset(offset))
        msisdn = {s.id: s.msisdn for s in load_subscriptions(conn, customer_ids=[customer_id])}
        items = []
        for r in rows:
            rate = rates.get(r.rate_key)
            items.append(
                {
                    "record_id": r.record_id,
                    "subscription_id": r.subscription_id,
                    "msisdn": msisdn.get(r.subscription_id),
                    "service": r.service,
                    "started_at": datetime.fromtimestamp(r.started_at, STOCKHOLM).isoformat(),
                    "duration_s": r.duration_s,
                    "volume_bytes": r.volume_bytes,
                    "called_number": r.called_number,
                    "visited_country": r.visited_country,
                    "category": r.category,
                    "rate_key": r.rate_key,
                    "description": rate.name if rate else r.rate_key,
                    "description_en": in_language(rate, "en") if rate else r.rate_key,
                    "billed_units": r.billed_units,
                    "included_units": r.included_units,
                    "charged_units": r.charged_units,
                    "cost_ore": exact_to_ore(r.charge_exact),
                    "included": r.charge_exact == 0,
                    "late": r.late,
                    "invoice_id": r.invoice_id,
                    "period": r.period_start.isoformat()[:7],
                }
            )
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def summary(
    engine: Engine, catalogue: Catalogue, customer_id: int, period: str, today: date | None = None
) -> dict[str, Any]:
    """Aggregates of one period for charts: per day and service, per category, allowances and use."""
    p = period_for(period)
    with engine.connect() as conn:
        subs = load_subscriptions(conn, customer_ids=[customer_id])
        per_day = _per_day(conn, customer_id, p)
        per_category = _per_category(conn, customer_id, p)
        used = _used_per_pool(conn, catalogue, customer_id, p)
        bought = bought_by_pool(conn, customer_id, p.start, p.end)  # add-ons bought this period count too
    allowances = _allowances(catalogue, subs, p, bought)
    for pool, entry in allowances.items():
        entry["used"] = used.get(pool, 0)
        entry["remaining"] = None if entry["unlimited"] else max(0, entry["included"] - entry["used"])
    today = today or clock.today()
    days_left = (p.end - today).days + 1 if p.contains(today) else 0
    return {
        "period": p.label,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "days_left": days_left,
        "per_day": {s: dict(sorted(v.items())) for s, v in per_day.items()},
        "per_category": per_category,
        "allowances": list(allowances.values()),
    }


def _in_period(q: Any, customer_id: int, p: Period) -> Any:
    """``q`` over the customer's events that started in ``p``, charged or not."""
    return _filters(q, customer_id, p, None, None, None, False)


def _per_day(conn: Connection, customer_id: int, p: Period) -> dict[str, dict[str, int]]:
    """Per service and local day: seconds of calls, bytes of data, a count of the rest."""
    u = m.UsageEvent
    per_day: dict[str, dict[str, int]] = {s: defaultdict(int) for s in SERVICES}
    q = _in_period(select(u.started_at, u.service, u.billed_units, u.duration_s, u.volume_bytes), customer_id, p)
    for r in conn.execute(q):
        day = datetime.fromtimestamp(r.started_at, STOCKHOLM).date().isoformat()
        if r.service == "voice":
            per_day["voice"][day] += r.duration_s
        elif r.service == "data":
            per_day["data"][day] += r.volume_bytes
        else:
            per_day[r.service][day] += 1
    return per_day


def _per_category(conn: Connection, customer_id: int, p: Period) -> dict[str, dict[str, int]]:
    """Per category: the events and what they cost (rounded)."""
    u = m.UsageEvent
    per_category = {c: {"count": 0, "cost_ore": 0} for c in CATEGORIES}
    q = _in_period(select(u.category, func.count(), func.sum(u.charge_exact)).group_by(u.category), customer_id, p)
    for cat, count, exact in conn.execute(q):
        per_category[cat] = {"count": int(count), "cost_ore": exact_to_ore(int(exact or 0))}
    return per_category


def _used_per_pool(conn: Connection, catalogue: Catalogue, customer_id: int, p: Period) -> dict[str, int]:
    """Units used per allowance pool (the fair-use surcharge's units apart)."""
    u = m.UsageEvent
    rates = _rate_index(catalogue)
    used: dict[str, int] = defaultdict(int)
    q = _in_period(
        select(u.rate_key, func.sum(u.billed_units - u.surcharge_units)).group_by(u.rate_key), customer_id, p
    )
    for key, units in conn.execute(q):
        rate = rates.get(key)
        if rate is not None and rate.allowance:
            used[rate.allowance] += int(units or 0)
    return used


def _allowances(
    catalogue: Catalogue, subs: list[Subscription], p: Period, bought: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """Per pool: what the plans include in ``p`` (prorated as rating does) plus add-ons bought, or unlimited."""
    allowances: dict[str, dict[str, Any]] = {}
    for sub in subs:
        rater = PeriodRater(catalogue, sub, p)
        for state in rater.states:
            for pool, amount in state.remaining.items():
                entry = allowances.setdefault(
                    pool, {"pool": pool, "included": 0, "unlimited": False, "unit": state.plan.allowances[pool].unit}
                )
                if amount == UNLIMITED:
                    entry["unlimited"] = True
                else:
                    entry["included"] += amount
    for pool, units in bought.items():
        entry = allowances.setdefault(
            pool,
            {"pool": pool, "included": 0, "unlimited": False, "unit": {"data": "GB", "voice": "min"}.get(pool, "st")},
        )
        entry["bought"] = units
        if units == UNLIMITED:
            entry["unlimited"] = True
        else:
            entry["included"] += units
    return allowances


# --- the records behind one invoice line ----------------------------------------------------

# Which part of a rated event's exact charge an invoice line bills (``invoicing.usage_lines``
# writes up to three lines per aggregate: the usage, the connection fees, the EU surcharge).
_PART_EXACT = {
    "usage": lambda u: u.charge_exact - u.fee_exact - u.surcharge_exact,
    "fee": lambda u: u.fee_exact,
    "surcharge": lambda u: u.surcharge_exact,
}


def _line_signature(line: dict[str, Any]) -> tuple:
    return (
        line.get("description"),
        line.get("kind"),
        line.get("subscription_id"),
        line.get("rate_key"),
        line.get("amount_ore"),
    )


def _line_source(conn, catalogue: Catalogue, doc: dict[str, Any], position: int):
    """``(aggregate, part)`` of the usage line at ``position`` (1-based), or None for other lines.

    The invoice's own events are aggregated as the bill run did and their lines written again
    with the same function; the document's line is the k-th of its kind among them. So the
    records found are exactly those the line was summed from, off-peak and late ones apart.
    """
    lines = doc.get("lines") or []
    line = lines[position - 1]
    if line.get("kind") not in ("usage", "connection_fee", "late_usage") or not line.get("rate_key"):
        return None
    u = m.UsageEvent
    q = (
        select(
            u.subscription_id,
            u.period_start,
            u.rate_key,
            u.offpeak,
            func.sum(u.charged_units),
            func.sum(u.charge_exact - u.fee_exact - u.surcharge_exact),
            func.sum(func.coalesce((u.fee_exact > 0).cast(m.Integer), 0)),
            func.sum(u.fee_exact),
            func.sum(u.surcharge_units),
            func.sum(u.surcharge_exact),
        )
        .where(u.customer_id == doc["customer_id"], u.invoice_id == doc["id"])
        .group_by(u.subscription_id, u.period_start, u.rate_key, u.offpeak)
    )
    aggregates = [
        UsageAggregate(
            r[0],
            r[1],
            r[2],
            bool(r[3]),
            int(r[4] or 0),
            int(r[5] or 0),
            int(r[6] or 0),
            int(r[7] or 0),
            int(r[8] or 0),
            int(r[9] or 0),
        )
        for r in conn.execute(q)
    ]
    period = Period(date.fromisoformat(doc["period"]["start"]), date.fromisoformat(doc["period"]["end"]))
    generated: list[tuple[tuple, Any, str]] = []
    for agg in sorted(aggregates, key=lambda a: (a.subscription_id, a.period_start, a.rate_key, a.offpeak)):
        made = usage_lines(catalogue, [agg], period, {})
        parts = ["usage"] * (len(made) - bool(agg.fee_exact) - bool(agg.surcharge_exact))
        parts += ["fee"] * bool(agg.fee_exact) + ["surcharge"] * bool(agg.surcharge_exact)
        generated += [(_line_signature(ln.as_dict()), agg, part) for ln, part in zip(made, parts, strict=True)]
    sig = _line_signature(line)
    nth = sum(1 for ln in lines[: position - 1] if _line_signature(ln) == sig)
    same = [(agg, part) for s, agg, part in generated if s == sig]
    return same[nth] if nth < len(same) else None


def line_records(
    engine: Engine, catalogue: Catalogue, doc: dict[str, Any], position: int, *, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """The rated records behind one invoice line, each with its share of that line.

    A record's ``cost_ore`` is the part of its charge this line bills (a call's connection fee
    is on the fee line, not the call line), rounded for display. The line itself is the
    rounded exact sum (rules §1), so the rounded records can differ from it by a few öre:
    ``rounding_ore`` is that difference, over all the line's records, and
    ``records_ore + rounding_ore == line amount`` always.
    """
    if not 1 <= limit <= 1000:
        raise Invalid("limit", "must be 1..1000")
    line = doc["lines"][position - 1]
    out: dict[str, Any] = {
        "line": line,
        "items": [],
        "total": 0,
        "limit": limit,
        "offset": offset,
        "part": None,
        "records_ore": 0,
        "rounding_ore": 0,
        "amount_ore": line["amount_ore"],
    }
    u = m.UsageEvent
    with engine.connect() as conn:
        source = _line_source(conn, catalogue, doc, position)
        if source is None:
            return out
        agg, part = source
        q = _records_of(doc, agg, part)
        share = _PART_EXACT[part]
        every = [share(r) for r in conn.execute(q.with_only_columns(u.charge_exact, u.fee_exact, u.surcharge_exact))]
        rows = list(conn.execute(q.order_by(u.started_at.desc(), u.record_id.desc()).limit(limit).offset(offset)))
        msisdn = {s.id: s.msisdn for s in load_subscriptions(conn, customer_ids=[doc["customer_id"]])}
    rates = _rate_index(catalogue)
    shown = sum(exact_to_ore(x) for x in every)
    if exact_to_ore(sum(every)) != line["amount_ore"]:  # never expected: the document and the events disagree
        logger.warning(
            "invoice %s line %s: records sum to %s öre, the line says %s",
            doc["id"],
            position,
            exact_to_ore(sum(every)),
            line["amount_ore"],
        )
    items = [_record_item(r, line, part, rates.get(r.rate_key), msisdn, share(r)) for r in rows]
    out.update(items=items, total=len(every), part=part, records_ore=shown, rounding_ore=line["amount_ore"] - shown)
    return out


def _records_of(doc: dict[str, Any], agg: UsageAggregate, part: str) -> Select[Any]:
    """The invoice's events summed into ``agg``; of those, the ones with a fee or surcharge for such a part."""
    u = m.UsageEvent
    q = select(u).where(
        u.customer_id == doc["customer_id"],
        u.invoice_id == doc["id"],
        u.subscription_id == agg.subscription_id,
        u.period_start == agg.period_start,
        u.rate_key == agg.rate_key,
        u.offpeak == agg.offpeak,
    )
    if part == "fee":
        q = q.where(u.fee_exact > 0)
    elif part == "surcharge":
        q = q.where(u.surcharge_exact > 0)
    return q


def _record_item(
    r: Any, line: dict[str, Any], part: str, rate: Any, msisdn: dict[int, str | None], exact: int
) -> dict[str, Any]:
    """One record as the line's list shows it: ``cost_ore`` is its share of this line, ``charge_ore`` all of it."""
    return {
        "record_id": r.record_id,
        "subscription_id": r.subscription_id,
        "msisdn": msisdn.get(r.subscription_id),
        "service": r.service,
        "started_at": datetime.fromtimestamp(r.started_at, STOCKHOLM).isoformat(),
        "duration_s": r.duration_s,
        "volume_bytes": r.volume_bytes,
        "called_number": r.called_number,
        "visited_country": r.visited_country,
        "category": r.category,
        "rate_key": r.rate_key,
        "description": line["description"] if part != "usage" else (rate.name if rate else r.rate_key),
        "billed_units": r.billed_units,
        "included_units": r.included_units,
        "charged_units": r.charged_units,
        "cost_ore": exact_to_ore(exact),
        "included": part == "usage" and exact == 0,
        "charge_ore": exact_to_ore(r.charge_exact),  # the whole record (all its lines together)
        "late": r.late,
        "invoice_id": r.invoice_id,
        "period": r.period_start.isoformat()[:7],
    }
