"""A subscription's alert choices, its roaming "continue", and the alerts the app shows (issue 17).

Defaults (no row): every alert on at the catalogue's per cents (``usage_alert_percent``, 80 % and 100 %),
every channel, no cost warning, the catalogue's spending limit. A chosen spending limit applies to data
that starts after the choice (``spend_limits`` keeps each level with when it began, for re-rating). The 100 % roaming stop cannot be turned off (``domain.alerts``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from backend_stub import clock
from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import UNLIMITED, Catalogue
from backend_stub.domain.errors import Conflict, Invalid, NotFound
from backend_stub.domain.periods import period_containing
from backend_stub.services.alerts import texts
from backend_stub.services.lifecycle import messaging
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import AlertSetting, RoamingContinue, UsageAlert
from backend_stub.storage.repo import chunks

CHANNELS = ("sms", "email", "app")
CHOOSABLE_KINDS = (rules.WELCOME, rules.FAIR_USE, rules.SPEND_LIMIT)
MAX_COST_LIMIT_ORE = 10_000_000  # 100 000 kr: anything above is a typing error


def settings_for(
    conn: Connection, sub_ids: list[int], catalogue: Catalogue | None = None
) -> dict[int, rules.AlertSettings]:
    """Each subscription's choices; one that made none has the catalogue's defaults (``usage_alert_percent``)."""
    default = rules.AlertSettings.defaults(catalogue.alert_percent) if catalogue else rules.AlertSettings()
    out = dict.fromkeys(sub_ids, default)
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
        spend_limits=tuple((int(at), int(ore)) for at, ore in row.spend_limits or ()),
    )


def as_dict(sub_id: int, s: rules.AlertSettings, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The choices as the API gives them, with what may be chosen: ``threshold_choices`` (per pool, the
    catalogue's per cents, on by default), ``spend_limit_levels`` (öre) and the ``default_spend_limit_ore``."""
    percent = catalogue.alert_percent if catalogue else dict.fromkeys(rules.POOLS, rules.ALLOWANCE_THRESHOLDS)
    default_limit = catalogue.roaming.data_spend_limit_ore if catalogue else None
    return {
        "subscription_id": sub_id,
        "thresholds": {pool: list(s.thresholds.get(pool, ())) for pool in rules.POOLS},
        "threshold_choices": {pool: list(percent.get(pool, ())) for pool in rules.POOLS},
        "kinds": sorted(s.kinds),
        "channels": sorted(s.channels),
        "cost_limit_ore": s.cost_limit_ore,
        "spend_limit_ore": s.spend_limit_ore or default_limit,
        "spend_limit_levels": list(catalogue.roaming.spend_limit_levels()) if catalogue else [],
        "default_spend_limit_ore": default_limit,
    }


def get_settings(engine: Engine, sub_id: int, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The choices, and what the settings page needs to show only what applies: the pools the plan in force
    limits (``limited_pools``; unlimited ones never alert), whether data abroad is stopped at the spending
    limit this period (``roaming_stopped``) and whether the subscriber chose to go on (``roaming_continued``)."""
    now = clock.now()
    with engine.connect() as conn:
        sub = _subscription(conn, sub_id)
        out = as_dict(sub_id, settings_for(conn, [sub_id], catalogue)[sub_id], catalogue)
        cycle_day = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == sub.customer_id)).scalar_one()
        period = period_containing(now.astimezone(rules.STOCKHOLM).date(), cycle_day)
        stopped = conn.execute(
            select(UsageAlert.id).where(
                UsageAlert.subscription_id == sub_id,
                UsageAlert.period_start == period.start,
                UsageAlert.kind == rules.SPEND_LIMIT,
                UsageAlert.level == "100",
            )
        ).first()
        out["roaming_stopped"] = stopped is not None
        out["roaming_continued"] = continued_at(conn, sub_id, period.start) is not None
        out["limited_pools"] = _limited_pools(conn, catalogue, sub_id, now) if catalogue else list(rules.POOLS)
    return out


def _limited_pools(conn: Connection, catalogue: Catalogue, sub_id: int, now: datetime) -> list[str]:
    """The alerting pools the plan in force today limits (its allowance is not unlimited)."""
    today = now.astimezone(rules.STOCKHOLM).date()
    seg = m.PlanSegment
    plan_id = conn.execute(
        select(seg.plan_id)
        .where(seg.subscription_id == sub_id, seg.start_date <= today)
        .where((seg.end_date.is_(None)) | (seg.end_date >= today))
        .order_by(seg.start_date.desc())
    ).scalar()
    plan = catalogue.plans.get(plan_id) if plan_id else None
    if plan is None:
        return []
    return [p for p in rules.POOLS if p in plan.allowances and plan.allowances[p].amount != UNLIMITED]


def put_settings(
    engine: Engine,
    sub_id: int,
    *,
    thresholds: dict[str, list[int]],
    kinds: list[str],
    channels: list[str],
    cost_limit_ore: int | None,
    catalogue: Catalogue | None = None,
    spend_limit_ore: int | None = None,
) -> dict[str, Any]:
    """Replace the subscription's choices (each value checked; a bad one names its field). Thresholds are the
    catalogue's per cents; the spending limit one of its levels (None: keep the one in force). A new limit
    applies to data that starts from now (``spend_limits``: every level this far with when it began)."""
    percent = catalogue.alert_percent if catalogue else dict.fromkeys(rules.POOLS, rules.ALLOWANCE_THRESHOLDS)
    for pool, chosen in thresholds.items():
        if pool not in rules.POOLS:
            raise Invalid("thresholds", f"{pool!r} is not one of {', '.join(rules.POOLS)}")
        if any(v not in percent.get(pool, ()) for v in chosen):
            allowed = ", ".join(map(str, percent.get(pool, ()))) or "none"
            raise Invalid(f"thresholds.{pool}", f"choose among {allowed}")
    if unknown := set(kinds) - set(CHOOSABLE_KINDS):
        raise Invalid("kinds", f"{', '.join(sorted(unknown))} cannot be chosen")
    if unknown := set(channels) - set(CHANNELS):
        raise Invalid("channels", f"{', '.join(sorted(unknown))} is not a channel")
    if cost_limit_ore is not None and not 0 < cost_limit_ore <= MAX_COST_LIMIT_ORE:
        raise Invalid("cost_limit_ore", "between 0,01 kr and 100 000 kr, or none")
    if spend_limit_ore is not None and catalogue is not None:
        levels = catalogue.roaming.spend_limit_levels()
        if spend_limit_ore not in levels:
            raise Invalid("spend_limit_ore", f"choose among {', '.join(map(str, levels))} (öre)")
    now = clock.now()
    values: dict[str, Any] = {
        "thresholds": {pool: sorted(set(thresholds.get(pool, []))) for pool in rules.POOLS},
        "kinds": sorted(set(kinds) | {rules.SPEND_LIMIT}),
        "channels": sorted(set(channels)),
        "cost_limit_ore": cost_limit_ore,
        "updated_at": now,
    }
    with engine.begin() as conn:
        _subscription(conn, sub_id)
        before = conn.execute(
            select(AlertSetting.spend_limit_ore, AlertSetting.spend_limits).where(
                AlertSetting.subscription_id == sub_id
            )
        ).first()
        if spend_limit_ore is not None and catalogue is not None:
            values |= _limit_change(before, spend_limit_ore, catalogue, int(now.timestamp()))
        if before is not None:
            conn.execute(update(AlertSetting).where(AlertSetting.subscription_id == sub_id).values(**values))
        else:
            conn.execute(insert(AlertSetting).values(subscription_id=sub_id, **values))
    return get_settings(engine, sub_id, catalogue)


MAX_LIMIT_CHANGES = 24  # the levels kept (a year of monthly changes): what re-rating an open period needs


def _limit_change(before: Any, new_ore: int, catalogue: Catalogue, now_s: int) -> dict[str, Any]:
    """The columns of choosing ``new_ore``: nothing when it is the level in force; else the level and, in
    ``spend_limits``, the new one from now after the ones before (the first time: the default until now)."""
    current = (before.spend_limit_ore if before is not None else None) or catalogue.roaming.data_spend_limit_ore
    history = [list(x) for x in (before.spend_limits if before is not None else None) or ()]
    if new_ore == current:
        return {}
    if not history:
        history = [[0, current]]
    history = [x for x in history if x[0] < now_s] + [[now_s, new_ore]]
    return {"spend_limit_ore": new_ore, "spend_limits": history[-MAX_LIMIT_CHANGES:]}


def continue_roaming(
    engine: Engine, sub_id: int, *, actor: str, now: datetime | None = None, sms: Any = None
) -> dict[str, Any]:
    """Go on using data outside the EU/EEA past the spending limit for the rest of this period: events that start
    from now are charged again. Only once data abroad has stopped this period (409 before, and once chosen);
    the roaming number gets a confirmation by SMS."""
    now = now or clock.now()
    with engine.begin() as conn:
        sub = _subscription(conn, sub_id)
        customer = conn.execute(select(m.Customer).where(m.Customer.id == sub.customer_id)).one()
        period = period_containing(now.astimezone(rules.STOCKHOLM).date(), customer.cycle_day)
        stopped = conn.execute(
            select(UsageAlert.id).where(
                UsageAlert.subscription_id == sub_id,
                UsageAlert.period_start == period.start,
                UsageAlert.kind == rules.SPEND_LIMIT,
                UsageAlert.level == "100",
            )
        ).first()
        if stopped is None:
            raise Conflict("roaming: data abroad has not been stopped this period")
        if continued_at(conn, sub_id, period.start) is not None:
            raise Conflict("roaming: already chosen to continue this period")
        conn.execute(
            insert(RoamingContinue).values(
                subscription_id=sub_id, period_start=period.start, chosen_at=int(now.timestamp()), actor=actor
            )
        )
    if sub.msisdn:
        lang = "en" if customer.language == "en" else "sv"
        messaging.send_sms(
            engine,
            sms or messaging.OutboxSmsProvider(),
            to=sub.msisdn,
            text=texts.continued(lang, period.end),
            key=f"roaming-continue:{sub_id}:{period.start.isoformat()}",
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
