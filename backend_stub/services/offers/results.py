"""Marketing's previews and results: does a chosen subscriber match (and what would they see), how big is a
segment, and what did an offer do (impressions, clicks, acceptances, conversion, extra revenue).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, func, select

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import NotFound
from backend_stub.services.offers import targeting
from backend_stub.services.offers.banners import banner, context, match_offer
from backend_stub.services.offers.marketing import (
    STOCKHOLM,
    OfferInvalid,
    SellsIn,
    aware,
    load_offer,
    status_of,
    today_of,
)
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import Offer, OfferAcceptance, OfferEvent

# --------------------------------------------------------------------------- marketing's previews and results


def customer_preview(
    engine: Engine,
    catalogue: Catalogue,
    offer_id: int,
    customer_number: str,
    *,
    lang: str = "sv",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Whether a chosen subscriber matches (with the reasons) and the banner they would see, even for a draft."""
    now = now or clock.now()
    with engine.begin() as conn:
        row = load_offer(conn, offer_id)
        cid = conn.execute(select(m.Customer.id).where(m.Customer.customer_number == customer_number.strip())).scalar()
        if cid is None:
            raise NotFound("customer not found")
        ctx = context(conn, catalogue, cid, now)
        result = match_offer(ctx, row, lang=lang)
        shown = None if result.subscription is None else banner(ctx, row, result.subscription, lang)
        # Marketing sees why and what, not the subscriber's phone number.
        if shown is not None:
            shown["msisdn"] = mask_msisdn(shown.get("msisdn"))
        reasons = [_MSISDN_IN_TEXT.sub(lambda found: mask_msisdn(found.group()) or "", r) for r in result.reasons]
        return {"matches": result.matches, "reasons": reasons, "banner": shown}


_MSISDN_IN_TEXT = re.compile(r"\+\d{7,15}")


def mask_msisdn(msisdn: str | None) -> str | None:
    """``+46701234567`` → ``+4670•••••67``: enough to tell lines apart, not to call anyone."""
    if not msisdn or len(msisdn) < 7:
        return msisdn
    return msisdn[:5] + "•" * (len(msisdn) - 7) + msisdn[-2:]


def segment_preview(
    engine: Engine, catalogue: Catalogue, raw_rules: Any, raw_sells: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """How many subscribers match ``rules`` now (with ``sells``: those it can apply to), and a sample."""
    now = now or clock.now()
    rules = targeting.parse_rules(raw_rules, catalogue)
    sells = None
    if raw_sells is not None:
        try:
            s = SellsIn.model_validate(raw_sells)
        except ValidationError as exc:
            raise OfferInvalid(targeting.pydantic_errors(exc, ("sells",))) from None
        known = catalogue.plans if s.kind == "plan" else catalogue.addons
        if s.id not in known:
            raise OfferInvalid([(("sells", "id"), f"unknown {'plan' if s.kind == 'plan' else 'add-on'} {s.id!r}")])
        sells = targeting.Sells(s.kind, s.id)
    with engine.begin() as conn:
        return targeting.preview(conn, catalogue, rules, sells, today_of(now))


def _counts(conn: Connection, offer_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(
        lambda: {"impressions": 0, "clicks": 0, "dismissals": 0, "acceptances": 0}
    )
    names = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}
    q = select(OfferEvent.offer_id, OfferEvent.kind, func.count()).group_by(OfferEvent.offer_id, OfferEvent.kind)
    a = select(OfferAcceptance.offer_id, func.count()).group_by(OfferAcceptance.offer_id)
    if offer_ids is not None:
        q = q.where(OfferEvent.offer_id.in_(offer_ids))
        a = a.where(OfferAcceptance.offer_id.in_(offer_ids))
    for offer_id, kind, n in conn.execute(q):
        out[offer_id][names[kind]] = int(n)
    for offer_id, n in conn.execute(a):
        out[offer_id]["acceptances"] = int(n)
    return out


def results(engine: Engine, offer_id: int) -> dict[str, Any]:
    """Impressions, clicks, dismissals, acceptances, conversion, extra monthly revenue; per day; the funnel."""
    with engine.connect() as conn:
        load_offer(conn, offer_id)
        counts = _counts(conn, [offer_id])[offer_id]
        daily: dict[str, dict[str, int]] = defaultdict(
            lambda: {"impressions": 0, "clicks": 0, "dismissals": 0, "acceptances": 0}
        )
        names = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}
        for kind, at in conn.execute(select(OfferEvent.kind, OfferEvent.at).where(OfferEvent.offer_id == offer_id)):
            daily[aware(at).astimezone(STOCKHOLM).date().isoformat()][names[kind]] += 1
        extra = 0
        for at, ore in conn.execute(
            select(OfferAcceptance.accepted_at, OfferAcceptance.extra_monthly_ore).where(
                OfferAcceptance.offer_id == offer_id
            )
        ):
            daily[aware(at).astimezone(STOCKHOLM).date().isoformat()]["acceptances"] += 1
            extra += int(ore)
    impressions = counts["impressions"]
    conversion = (
        (Decimal(counts["acceptances"]) / Decimal(impressions)).quantize(Decimal("0.0001"))
        if impressions
        else Decimal("0.0000")
    )
    return {
        **counts,
        "conversion": str(conversion),
        "extra_monthly_revenue_ore": extra,
        "daily": [{"date": d, **v} for d, v in sorted(daily.items())],
        "funnel": [{"stage": s, "count": counts[s]} for s in ("impressions", "clicks", "acceptances")],
    }


def summary(engine: Engine, *, now: datetime | None = None) -> dict[str, Any]:
    """Every offer with its counts, newest first (the console's list)."""
    now = now or clock.now()
    with engine.connect() as conn:
        rows = list(conn.execute(select(Offer).order_by(Offer.id.desc())))
        counts = _counts(conn)
    return {
        "offers": [
            {
                "id": r.id,
                "name": r.name,
                "status": status_of(r, now),
                "impressions": counts[r.id]["impressions"],
                "clicks": counts[r.id]["clicks"],
                "acceptances": counts[r.id]["acceptances"],
            }
            for r in rows
        ]
    }
