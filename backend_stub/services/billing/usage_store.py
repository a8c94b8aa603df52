"""What the usage import reads and writes: the record ids it knows, the stored events of the periods it
rates, the add-ons bought in them, the invoiced periods; suspense rows, bill-shock notices, re-rated
results and the late-usage note on an invoice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import JSON, BigInteger, Connection, Date, cast, func, insert, null, select, union_all, update

from backend_stub import clock
from backend_stub.domain.periods import Subscription
from backend_stub.domain.rating import UsageEvent
from backend_stub.domain.texts import render
from backend_stub.services.billing.usage_rating import (
    RESULT_FIELDS,
    Bought,
    GroupKey,
    Reject,
    StoredEvent,
    normalise,
)
from backend_stub.services.lifecycle.ledger import add_event
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import AlertSetting, RoamingContinue
from backend_stub.storage.models.charges import AddonPurchase
from backend_stub.storage.repo import bulk_update, chunks

_UPDATE_RESULTS = (
    "UPDATE usage_events SET " + ", ".join(f"{f} = ?" for f in RESULT_FIELDS) + " WHERE id = ? AND invoice_id IS NULL"
)


def known_record_ids(conn: Connection, record_ids: list[str], exclude_suspense: frozenset[int]) -> set[str]:
    """The ``record_ids`` already stored as events or pending in suspense (but for ``exclude_suspense``)."""
    if not record_ids:
        return set()
    has_events = conn.execute(select(func.count()).select_from(select(m.UsageEvent.id).limit(1).subquery()))
    has_suspense = conn.execute(select(func.count()).select_from(select(m.SuspenseRecord.id).limit(1).subquery()))
    known: set[str] = set()
    if has_events.scalar_one():
        for part in chunks(record_ids):
            known.update(conn.execute(select(m.UsageEvent.record_id).where(m.UsageEvent.record_id.in_(part))).scalars())
    if has_suspense.scalar_one():
        for part in chunks(record_ids):
            q = select(m.SuspenseRecord.id, m.SuspenseRecord.record_id).where(
                m.SuspenseRecord.record_id.in_(part), m.SuspenseRecord.status == "pending"
            )
            known.update(r.record_id for r in conn.execute(q) if r.id not in exclude_suspense)
    return known


def store_suspense(
    conn: Connection, rejects: list[Reject], batch_id: int, source: str, existing: dict[str, int]
) -> None:
    """New rejections become suspense rows; re-processed ones update their own row."""
    now = clock.now()
    fresh = []
    for line, rid, raw, fld, reason in rejects:
        if rid and rid in existing:
            conn.execute(
                update(m.SuspenseRecord)
                .where(m.SuspenseRecord.id == existing[rid])
                .values(field=fld, reason=reason, status="pending")
            )
        else:
            fresh.append(
                {
                    "batch_id": batch_id,
                    "source": source[:200],
                    "line_no": line,
                    "record_id": rid or "",
                    "raw": raw,
                    "field": fld,
                    "reason": reason,
                    "status": "pending",
                    "created_at": now,
                }
            )
    if fresh:
        conn.execute(insert(m.SuspenseRecord), fresh)


def store_notices(conn: Connection, notices: list[dict[str, Any]]) -> None:
    """Bill-shock notices, each (subscription, period, threshold) once."""
    if not notices:
        return
    now = clock.now()
    for n in notices:
        exists = conn.execute(
            select(m.RoamingNotice.id).where(
                m.RoamingNotice.subscription_id == n["subscription_id"],
                m.RoamingNotice.period_start == n["period_start"],
                m.RoamingNotice.threshold == n["threshold"],
            )
        ).first()
        if not exists:
            conn.execute(insert(m.RoamingNotice).values(**n, created_at=now))


def store_rerated(conn: Connection, updates: list[tuple[Any, ...]]) -> None:
    """Re-rated events: their new ``RESULT_FIELDS`` then the row id; an invoiced event is never changed."""
    bulk_update(conn, _UPDATE_RESULTS, updates)


def note_late_usage(
    conn: Connection,
    groups: dict[GroupKey, list[UsageEvent]],
    subs_by_id: dict[int, Subscription],
    closed: set[tuple[int, date]],
    rejected: set[str],
    batch_id: int,
) -> None:
    """Records of an invoiced period are late: say so on that period's invoice, at the import time
    (they are billed on the next invoice, rules §3)."""
    late: dict[tuple[int, date], int] = defaultdict(int)
    for (sub_id, pstart), evs in groups.items():
        key = (subs_by_id[sub_id].customer_id, pstart)
        if key in closed:
            late[key] += sum(1 for ev in evs if ev.record_id not in rejected)
    now = clock.now()
    for (customer_id, pstart), count in sorted(late.items()):
        inv = conn.execute(
            select(m.Invoice.id).where(
                m.Invoice.customer_id == customer_id,
                m.Invoice.period_start == pstart,
                m.Invoice.kind == "invoice",
                m.Invoice.regular_key.is_not(None),
            )
        ).first()
        if count and inv is not None:
            data = {"count": count, "period": pstart.isoformat()[:7], "batch_id": batch_id}
            add_event(
                conn,
                inv.id,
                "late_usage",
                render("late_usage", data, "sv", ""),
                actor="usage import",
                at=now,
                data=data,
            )


def closed_periods(conn: Connection, subs: dict[int, Subscription]) -> set[tuple[int, date]]:
    """(customer, period start) of every regular invoice of the subscriptions' accounts: invoiced periods."""
    customer_ids = list({s.customer_id for s in subs.values()})
    closed: set[tuple[int, date]] = set()
    for part in chunks(customer_ids):
        q = select(m.Invoice.customer_id, m.Invoice.period_start).where(
            m.Invoice.customer_id.in_(part), m.Invoice.kind == "invoice", m.Invoice.regular_key.is_not(None)
        )
        closed.update((r.customer_id, r.period_start) for r in conn.execute(q))
    return closed


def existing_events(
    conn: Connection, keys: Iterable[GroupKey], subs: dict[int, Subscription]
) -> dict[GroupKey, list[StoredEvent]]:
    """The stored events of each (subscription, period start) in ``keys``, invoiced or not."""
    keys = list(keys)
    if not conn.execute(select(select(m.UsageEvent.id).limit(1).exists())).scalar():
        return {}
    out: dict[GroupKey, list[StoredEvent]] = defaultdict(list)
    wanted = set(keys)
    customer_ids = sorted({subs[k[0]].customer_id for k in keys})
    starts = sorted({k[1] for k in keys})
    cols = [getattr(m.UsageEvent, f) for f in RESULT_FIELDS]
    for part in chunks(customer_ids, 2000):
        q = select(
            m.UsageEvent.id,
            m.UsageEvent.record_id,
            m.UsageEvent.subscription_id,
            m.UsageEvent.period_start,
            m.UsageEvent.service,
            m.UsageEvent.started_at,
            m.UsageEvent.duration_s,
            m.UsageEvent.volume_bytes,
            m.UsageEvent.called_number,
            m.UsageEvent.visited_country,
            m.UsageEvent.invoice_id,
            *cols,
        ).where(m.UsageEvent.customer_id.in_(part), m.UsageEvent.period_start.in_(starts))
        for r in conn.execute(q):
            key = (r.subscription_id, r.period_start)
            if key not in wanted:
                continue
            ev = UsageEvent(
                r.record_id,
                "",
                r.service,
                r.started_at,
                r.duration_s,
                r.volume_bytes,
                r.called_number,
                r.visited_country,
            )
            stored = tuple(r[11 + i] for i in range(len(RESULT_FIELDS)))
            out[key].append((ev, r.id, r.invoice_id, normalise(stored)))
    return out


def load_bought_allowances(conn: Connection, keys: Iterable[GroupKey]) -> Bought:
    """Add-ons bought per (subscription, period start) among ``keys``: ``[(bought epoch, pool, units)]``.

    One probe when nobody has bought an add-on (the common import), one query per 5 000
    subscriptions otherwise.
    """
    wanted = set(keys)
    if not wanted or not conn.execute(select(select(AddonPurchase.id).limit(1).exists())).scalar():
        return {}
    out: Bought = defaultdict(list)
    for part in chunks(sorted({k[0] for k in wanted})):
        q = select(
            AddonPurchase.subscription_id,
            AddonPurchase.period_start,
            AddonPurchase.bought_epoch,
            AddonPurchase.allowances,
        ).where(AddonPurchase.subscription_id.in_(part))
        for r in conn.execute(q):
            key = (r.subscription_id, r.period_start)
            if key in wanted:
                out[key] += [(r.bought_epoch, pool, int(units)) for pool, units in sorted(r.allowances.items())]
    return dict(out)


class RoamingChoices(NamedTuple):
    """What the subscribers chose for data outside the EU/EEA: per group, when they chose to go on past the
    spending limit (epoch s); per subscription, the spending limits they chose (``(from, öre)``, rising)."""

    continues: dict[GroupKey, int]
    spend_limits: dict[int, tuple[tuple[int, int], ...]]


def load_roaming_choices(conn: Connection, keys: Iterable[GroupKey]) -> RoamingChoices:
    """The groups' roaming choices: one probe when nobody made any (the common import), else one query per
    5 000 subscriptions that reads both ("continue" rows and chosen limits, ``UNION ALL``)."""
    wanted = set(keys)
    out = RoamingChoices({}, {})
    if not wanted:
        return out
    rc, st = RoamingContinue, AlertSetting
    probe = select(
        select(rc.id).limit(1).exists(), select(st.subscription_id).where(st.spend_limits.is_not(None)).exists()
    )
    if not any(conn.execute(probe).one()):
        return out
    for part in chunks(sorted({k[0] for k in wanted})):
        chosen_limits = select(st.subscription_id, cast(null(), Date), cast(null(), BigInteger), st.spend_limits).where(
            st.subscription_id.in_(part), st.spend_limits.is_not(None)
        )
        continued = select(rc.subscription_id, rc.period_start, rc.chosen_at, cast(null(), JSON)).where(
            rc.subscription_id.in_(part)
        )
        for sub_id, pstart, chosen_at, limits in conn.execute(union_all(chosen_limits, continued)):
            if limits is not None:
                out.spend_limits[sub_id] = tuple((int(at), int(ore)) for at, ore in limits)
            elif (sub_id, _as_date(pstart)) in wanted:
                out.continues[(sub_id, _as_date(pstart))] = int(chosen_at)
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
