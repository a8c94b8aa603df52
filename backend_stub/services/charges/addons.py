"""Add-ons: extra allowance bought for the current billing period (e.g. "Extra 5 GB denna månad").

A purchase counts at once: usage that starts at or after the moment it was bought draws from
it (``rating.PeriodRater``'s ``bought_allowances``), usage before keeps its charges. Its price
lands on the next invoice as a line of its own (the bill run claims the purchase), and the
subscriber gets a confirmation by e-mail or SMS. ``buy_addon`` is also the entry point of the
offers area (an add-on offer is bought through it).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from backend_stub import clock
from backend_stub.domain.catalogue import UNLIMITED, Addon, Catalogue, Plan
from backend_stub.domain.errors import Invalid, NotFound
from backend_stub.domain.invoicing import _rate_index
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.rating import STOCKHOLM, PeriodRater
from backend_stub.domain.texts import day as day_text
from backend_stub.services.billing import usage_rerate
from backend_stub.services.lifecycle import messaging
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import AddonPurchase
from backend_stub.storage.repo import load_subscriptions
from selfcare_common.money_format import format_kr

log = logging.getLogger(__name__)


class NotAllowed(Invalid):
    """The add-on cannot be bought on the subscription's plan (``addon_id``; the API answers 422)."""


def addon_allowed(addon: Addon, plan: Plan) -> bool:
    """Whether ``addon`` may be bought on ``plan``: a mobile plan it lists (no list: every mobile plan)."""
    if plan.kind != "mobile" or plan.tariff is None:
        return False
    return plan.id in addon.plans if addon.plans else True


def _name(addon: Addon, lang: str) -> str:
    return addon.name_en if lang == "en" and addon.name_en else addon.name


def _labels(addon: Addon, lang: str) -> list[str]:
    return [("unlimited" if a.unlimited and lang == "en" else a.label) for a in addon.allowances.values()]


def addon_entry(addon: Addon, lang: str = "sv") -> dict[str, Any]:
    """An add-on as the shop lists it."""
    return {
        "id": addon.id,
        "name": _name(addon, lang),
        "price_ore": addon.price_ore,
        "allowances": {pool: a.amount for pool, a in addon.allowances.items()},
        "labels": _labels(addon, lang),
    }


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return clock.now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise Invalid("now", "must be timezone-aware")
    return now


def _subscription(conn: Connection, subscription_id: int) -> tuple[Subscription, Any]:
    if isinstance(subscription_id, bool) or not isinstance(subscription_id, int):
        raise Invalid("subscription_id", f"{subscription_id!r} is not a subscription id")
    customer_id = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)).scalar()
    if customer_id is None:
        raise NotFound(f"subscription_id: no subscription {subscription_id}")
    sub = next(s for s in load_subscriptions(conn, customer_ids=[customer_id]) if s.id == subscription_id)
    customer = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).one()
    return sub, customer


def subscription_customer(engine: Engine, subscription_id: int) -> int | None:
    """The customer a subscription belongs to (None if there is no such subscription)."""
    with engine.connect() as conn:
        return conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)).scalar()


def purchases(conn: Connection, subscription_id: int, period_start: date) -> list[Any]:
    q = (
        select(AddonPurchase)
        .where(AddonPurchase.subscription_id == subscription_id, AddonPurchase.period_start == period_start)
        .order_by(AddonPurchase.id)
    )
    return list(conn.execute(q))


def bought_by_pool(
    conn: Connection, customer_id: int, period_start: date, period_end: date | None = None
) -> dict[str, int]:
    """Allowance bought per pool by a customer's subscriptions in the period starting ``period_start``
    (or in any period starting up to ``period_end``: a calendar month's view of another cycle day)."""
    out: dict[str, int] = defaultdict(int)
    q = select(AddonPurchase.allowances).where(
        AddonPurchase.customer_id == customer_id,
        AddonPurchase.period_start >= period_start,
        AddonPurchase.period_start <= (period_end or period_start),
    )
    for (allowances,) in conn.execute(q):
        for pool, units in allowances.items():
            out[pool] = UNLIMITED if units == UNLIMITED or out[pool] == UNLIMITED else out[pool] + int(units)
    return dict(out)


def allowance_status(conn: Connection, catalogue: Catalogue, sub: Subscription, period: Period) -> dict[str, Any]:
    """Per pool: the plan's allowance in the period, what was bought, used, and what is left.

    ``left`` is what rating has left: the plan's and the bought allowance less what events
    drew from them (usage before a purchase that was charged as overage does not use it).
    """
    included: dict[str, int] = defaultdict(int)
    unlimited: set[str] = set()
    for state in PeriodRater(catalogue, sub, period).states:
        for pool, amount in state.remaining.items():
            if amount == UNLIMITED:
                unlimited.add(pool)
            else:
                included[pool] += amount
    bought: dict[str, int] = defaultdict(int)
    for row in purchases(conn, sub.id, period.start):
        for pool, units in row.allowances.items():
            if units == UNLIMITED:
                unlimited.add(pool)
            else:
                bought[pool] += int(units)
    rates = _rate_index(catalogue)
    used: dict[str, int] = defaultdict(int)
    drawn: dict[str, int] = defaultdict(int)
    u = m.UsageEvent
    q = (
        select(u.rate_key, func.sum(u.billed_units - u.surcharge_units), func.sum(u.included_units))
        .where(u.customer_id == sub.customer_id, u.period_start == period.start, u.subscription_id == sub.id)
        .group_by(u.rate_key)
    )
    for key, billed, inc in conn.execute(q):
        rate = rates.get(key)
        if rate is not None and rate.allowance:
            used[rate.allowance] += int(billed or 0)
            drawn[rate.allowance] += int(inc or 0)
    out: dict[str, Any] = {}
    for pool in sorted(set(included) | unlimited | set(bought)):
        if pool in unlimited:
            out[pool] = {
                "included": None,
                "bought": bought.get(pool, 0),
                "used": used.get(pool, 0),
                "left": None,
                "unlimited": True,
            }
        else:
            total = included.get(pool, 0) + bought.get(pool, 0)
            out[pool] = {
                "included": included.get(pool, 0),
                "bought": bought.get(pool, 0),
                "used": used.get(pool, 0),
                "left": max(0, total - drawn.get(pool, 0)),
                "unlimited": False,
            }
    return out


def _bought_entry(row: Any, catalogue: Catalogue, lang: str) -> dict[str, Any]:
    addon = catalogue.addons.get(row.addon_id)
    # The name as bought; in English the catalogue's English name while the add-on is unchanged.
    name = _name(addon, lang) if addon is not None and addon.name == row.name else row.name
    return {
        "id": row.id,
        "addon_id": row.addon_id,
        "name": name,
        "price_ore": row.price_ore,
        "bought_at": row.bought_at.astimezone(UTC).isoformat()
        if row.bought_at.tzinfo
        else row.bought_at.replace(tzinfo=UTC).isoformat(),
    }


def subscription_addons(
    engine: Engine, catalogue: Catalogue, subscription_id: int, *, lang: str = "sv", now: datetime | None = None
) -> dict[str, Any]:
    """The add-on shop of one subscription: this period's allowances, what can be bought, what was bought."""
    now = _aware(now)
    with engine.connect() as conn:
        sub, customer = _subscription(conn, subscription_id)
        day = now.astimezone(STOCKHOLM).date()
        period = period_containing(day, customer.cycle_day)
        seg = sub.segment_on(day)
        plan = catalogue.plans.get(seg.plan_id) if seg else None
        available = [addon_entry(a, lang) for a in catalogue.addons.values() if plan and addon_allowed(a, plan)]
        return {
            "subscription_id": sub.id,
            "msisdn": sub.msisdn,
            "period": period.label,
            "allowances": allowance_status(conn, catalogue, sub, period),
            "available": available,
            "bought": [_bought_entry(r, catalogue, lang) for r in purchases(conn, sub.id, period.start)],
        }


def buy_addon(
    engine: Engine,
    catalogue: Catalogue,
    subscription_id: int,
    addon_id: str,
    *,
    source: str = "shop",
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> dict[str, Any]:
    """Buy ``addon_id`` for ``subscription_id`` in the period that contains ``now``.

    Returns ``{"purchase_id", "addon_id", "period", "price_ore", "allowances"}`` (allowances as
    ``subscription_addons``). Raises ``NotFound`` for an unknown subscription, and ``ValueError`` naming
    the field for bad input: ``NotAllowed`` for an add-on the plan does not take. The period's not yet
    invoiced usage is re-rated in the same transaction (events after the purchase time draw
    from it), and the subscriber gets a confirmation once it is committed.
    """
    now = _aware(now)
    if not isinstance(addon_id, str) or addon_id not in catalogue.addons:
        raise Invalid("addon_id", f"unknown add-on {addon_id!r}")
    if not isinstance(source, str) or not source.strip() or len(source) > 64:
        raise Invalid("source", "1..64 characters, e.g. 'shop' or 'offer:12'")
    addon = catalogue.addons[addon_id]
    with engine.begin() as conn:
        sub, customer = _subscription(conn, subscription_id)
        day = now.astimezone(STOCKHOLM).date()
        seg = sub.segment_on(day)
        if seg is None:
            raise Invalid("subscription_id", f"subscription {sub.number} is not active on {day.isoformat()}")
        plan = catalogue.plans.get(seg.plan_id)
        if plan is None or not addon_allowed(addon, plan):
            raise NotAllowed(
                "addon_id", f"{addon.name} cannot be bought on the plan {plan.name if plan else seg.plan_id}"
            )
        period = period_containing(day, customer.cycle_day)
        purchase_id = conn.execute(
            insert(AddonPurchase)
            .values(
                customer_id=customer.id,
                subscription_id=sub.id,
                addon_id=addon.id,
                name=addon.name,
                price_ore=addon.price_ore,
                vat_rate=str(catalogue.operator.vat_rate),
                allowances={pool: a.amount for pool, a in addon.allowances.items()},
                period_start=period.start,
                bought_at=now,
                bought_epoch=int(now.timestamp()),
                source=source.strip(),
                status="pending",
            )
            .returning(AddonPurchase.id)
        ).scalar_one()
        usage_rerate.rerate_period(conn, catalogue, sub, period)
        allowances = allowance_status(conn, catalogue, sub, period)
    result = {
        "purchase_id": purchase_id,
        "addon_id": addon.id,
        "period": period.label,
        "price_ore": addon.price_ore,
        "allowances": allowances,
    }
    _confirm(engine, catalogue, customer, sub, addon, purchase_id, now, period, mail, sms)
    return result


CONFIRMATION = {
    "sv": (
        "Tack för ditt köp: {name}",
        "Hej {customer}!\n\nDu har köpt {name} för {price} till {msisdn}. Det gäller direkt och till och med "
        "{end}. Beloppet kommer på din nästa faktura.\n\nVänliga hälsningar\n{operator}",
    ),
    "en": (
        "Thank you for your purchase: {name}",
        "Hello {customer},\n\nYou have bought {name} for {price} for {msisdn}. It applies at once and until "
        "{end}. The amount will be on your next invoice.\n\nKind regards\n{operator}",
    ),
}


def _confirm(
    engine: Engine,
    catalogue: Catalogue,
    customer: Any,
    sub: Subscription,
    addon: Addon,
    purchase_id: int,
    now: datetime,
    period: Period,
    mail: messaging.MailSettings | None,
    sms: messaging.SmsProvider | None,
) -> None:
    """E-mail or SMS the subscriber (their channel; once per purchase). A failed send stays in the outbox."""
    lang = "en" if customer.language == "en" else "sv"
    subject, body = CONFIRMATION[lang]
    values = {
        "name": _name(addon, lang),
        "customer": customer.name,
        "price": format_kr(addon.price_ore, lang),
        "msisdn": sub.msisdn or sub.number,
        "end": day_text(period.end, lang),
        "operator": catalogue.operator.name,
    }
    subject, text = subject.format(**values), body.format(**values)
    key = f"addon-purchase:{purchase_id}"
    try:
        if customer.email and (customer.channel != "sms" or not customer.phone):
            messaging.send_email(
                engine,
                mail or messaging.MailSettings.from_env(),
                to=customer.email,
                subject=subject,
                text=text,
                key=key,
            )
        elif customer.phone:
            messaging.send_sms(
                engine,
                sms or messaging.OutboxSmsProvider(),
                to=customer.phone,
                text=f"{subject}. {text.split(chr(10) * 2)[1]}",
                key=key,
            )
    except Exception:  # the purchase stands; the outbox row says what failed
        log.exception("confirmation of add-on purchase %s was not sent", purchase_id)
