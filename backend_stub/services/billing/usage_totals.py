"""What each subscription used in an invoice's period, for the invoice's usage summary.

"Du använde 9,4 GB av 20 GB, 85 min och 40 sms": the sums of the period's rated events
billed on the invoice (late events of earlier periods are not this period's use), against
the plan's data allowance for the period, prorated like the rating prorates it. Computed at
issue and frozen in the invoice document (``usage_totals``); an invoice issued before that
gets it computed on read from the same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from backend_stub.domain.catalogue import UNLIMITED, Catalogue, in_language
from backend_stub.domain.periods import Period, Subscription
from backend_stub.domain.rating import prorated_units
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions

# (invoice id, period start, subscription id, service, events, seconds, bytes)
UsageRow = tuple[str, date, int, str, int, int, int]


def usage_rows(conn: Connection, invoice_ids: list[str], customer_ids: list[int]) -> list[UsageRow]:
    """The sums per invoice, period, subscription and service of the rated events billed on the invoices
    (of ``customer_ids``: the usage index is by customer, so no scan of the whole table)."""
    if not invoice_ids:
        return []
    u = m.UsageEvent
    q = (
        select(
            u.invoice_id,
            u.period_start,
            u.subscription_id,
            u.service,
            func.count(),
            func.sum(u.duration_s),
            func.sum(u.volume_bytes),
        )
        .where(u.customer_id.in_(customer_ids), u.invoice_id.in_(invoice_ids))
        .group_by(u.invoice_id, u.period_start, u.subscription_id, u.service)
    )
    # invoice_id is nullable in the table, never None here (the query asks for these invoices)
    return [(str(r[0]), r[1], int(r[2]), r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)) for r in conn.execute(q)]


def usage_totals(
    catalogue: Catalogue, subscriptions: list[Subscription], period: Period, rows: Iterable[UsageRow]
) -> list[dict[str, Any]]:
    """One entry per subscription active in the period: use of data, calls and texts against the allowance.

    ``data_allowance_bytes`` is None when the data allowance is unlimited (``data_unlimited``)
    or the plan has none; broadband plans (``kind``) are unlimited by nature.
    """
    used: dict[int, list[int]] = {}  # subscription -> [data bytes, voice seconds, texts]
    for _inv, start, sub_id, service, count, seconds, volume in rows:
        if start != period.start:
            continue  # late events of an earlier period: that period's use
        u = used.get(sub_id)
        if u is None:
            u = used[sub_id] = [0, 0, 0]
        if service == "data":
            u[0] += volume
        elif service == "voice":
            u[1] += seconds
        else:  # sms, mms: messages
            u[2] += count
    out = []
    for sub in sorted(subscriptions, key=lambda s: s.number):
        # The plan and the data allowance of the period as the rating counts them (``PeriodRater``'s
        # segment states: each known plan's allowance prorated to its days), without building a rater.
        segments = sub.segments_in(period)
        plan = None
        amounts = []
        for seg, seg_days in segments:
            seg_plan = catalogue.plans.get(seg.plan_id)
            if seg_plan is None:
                continue  # an unknown plan has no state in the rater either
            plan = seg_plan
            data = seg_plan.allowances.get("data")
            amounts.append(0 if data is None else prorated_units(data.amount, seg_days, period.days))
        if plan is None:
            continue
        unlimited = UNLIMITED in amounts or plan.kind == "broadband"
        days = sum(d for _seg, d in segments)
        data_bytes, voice_seconds, texts = used.get(sub.id) or (0, 0, 0)
        out.append(
            {
                "subscription_id": sub.id,
                "msisdn": sub.msisdn,
                "plan_name": plan.name,
                "plan_name_en": in_language(plan, "en"),
                "kind": plan.kind,
                "data_bytes": data_bytes,
                "voice_seconds": voice_seconds,
                "voice_minutes": -(-voice_seconds // 60),
                "texts": texts,
                "data_unlimited": unlimited,
                "data_allowance_bytes": None if unlimited or not any(amounts) else sum(amounts),
                "prorated": days < period.days,
            }
        )
    return out


def totals_for_invoice(
    conn: Connection, catalogue: Catalogue, invoice_id: str, customer_id: int, period: Period
) -> list[dict[str, Any]]:
    """``usage_totals`` of an invoice issued before it was frozen in the document (computed on read)."""
    subs = [s for s in load_subscriptions(conn, customer_ids=[customer_id]) if s.segments_in(period)]
    return usage_totals(catalogue, subs, period, usage_rows(conn, [invoice_id], [customer_id]))
