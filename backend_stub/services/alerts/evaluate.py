"""The cost warning after an import (issue 17): the account's forecast over the amount the subscriber chose.

The other alerts are found in the rating pass (``rating_pass``); this one needs the whole bill as it
stands (``billing.forecast``), so it is worked out after the import has committed, and only for the
touched subscriptions whose subscriber chose an amount (one query to find them; one forecast per account).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select

from backend_stub import clock
from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Invalid
from backend_stub.services.billing.forecast import forecast
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import AlertSetting
from backend_stub.storage.repo import chunks


def cost_alerts(
    engine: Engine,
    catalogue: Catalogue,
    touched: dict[tuple[int, date], tuple[int, bool]],
    *,
    now: datetime | None = None,
) -> list[rules.Alert]:
    """A ``cost`` alert for each touched subscription whose account's forecast for the period is over the chosen
    amount (``touched``: per (subscription, period start) its latest event and whether the period is invoiced)."""
    now = now or clock.now()
    limits = _cost_limits(engine, sorted({sub_id for sub_id, _pstart in touched}))
    if not limits:
        return []
    with engine.connect() as conn:
        q = select(m.Subscription.id, m.Subscription.customer_id).where(m.Subscription.id.in_(sorted(limits)))
        customer_of = {sub_id: cid for sub_id, cid in conn.execute(q)}
    forecasts: dict[tuple[int, date], dict[str, Any] | None] = {}
    today = now.astimezone(rules.STOCKHOLM).date()
    out: list[rules.Alert] = []
    for (sub_id, pstart), (at, closed) in touched.items():
        if sub_id not in limits or closed:
            continue
        key = (customer_of[sub_id], pstart)
        if key not in forecasts:
            try:  # that period's bill as it stands, projected to its end
                forecasts[key] = forecast(engine, catalogue, key[0], today=today, period=pstart.strftime("%Y-%m"))
            except Invalid:  # already invoiced, or not started: no warning
                forecasts[key] = None
        doc = forecasts[key]
        if doc is None or doc["forecast_ore"] <= limits[sub_id]:
            continue
        data = {
            "forecast_ore": int(doc["forecast_ore"]),
            "limit_ore": limits[sub_id],
            "late": rules.is_late(at, now, period_invoiced=False),
        }
        out.append(rules.Alert(sub_id, pstart, rules.COST, "", at, data))
    return out


def _cost_limits(engine: Engine, sub_ids: list[int]) -> dict[int, int]:
    """The subscriptions among ``sub_ids`` whose subscriber chose a monthly cost warning, with the amount."""
    out: dict[int, int] = {}
    with engine.connect() as conn:
        if not conn.execute(select(select(AlertSetting.subscription_id).limit(1).exists())).scalar():
            return out
        for part in chunks(sub_ids):
            q = select(AlertSetting.subscription_id, AlertSetting.cost_limit_ore).where(
                AlertSetting.subscription_id.in_(part), AlertSetting.cost_limit_ore.is_not(None)
            )
            out.update({sub_id: int(limit) for sub_id, limit in conn.execute(q) if limit is not None})
    return out
