"""A subscription's alert choices, its roaming "continue", and the alerts the app shows (issue 17).

Defaults (no row): every alert on at 80 % and 100 %, every channel, no cost warning, the
catalogue's spending limit. The 100 % roaming stop cannot be turned off (``domain.alerts``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from backend_stub import clock
from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Conflict, NotFound
from backend_stub.domain.periods import period_containing
from backend_stub.services.alerts import texts
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import AlertSetting, RoamingContinue, UsageAlert
from backend_stub.storage.repo import chunks

CHANNELS = ("sms", "email", "app")
CHOOSABLE_KINDS = (rules.WELCOME, rules.FAIR_USE, rules.SPEND_LIMIT)
MAX_COST_LIMIT_ORE = 10_000_000  # 100 000 kr: anything above is a typing error


def settings_for(conn: Connection, sub_ids: list[int]) -> dict[int, rules.AlertSettings]:
    out = {sub_id: rules.AlertSettings() for sub_id in sub_ids}
    for part in chunks(sub_ids):
        for row in conn.execute(select(AlertSetting).where(AlertSetting.subscription_id.in_(part))):
            out[row.subscription_id] = _from_row(row)
    return out


def _from_row(row: Any) -> rules.AlertSettings:
    return rules.AlertSettings(
        thresholds={pool: tuple(int(t) for t in row.thresholds.get(pool, ())) for pool in rules.POOLS},
        kinds=frozenset(row.kinds) | {rules.SPEND_LIMIT},
        cost_limit_ore=row.cost_limit_ore,
        spend_limit_ore=row.spend_limit_ore,
        channels=frozenset(row.channels),
    )


def as_dict(sub_id: int, s: rules.AlertSettings) -> dict[str, Any]:
    return {
        "subscription_id": sub_id,
        "thresholds": {pool: list(s.thresholds.get(pool, ())) for pool in rules.POOLS},
        "kinds": sorted(s.kinds),
        "channels": sorted(s.channels),
        "cost_limit_ore": s.cost_limit_ore,
    }


def get_settings(engine: Engine, sub_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        _subscription(conn, sub_id)
        return as_dict(sub_id, settings_for(conn, [sub_id])[sub_id])


def put_settings(
    engine: Engine,
    sub_id: int,
    *,
    thresholds: dict[str, list[int]],
    kinds: list[str],
    channels: list[str],
    cost_limit_ore: int | None,
) -> dict[str, Any]:
    """Replace the subscription's choices (each value checked; a bad one names its field)."""
    for pool, values in thresholds.items():
        if pool not in rules.POOLS:
            raise ValueError(f"thresholds: {pool!r} is not one of {', '.join(rules.POOLS)}")
        if any(v not in rules.ALLOWANCE_THRESHOLDS for v in values):
            raise ValueError(f"thresholds.{pool}: choose among {', '.join(map(str, rules.ALLOWANCE_THRESHOLDS))}")
    if unknown := set(kinds) - set(CHOOSABLE_KINDS):
        raise ValueError(f"kinds: {', '.join(sorted(unknown))} cannot be chosen")
    if unknown := set(channels) - set(CHANNELS):
        raise ValueError(f"channels: {', '.join(sorted(unknown))} is not a channel")
    if cost_limit_ore is not None and not 0 < cost_limit_ore <= MAX_COST_LIMIT_ORE:
        raise ValueError("cost_limit_ore: between 0,01 kr and 100 000 kr, or none")
    values = {
        "thresholds": {pool: sorted(set(thresholds.get(pool, []))) for pool in rules.POOLS},
        "kinds": sorted(set(kinds) | {rules.SPEND_LIMIT}),
        "channels": sorted(set(channels)),
        "cost_limit_ore": cost_limit_ore,
        "updated_at": clock.now(),
    }
    with engine.begin() as conn:
        _subscription(conn, sub_id)
        found = conn.execute(
            update(AlertSetting).where(AlertSetting.subscription_id == sub_id).values(**values)
        ).rowcount
        if not found:
            conn.execute(AlertSetting.__table__.insert().values(subscription_id=sub_id, **values))
    return get_settings(engine, sub_id)


def continue_roaming(engine: Engine, sub_id: int, *, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Go on using data outside the EU/EEA past the spending limit for the rest of this period (events that start
    from now are charged again)."""
    now = now or clock.now()
    with engine.begin() as conn:
        sub = _subscription(conn, sub_id)
        cycle_day = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == sub.customer_id)).scalar_one()
        period = period_containing(now.astimezone(rules.STOCKHOLM).date(), cycle_day)
        done = conn.execute(
            select(RoamingContinue).where(
                RoamingContinue.subscription_id == sub_id, RoamingContinue.period_start == period.start
            )
        ).first()
        if done is not None:
            raise Conflict("roaming: already chosen to continue this period")
        conn.execute(
            RoamingContinue.__table__.insert().values(
                subscription_id=sub_id, period_start=period.start, chosen_at=int(now.timestamp()), actor=actor
            )
        )
    return {"subscription_id": sub_id, "period_start": period.start.isoformat(), "chosen_at": now.isoformat()}


def continued_at(conn: Connection, sub_id: int, period_start: date) -> int | None:
    return conn.execute(
        select(RoamingContinue.chosen_at).where(
            RoamingContinue.subscription_id == sub_id, RoamingContinue.period_start == period_start
        )
    ).scalar_one_or_none()


def shown(engine: Engine, customer_id: int, catalogue: Catalogue, lang: str = "sv") -> list[dict[str, Any]]:
    """The alerts the app shows: not dismissed, newest first, each with its sentence in ``lang`` and its one
    action (``buy``, ``usage``, ``continue``) with the action's label and the app's page for it."""
    a = UsageAlert
    with engine.connect() as conn:
        rows = conn.execute(
            select(a).where(a.customer_id == customer_id, a.dismissed_at.is_(None)).order_by(a.id.desc()).limit(20)
        ).all()
    return [
        {
            "id": r.id,
            "subscription_id": r.subscription_id,
            "period_start": r.period_start.isoformat(),
            "kind": r.kind,
            "level": r.level,
            "data": r.data,
            "created_at": r.created_at.isoformat(),
            "text": texts.sentence(r.kind, r.level, r.data, lang, catalogue),
            "action": texts.action_of(r.kind, r.level),
            "action_label": texts.ACTIONS[texts.action_of(r.kind, r.level)][2 if lang == "en" else 1],
            "action_path": texts.ACTIONS[texts.action_of(r.kind, r.level)][0],
        }
        for r in rows
    ]


def dismiss(engine: Engine, customer_id: int, alert_id: int) -> None:
    """Close an alert in the app (another customer's id: not found)."""
    a = UsageAlert
    with engine.begin() as conn:
        done = conn.execute(
            update(a).where(a.id == alert_id, a.customer_id == customer_id).values(dismissed_at=clock.now())
        ).rowcount
    if not done:
        raise NotFound(f"alert {alert_id} not found")


def _subscription(conn: Connection, sub_id: int) -> Any:
    row = conn.execute(select(m.Subscription).where(m.Subscription.id == sub_id)).first()
    if row is None:
        raise NotFound(f"subscription {sub_id} not found")
    return row
