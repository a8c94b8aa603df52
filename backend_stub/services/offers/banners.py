"""Who sees an offer: one customer's view of the offers now, the banners of a page, impressions and clicks.

A subscriber sees at most two active offers per page whose rules match them now
(``services.offers.targeting``), not dismissed, not accepted, and not past the offer's frequency cap
(impressions per subscriber in the last D days). Marketing's texts may carry figures from the
subscriber's own re-rated usage: ``{current_plan}``, ``{offer_plan}``, ``{current_cost}``,
``{offer_cost}``, ``{saving}`` (over the last invoiced periods, ``services.offers.recommend``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import NotFound
from backend_stub.domain.periods import Subscription
from backend_stub.services.offers import targeting
from backend_stub.services.offers.marketing import (
    BANNERS_PER_PAGE,
    EVENT_KINDS,
    IMAGE_URL,
    PLACEMENTS,
    OfferInvalid,
    aware,
    load_offer,
    status_of,
    today_of,
)
from backend_stub.storage.models.offers import Offer, OfferAcceptance, OfferEvent
from selfcare_common.money_format import format_kr

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- targeting a customer


@dataclass
class Context:
    """One customer's view of the offers now (facts loaded once, recommendations memoised)."""

    conn: Connection
    catalogue: Catalogue
    customer_id: int
    now: datetime
    facts: targeting.SubscriberFacts
    recommend_fn: targeting.RecommendFn

    @property
    def today(self) -> date:
        return today_of(self.now)


def context(
    conn: Connection, catalogue: Catalogue, customer_id: int, now: datetime, periods_needed: int = targeting.MAX_PERIODS
) -> Context:
    today = today_of(now)
    facts = targeting.load_facts(conn, catalogue, [customer_id], today, periods_needed=periods_needed).get(customer_id)
    if facts is None:
        raise NotFound("customer not found")
    return Context(conn, catalogue, customer_id, now, facts, targeting.recommend_fn_for(conn, catalogue, facts, today))


def _sells(row: Any) -> targeting.Sells:
    return targeting.Sells(row.sells_kind, row.sells_id)


def offer_rules(row: Any, catalogue: Catalogue) -> targeting.Rules | None:
    try:
        return targeting.parse_rules(row.rules, catalogue)
    except targeting.RuleError:
        log.warning("offer %s: its rules no longer fit the catalogue; not shown", row.id)
        return None


def match_offer(ctx: Context, row: Any, subscription_id: int | None = None, lang: str = "en") -> targeting.Match:
    rules = offer_rules(row, ctx.catalogue)
    if rules is None:
        return targeting.Match(False, None, [targeting.say(lang, "not_met", text=targeting.say(lang, "rules_stale"))])
    return targeting.match(
        ctx.catalogue,
        rules,
        _sells(row),
        ctx.facts,
        ctx.today,
        ctx.recommend_fn,
        subscription_id=subscription_id,
        lang=lang,
    )


def recommendation_figures(ctx: Context, row: Any, sub: Subscription, lang: str) -> dict[str, Any] | None:
    if row.sells_kind != "plan":
        return None
    rec = ctx.recommend_fn(sub)
    current = next((p for p in rec["plans"] if p["current"]), None)
    offered = next((p for p in rec["plans"] if p["plan_id"] == row.sells_id), None)
    if not rec["periods"] or current is None or offered is None:
        return None
    return {
        "current_plan": current["name"],
        "current_cost_ore": current["total_ore"],
        "offer_cost_ore": offered["total_ore"],
        "periods": rec["periods"],
        "offer_plan": offered["name"],
    }


def fill_figures(text: str, figures: dict[str, Any] | None, lang: str) -> str:
    """Put the subscriber's own figures into marketing's text (known placeholders only)."""
    if "{" not in text:
        return text
    values = {"{current_plan}": "", "{offer_plan}": "", "{current_cost}": "", "{offer_cost}": "", "{saving}": ""}
    if figures:
        values.update(
            {
                "{current_plan}": figures["current_plan"],
                "{offer_plan}": figures["offer_plan"],
                "{current_cost}": format_kr(figures["current_cost_ore"], lang, short=True),
                "{offer_cost}": format_kr(figures["offer_cost_ore"], lang, short=True),
                "{saving}": format_kr(
                    max(0, figures["current_cost_ore"] - figures["offer_cost_ore"]), lang, short=True
                ),
            }
        )
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def banner(ctx: Context, row: Any, sub: Subscription, lang: str) -> dict[str, Any]:
    """The offer as this subscriber sees it, with their figures."""
    figures = recommendation_figures(ctx, row, sub, lang)
    recommendation = (
        None
        if figures is None
        else {k: figures[k] for k in ("current_plan", "current_cost_ore", "offer_cost_ore", "periods")}
    )
    return {
        "offer_id": row.id,
        "subscription_id": sub.id,
        "msisdn": sub.msisdn,
        "title": fill_figures(row.title, figures, lang),
        "body": fill_figures(row.body, figures, lang),
        "cta": fill_figures(row.cta, figures, lang),
        "image_url": IMAGE_URL.format(id=row.image_id) if row.image_id else None,
        "terms_text": row.terms_text_en if lang == "en" else row.terms_text_sv,
        "recommendation": recommendation,
    }


def _active_offers(conn: Connection, now: datetime) -> list[Any]:
    rows = conn.execute(select(Offer).where(Offer.scheduled.is_(True), Offer.stopped_at.is_(None))).all()
    return [r for r in rows if status_of(r, now) == "active"]


def accepted_offer_ids(conn: Connection, customer_id: int) -> set[int]:
    return set(
        conn.execute(select(OfferAcceptance.offer_id).where(OfferAcceptance.customer_id == customer_id)).scalars()
    )


def banners_for(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    *,
    placement: str = "overview",
    lang: str = "sv",
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """At most two banners for a page: active, matching, not dismissed, not accepted, within the cap."""
    now = now or clock.now()
    with engine.begin() as conn:  # a transaction: the targeting caches may be refreshed
        offers = [r for r in _active_offers(conn, now) if placement in r.placements]
        if not offers:
            return []
        ids = [r.id for r in offers]
        dismissed: set[int] = set()
        impressions: dict[int, list[datetime]] = defaultdict(list)
        for e in conn.execute(
            select(OfferEvent.offer_id, OfferEvent.kind, OfferEvent.at).where(
                OfferEvent.customer_id == customer_id,
                OfferEvent.offer_id.in_(ids),
                OfferEvent.kind.in_(["dismiss", "impression"]),
            )
        ):
            if e.kind == "dismiss":
                dismissed.add(e.offer_id)
            else:
                impressions[e.offer_id].append(aware(e.at))
        accepted = accepted_offer_ids(conn, customer_id)

        def capped(r: Any) -> bool:
            since = now - timedelta(days=r.cap_days)
            return sum(1 for at in impressions.get(r.id, ()) if at > since) >= r.cap_impressions

        candidates = [r for r in offers if r.id not in dismissed and r.id not in accepted and not capped(r)]
        if not candidates:
            return []
        rules = {r.id: offer_rules(r, catalogue) for r in candidates}
        needed = max((x.periods_needed() for x in rules.values() if x is not None), default=0)
        ctx = context(conn, catalogue, customer_id, now, periods_needed=needed)
        out = []
        for r in sorted(candidates, key=lambda r: (-r.priority, -r.id)):
            result = match_offer(ctx, r)
            if result.matches and result.subscription is not None:
                out.append(banner(ctx, r, result.subscription, lang))
                if len(out) >= BANNERS_PER_PAGE:
                    break
        return out


def alert_offers(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    subscription_ids: set[int],
    *,
    lang: str = "sv",
    now: datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """The offers a data alert opens (issue 17): per subscription of ``subscription_ids``, the active offer with
    the rule ``data_alert`` that matches it now (highest priority first), unless the customer dismissed or took
    it: ``{"offer_id", "cta"}``. Its banner's order sheet is the alert's one tap; nothing when none targets it."""
    if not subscription_ids:
        return {}
    now = now or clock.now()
    with engine.begin() as conn:  # a transaction: the targeting caches may be refreshed
        offers = [r for r in _active_offers(conn, now) if (x := offer_rules(r, catalogue)) is not None and x.data_alert]
        if not offers:
            return {}
        dismissed = set(
            conn.execute(
                select(OfferEvent.offer_id).where(
                    OfferEvent.customer_id == customer_id,
                    OfferEvent.offer_id.in_([r.id for r in offers]),
                    OfferEvent.kind == "dismiss",
                )
            ).scalars()
        )
        left_out = dismissed | accepted_offer_ids(conn, customer_id)
        candidates = sorted((r for r in offers if r.id not in left_out), key=lambda r: (-r.priority, -r.id))
        if not candidates:
            return {}
        needed = max((x.periods_needed() for r in candidates if (x := offer_rules(r, catalogue))), default=0)
        ctx = context(conn, catalogue, customer_id, now, periods_needed=needed)
        out: dict[int, dict[str, Any]] = {}
        for sub_id in sorted(subscription_ids):
            for r in candidates:
                result = match_offer(ctx, r, sub_id)
                if result.matches and result.subscription is not None and result.subscription.id == sub_id:
                    out[sub_id] = {"offer_id": r.id, "cta": banner(ctx, r, result.subscription, lang)["cta"]}
                    break
        return out


def targeted(ctx: Context, offer_id: int, subscription_id: int | None = None) -> tuple[Any, targeting.Match]:
    """The offer and the matching subscription, or ``NotFound`` when it is not for this customer now."""
    row = load_offer(ctx.conn, offer_id)
    if status_of(row, ctx.now) != "active":
        raise NotFound("offer not found")
    if subscription_id is not None and subscription_id not in {s.id for s in ctx.facts.subscriptions}:
        raise NotFound("subscription not found")
    result = match_offer(ctx, row, subscription_id)
    if not result.matches or result.subscription is None:
        raise NotFound("offer not found")
    return row, result


def record_event(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    offer_id: int,
    kind: str,
    placement: str,
    view_id: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Count an impression, click or dismissal once per (offer, customer, kind, view); True if new."""
    now = now or clock.now()
    if kind not in EVENT_KINDS:
        raise OfferInvalid([(("kind",), f"must be one of {', '.join(EVENT_KINDS)}")])
    if placement not in PLACEMENTS:
        raise OfferInvalid([(("placement",), f"must be one of {', '.join(PLACEMENTS)}")])
    with engine.begin() as conn:
        row = load_offer(conn, offer_id)
        if status_of(row, now) != "active":
            raise NotFound("offer not found")
        if offer_id not in accepted_offer_ids(conn, customer_id):  # the view that led to a yes still counts
            rules = offer_rules(row, catalogue)
            ctx = context(conn, catalogue, customer_id, now, periods_needed=rules.periods_needed() if rules else 0)
            if not match_offer(ctx, row).matches:
                raise NotFound("offer not found")
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        done = conn.execute(
            dialect_insert(OfferEvent)
            .values(offer_id=offer_id, customer_id=customer_id, kind=kind, placement=placement, view_id=view_id, at=now)
            .on_conflict_do_nothing(index_elements=["offer_id", "customer_id", "kind", "view_id"])
        )
        return bool(done.rowcount)
