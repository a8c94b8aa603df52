"""Upsell offers: marketing's banners, who sees them, the order sheet, accepting, tracking and results.

An offer sells a plan (a plan change, ``effective`` now, prorated per rules §4, or from the
next period) or an add-on, optionally with price terms: a discount on what it sells for N
periods, stored as the subscription's own ``discount_grants`` row when accepted
(``plan_id`` = the new plan, so the old plan's days are not discounted). Its status follows
from the window and the stop: ``draft`` (never scheduled), ``scheduled``, ``active``,
``ended``, ``stopped``. A subscriber sees at most two active offers per page whose rules
match them now (``services.targeting``), not dismissed, not accepted, and not past the
offer's frequency cap (impressions per subscriber in the last D days).

Marketing's texts may carry figures from the subscriber's own re-rated usage:
``{current_plan}``, ``{offer_plan}``, ``{current_cost}``, ``{offer_cost}``, ``{saving}``
(over the last invoiced periods, ``services.recommend``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import Catalogue, Discount, in_language
from backend_stub.domain.errors import Conflict, NotFound
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.texts import day
from backend_stub.services import targeting
from backend_stub.services.billing import subscriptions
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import Offer, OfferAcceptance, OfferEvent, OfferImage
from selfcare_common.money_format import format_kr

log = logging.getLogger(__name__)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
IMAGE_URL = "/core/offer-images/{id}"  # the core is mounted under /core in the app; the app prefixes its origin
MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGE_SIDE = 4000
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
BANNERS_PER_PAGE = 2
PLACEMENTS = ("overview", "invoice")
EVENT_KINDS = ("impression", "click", "dismiss")
READ_ONLY_FIELDS = ("id", "status", "created_at", "updated_at", "image_url", "stopped_at")

Loc = tuple[str | int, ...]


class OfferInvalid(targeting.RuleError):
    """Invalid offer input; ``errors`` are ``(location, message)`` pairs naming the field."""


def today_of(now: datetime) -> date:
    return now.astimezone(STOCKHOLM).date()


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- input


class SellsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["plan", "addon"]
    id: str = Field(min_length=1, max_length=64)


class TermsIn(BaseModel):
    """A discount on what the offer sells: ``percent`` (0–100) or ``amount_ore`` off per period, for ``periods``."""

    model_config = ConfigDict(extra="forbid")
    percent: str | int | None = None
    amount_ore: int | None = Field(None, ge=1)
    periods: int = Field(ge=1, le=36)

    @model_validator(mode="after")
    def _one(self):
        if (self.percent is None) == (self.amount_ore is None):
            raise ValueError("give exactly one of percent or amount_ore")
        return self


class TermsTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sv: str = Field("", max_length=300)
    en: str = Field("", max_length=300)


class CapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    impressions: int = Field(3, ge=1, le=1000)
    days: int = Field(7, ge=1, le=365)


class OfferIn(BaseModel):
    """An offer as marketing writes it (``POST``/``PUT /marketing/offers``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=2000)
    cta: str = Field(min_length=1, max_length=80)
    image_id: int | None = None
    sells: SellsIn
    terms: TermsIn | None = None
    terms_text: TermsTextIn | None = None
    effective: Literal["now", "next_period"] = "now"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = Field(0, ge=-1000, le=1000)
    cap: CapIn = CapIn()
    placements: list[Literal["overview", "invoice"]] = Field(default_factory=lambda: list(PLACEMENTS), min_length=1)
    rules: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _drop_read_only(cls, data: Any) -> Any:
        # An offer read from the API may be sent back as it is: its read-only fields are ignored.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Terms:
    percent: Decimal | None
    amount_ore: int | None
    periods: int


def parse_offer(raw: Any, catalogue: Catalogue, conn: Connection) -> tuple[OfferIn, targeting.Rules, Terms | None]:
    """Validate an offer body; ``OfferInvalid`` names every bad field (``sells.id``, ``terms.percent`` …)."""
    try:
        body = raw if isinstance(raw, OfferIn) else OfferIn.model_validate(raw)
    except ValidationError as exc:
        raise OfferInvalid(targeting.pydantic_errors(exc, ())) from None
    errors: list[tuple[Loc, str]] = []
    if body.sells.kind == "plan":
        plan = catalogue.plans.get(body.sells.id)
        if plan is None:
            errors.append((("sells", "id"), f"unknown plan {body.sells.id!r}"))
        elif not plan.on_sale:
            errors.append((("sells", "id"), f"plan {body.sells.id!r} is not on sale"))
    elif body.sells.id not in catalogue.addons:
        errors.append((("sells", "id"), f"unknown add-on {body.sells.id!r}"))
    terms = None
    if body.terms is not None:
        pct = None
        if body.terms.percent is not None:
            try:
                pct = Decimal(str(body.terms.percent).strip().replace(",", "."))
                if not pct.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors.append((("terms", "percent"), f"{body.terms.percent!r} is not a number"))
            else:
                if not 0 <= pct <= 100:
                    errors.append((("terms", "percent"), "must be from 0 to 100"))
                elif pct.as_tuple().exponent < -2:  # type: ignore[operator]
                    errors.append((("terms", "percent"), "at most two decimals"))
        if body.sells.kind == "addon":
            errors.append((("terms",), "an add-on is charged once: its offer has no discount terms"))
        terms = Terms(pct, body.terms.amount_ore, body.terms.periods)
    starts, ends = _aware(body.starts_at), _aware(body.ends_at)
    if starts and ends and ends <= starts:
        errors.append((("ends_at",), "must be after starts_at"))
    if body.image_id is not None and conn.execute(
            select(OfferImage.id).where(OfferImage.id == body.image_id)).first() is None:
        errors.append((("image_id",), f"no image {body.image_id}"))
    if body.effective == "next_period" and body.sells.kind == "addon":
        errors.append((("effective",), "an add-on counts from when it is bought: use now"))
    try:
        rules = targeting.parse_rules(body.rules, catalogue)
    except targeting.RuleError as exc:
        errors.extend(exc.errors)
        rules = targeting.Rules()
    if errors:
        raise OfferInvalid(errors)
    return body, rules, terms


# --------------------------------------------------------------------------- texts


def discounted_fee(fee_ore: int, terms: Terms) -> int:
    """The monthly fee while the discount runs (the same rounding as the invoice's discount line)."""
    if terms.percent is not None:
        from fractions import Fraction

        from backend_stub.domain.money import round_fraction

        return fee_ore - round_fraction(Fraction(fee_ore) * Fraction(terms.percent) / 100)
    return max(0, fee_ore - (terms.amount_ore or 0))


def terms_texts(catalogue: Catalogue, sells_kind: str, sells_id: str, terms: Terms | None) -> dict[str, str]:
    """The price terms in words: ``3 mån 0 kr, sedan 299 kr/mån`` / ``3 months 0 kr, then 299 kr/month``."""
    def short(ore: int, lang: str) -> str:
        return format_kr(ore, lang, short=True)

    if sells_kind == "addon":
        addon = catalogue.addons.get(sells_id)
        price = addon.price_ore if addon else 0
        return {"sv": f"{short(price, 'sv')}, en gång", "en": f"{short(price, 'en')}, once"}
    plan = catalogue.plans.get(sells_id)
    fee = plan.monthly_fee_ore if plan else 0
    if terms is None:
        return {"sv": f"{short(fee, 'sv')}/mån", "en": f"{short(fee, 'en')}/month"}
    low = discounted_fee(fee, terms)
    n = terms.periods
    return {"sv": f"{n} mån {short(low, 'sv')}{'' if low == 0 else '/mån'}, sedan {short(fee, 'sv')}/mån",
            "en": f"{n} month{'s' if n != 1 else ''} {short(low, 'en')}{'' if low == 0 else '/month'}, "
                  f"then {short(fee, 'en')}/month"}


def discount_name(terms: Terms) -> str:
    """The discount line's text on the invoice (Swedish, like every invoice line)."""
    if terms.percent is not None and terms.percent == 100:
        return f"{terms.periods} mån 0 kr"
    if terms.percent is not None:
        return f"Rabatt {format(terms.percent.normalize(), 'f')} % i {terms.periods} mån"
    return f"Rabatt {format_kr(terms.amount_ore or 0, 'sv', short=True)}/mån i {terms.periods} mån"


def offer_terms(row: Any) -> Terms | None:
    if row.terms_periods is None:
        return None
    return Terms(None if row.terms_percent is None else Decimal(row.terms_percent), row.terms_amount_ore,
                 row.terms_periods)


def grant_terms(row: Any) -> Discount | None:
    terms = offer_terms(row)
    if terms is None:
        return None
    return Discount(f"offer-{row.id}", discount_name(terms), terms.percent, terms.amount_ore, "plan_fee",
                    terms.periods)


# --------------------------------------------------------------------------- offers


def status_of(row: Any, now: datetime) -> str:
    if row.stopped_at is not None:
        return "stopped"
    if not row.scheduled:
        return "draft"
    starts, ends = _aware(row.starts_at), _aware(row.ends_at)
    if ends is not None and now >= ends:
        return "ended"
    if starts is not None and now < starts:
        return "scheduled"
    return "active"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else _aware(dt).isoformat()


def offer_dict(row: Any, now: datetime) -> dict[str, Any]:
    terms = offer_terms(row)
    return {
        "id": row.id, "name": row.name, "title": row.title, "body": row.body, "cta": row.cta,
        "image_url": IMAGE_URL.format(id=row.image_id) if row.image_id else None, "image_id": row.image_id,
        "sells": {"kind": row.sells_kind, "id": row.sells_id},
        "terms": None if terms is None else {
            "percent": None if terms.percent is None else format(terms.percent.normalize(), "f"),
            "amount_ore": terms.amount_ore, "periods": terms.periods},
        "terms_text": {"sv": row.terms_text_sv, "en": row.terms_text_en},
        "effective": row.effective, "starts_at": _iso(row.starts_at), "ends_at": _iso(row.ends_at),
        "status": status_of(row, now), "priority": row.priority,
        "cap": {"impressions": row.cap_impressions, "days": row.cap_days}, "placements": list(row.placements),
        "rules": row.rules, "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "stopped_at": _iso(row.stopped_at),
    }


def _values(body: OfferIn, rules: targeting.Rules, terms: Terms | None, catalogue: Catalogue) -> dict[str, Any]:
    auto = terms_texts(catalogue, body.sells.kind, body.sells.id, terms)
    given = body.terms_text or TermsTextIn()
    return dict(
        name=body.name, title=body.title, body=body.body, cta=body.cta, image_id=body.image_id,
        sells_kind=body.sells.kind, sells_id=body.sells.id,
        terms_percent=None if terms is None or terms.percent is None else format(terms.percent.normalize(), "f"),
        terms_amount_ore=None if terms is None else terms.amount_ore,
        terms_periods=None if terms is None else terms.periods,
        terms_text_sv=given.sv or auto["sv"], terms_text_en=given.en or auto["en"],
        effective=body.effective, starts_at=_aware(body.starts_at), ends_at=_aware(body.ends_at),
        priority=body.priority, cap_impressions=body.cap.impressions, cap_days=body.cap.days,
        placements=list(dict.fromkeys(body.placements)),
        rules=rules.model_dump(exclude_none=True),
    )


def _load(conn: Connection, offer_id: int) -> Any:
    row = conn.execute(select(Offer).where(Offer.id == offer_id)).first()
    if row is None:
        raise NotFound("offer not found")
    return row


def create_offer(engine: Engine, catalogue: Catalogue, raw: Any, *, actor: str, now: datetime | None = None
                 ) -> dict[str, Any]:
    """A new offer, a draft until it is scheduled."""
    now = now or clock.now()
    with engine.begin() as conn:
        body, rules, terms = parse_offer(raw, catalogue, conn)
        offer_id = conn.execute(insert(Offer).values(
            **_values(body, rules, terms, catalogue), scheduled=False, stopped_at=None, created_by=actor[:64],
            created_at=now, updated_at=now).returning(Offer.id)).scalar_one()
        return offer_dict(_load(conn, offer_id), now)


def update_offer(engine: Engine, catalogue: Catalogue, offer_id: int, raw: Any, *, now: datetime | None = None
                 ) -> dict[str, Any]:
    """Replace an offer's fields (its schedule state stays)."""
    now = now or clock.now()
    with engine.begin() as conn:
        _load(conn, offer_id)
        body, rules, terms = parse_offer(raw, catalogue, conn)
        conn.execute(update(Offer).where(Offer.id == offer_id).values(**_values(body, rules, terms, catalogue),
                                                                      updated_at=now))
        return offer_dict(_load(conn, offer_id), now)


def get_offer(engine: Engine, offer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return offer_dict(_load(conn, offer_id), now or clock.now())


def list_offers(engine: Engine, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every offer, newest first."""
    now = now or clock.now()
    with engine.connect() as conn:
        return [offer_dict(r, now) for r in conn.execute(select(Offer).order_by(Offer.id.desc()))]


def schedule_offer(engine: Engine, offer_id: int, raw: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Put an offer on the air in a window (both ends optional); a stopped offer may be scheduled again."""
    now = now or clock.now()
    try:
        body = ScheduleIn.model_validate(raw or {})
    except ValidationError as exc:
        raise OfferInvalid(targeting.pydantic_errors(exc, ())) from None
    starts, ends = _aware(body.starts_at), _aware(body.ends_at)
    if starts and ends and ends <= starts:
        raise OfferInvalid([(("ends_at",), "must be after starts_at")])
    if ends and ends <= now:
        raise OfferInvalid([(("ends_at",), "is in the past")])
    with engine.begin() as conn:
        _load(conn, offer_id)
        conn.execute(update(Offer).where(Offer.id == offer_id).values(
            scheduled=True, starts_at=starts, ends_at=ends, stopped_at=None, updated_at=now))
        return offer_dict(_load(conn, offer_id), now)


def stop_offer(engine: Engine, offer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Take an offer off the air at once."""
    now = now or clock.now()
    with engine.begin() as conn:
        row = _load(conn, offer_id)
        if row.stopped_at is None:
            conn.execute(update(Offer).where(Offer.id == offer_id).values(stopped_at=now, updated_at=now))
        return offer_dict(_load(conn, offer_id), now)


# --------------------------------------------------------------------------- images


def store_image(engine: Engine, data: bytes, *, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Check an uploaded banner image by its content (Pillow) and store it; ``OfferInvalid`` says why not."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        raise OfferInvalid([(("file",), f"the image is {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,}")])
    if not data:
        raise OfferInvalid([(("file",), "the file is empty")])
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            fmt, (width, height) = img.format, img.size
            if fmt not in IMAGE_TYPES:
                raise OfferInvalid([(("file",), f"{fmt} images are not accepted; use PNG, JPEG or WebP")])
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise OfferInvalid([(("file",), f"the image is {width}×{height}; at most "
                                                f"{MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}")])
            img.verify()  # a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, OfferInvalid):
            raise
        raise OfferInvalid([(("file",), "not a PNG, JPEG or WebP image")]) from None
    now = now or clock.now()
    with engine.begin() as conn:
        image_id = conn.execute(insert(OfferImage).values(
            content_type=IMAGE_TYPES[fmt], width=width, height=height, size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(), data=data, created_by=actor[:64], created_at=now)
            .returning(OfferImage.id)).scalar_one()
    return {"id": image_id, "url": IMAGE_URL.format(id=image_id), "width": width, "height": height,
            "content_type": IMAGE_TYPES[fmt]}


def get_image(engine: Engine, image_id: int) -> tuple[bytes, str, str]:
    """(bytes, content type, sha256) of a stored image."""
    with engine.connect() as conn:
        row = conn.execute(select(OfferImage.data, OfferImage.content_type, OfferImage.sha256)
                           .where(OfferImage.id == image_id)).first()
    if row is None:
        raise NotFound("image not found")
    return bytes(row.data), row.content_type, row.sha256


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


def context(conn: Connection, catalogue: Catalogue, customer_id: int, now: datetime,
            periods_needed: int = targeting.MAX_PERIODS) -> Context:
    today = today_of(now)
    facts = targeting.load_facts(conn, catalogue, [customer_id], today, periods_needed=periods_needed).get(customer_id)
    if facts is None:
        raise NotFound("customer not found")
    return Context(conn, catalogue, customer_id, now, facts, targeting.recommend_fn_for(conn, catalogue, facts, today))


def _sells(row: Any) -> targeting.Sells:
    return targeting.Sells(row.sells_kind, row.sells_id)


def _rules(row: Any, catalogue: Catalogue) -> targeting.Rules | None:
    try:
        return targeting.parse_rules(row.rules, catalogue)
    except targeting.RuleError:
        log.warning("offer %s: its rules no longer fit the catalogue; not shown", row.id)
        return None


def match_offer(ctx: Context, row: Any, subscription_id: int | None = None, lang: str = "en") -> targeting.Match:
    rules = _rules(row, ctx.catalogue)
    if rules is None:
        return targeting.Match(False, None, [targeting.say(lang, "not_met", text=targeting.say(lang, "rules_stale"))])
    return targeting.match(ctx.catalogue, rules, _sells(row), ctx.facts, ctx.today, ctx.recommend_fn,
                           subscription_id=subscription_id, lang=lang)


def _recommendation_block(ctx: Context, row: Any, sub: Subscription, lang: str) -> dict[str, Any] | None:
    if row.sells_kind != "plan":
        return None
    rec = ctx.recommend_fn(sub)
    current = next((p for p in rec["plans"] if p["current"]), None)
    offered = next((p for p in rec["plans"] if p["plan_id"] == row.sells_id), None)
    if not rec["periods"] or current is None or offered is None:
        return None
    return {"current_plan": current["name"], "current_cost_ore": current["total_ore"],
            "offer_cost_ore": offered["total_ore"], "periods": rec["periods"], "offer_plan": offered["name"]}


def _fill(text: str, figures: dict[str, Any] | None, lang: str) -> str:
    """Put the subscriber's own figures into marketing's text (known placeholders only)."""
    if "{" not in text:
        return text
    values = {"{current_plan}": "", "{offer_plan}": "", "{current_cost}": "", "{offer_cost}": "", "{saving}": ""}
    if figures:
        values.update({"{current_plan}": figures["current_plan"], "{offer_plan}": figures["offer_plan"],
                       "{current_cost}": format_kr(figures["current_cost_ore"], lang, short=True),
                       "{offer_cost}": format_kr(figures["offer_cost_ore"], lang, short=True),
                       "{saving}": format_kr(max(0, figures["current_cost_ore"] - figures["offer_cost_ore"]), lang,
                                             short=True)})
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def banner(ctx: Context, row: Any, sub: Subscription, lang: str) -> dict[str, Any]:
    """The offer as this subscriber sees it, with their figures."""
    figures = _recommendation_block(ctx, row, sub, lang)
    recommendation = None if figures is None else {k: figures[k] for k in (
        "current_plan", "current_cost_ore", "offer_cost_ore", "periods")}
    return {"offer_id": row.id, "subscription_id": sub.id, "msisdn": sub.msisdn,
            "title": _fill(row.title, figures, lang), "body": _fill(row.body, figures, lang),
            "cta": _fill(row.cta, figures, lang),
            "image_url": IMAGE_URL.format(id=row.image_id) if row.image_id else None,
            "terms_text": row.terms_text_en if lang == "en" else row.terms_text_sv,
            "recommendation": recommendation}


def _active_offers(conn: Connection, now: datetime) -> list[Any]:
    rows = conn.execute(select(Offer).where(Offer.scheduled.is_(True), Offer.stopped_at.is_(None))).all()
    return [r for r in rows if status_of(r, now) == "active"]


def _accepted_offer_ids(conn: Connection, customer_id: int) -> set[int]:
    return set(conn.execute(select(OfferAcceptance.offer_id).where(OfferAcceptance.customer_id == customer_id))
               .scalars())


def banners_for(engine: Engine, catalogue: Catalogue, customer_id: int, *, placement: str = "overview",
                lang: str = "sv", now: datetime | None = None) -> list[dict[str, Any]]:
    """At most two banners for a page: active, matching, not dismissed, not accepted, within the cap."""
    now = now or clock.now()
    with engine.begin() as conn:  # a transaction: the targeting caches may be refreshed
        offers = [r for r in _active_offers(conn, now) if placement in r.placements]
        if not offers:
            return []
        ids = [r.id for r in offers]
        dismissed: set[int] = set()
        impressions: dict[int, list[datetime]] = defaultdict(list)
        for e in conn.execute(select(OfferEvent.offer_id, OfferEvent.kind, OfferEvent.at).where(
                OfferEvent.customer_id == customer_id, OfferEvent.offer_id.in_(ids),
                OfferEvent.kind.in_(["dismiss", "impression"]))):
            if e.kind == "dismiss":
                dismissed.add(e.offer_id)
            else:
                impressions[e.offer_id].append(_aware(e.at))
        accepted = _accepted_offer_ids(conn, customer_id)

        def capped(r: Any) -> bool:
            since = now - timedelta(days=r.cap_days)
            return sum(1 for at in impressions.get(r.id, ()) if at > since) >= r.cap_impressions

        candidates = [r for r in offers if r.id not in dismissed and r.id not in accepted and not capped(r)]
        if not candidates:
            return []
        rules = {r.id: _rules(r, catalogue) for r in candidates}
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


def _targeted(ctx: Context, offer_id: int, subscription_id: int | None = None) -> tuple[Any, targeting.Match]:
    """The offer and the matching subscription, or ``NotFound`` when it is not for this customer now."""
    row = _load(ctx.conn, offer_id)
    if status_of(row, ctx.now) != "active":
        raise NotFound("offer not found")
    if subscription_id is not None and subscription_id not in {s.id for s in ctx.facts.subscriptions}:
        raise NotFound("subscription not found")
    result = match_offer(ctx, row, subscription_id)
    if not result.matches or result.subscription is None:
        raise NotFound("offer not found")
    return row, result


def record_event(engine: Engine, catalogue: Catalogue, customer_id: int, offer_id: int, kind: str, placement: str,
                 view_id: str, *, now: datetime | None = None) -> bool:
    """Count an impression, click or dismissal once per (offer, customer, kind, view); True if new."""
    now = now or clock.now()
    if kind not in EVENT_KINDS:
        raise OfferInvalid([(("kind",), f"must be one of {', '.join(EVENT_KINDS)}")])
    if placement not in PLACEMENTS:
        raise OfferInvalid([(("placement",), f"must be one of {', '.join(PLACEMENTS)}")])
    with engine.begin() as conn:
        row = _load(conn, offer_id)
        if status_of(row, now) != "active":
            raise NotFound("offer not found")
        if offer_id not in _accepted_offer_ids(conn, customer_id):  # the view that led to a yes still counts
            rules = _rules(row, catalogue)
            ctx = context(conn, catalogue, customer_id, now, periods_needed=rules.periods_needed() if rules else 0)
            if not match_offer(ctx, row).matches:
                raise NotFound("offer not found")
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        done = conn.execute(dialect_insert(OfferEvent).values(
            offer_id=offer_id, customer_id=customer_id, kind=kind, placement=placement, view_id=view_id, at=now)
            .on_conflict_do_nothing(index_elements=["offer_id", "customer_id", "kind", "view_id"]))
        return bool(done.rowcount)


# --------------------------------------------------------------------------- order sheet and accepting


def effective_date(ctx: Context, row: Any) -> date:
    if row.effective == "next_period":
        return subscriptions.next_period_start(ctx.conn, ctx.customer_id, ctx.today)
    return ctx.today


def what_you_get(catalogue: Catalogue, kind: str, item_id: str, lang: str) -> list[str]:
    """The order sheet's list of what the subscriber gets (from the catalogue)."""
    en = lang == "en"
    if kind == "addon":
        addon = catalogue.addons[item_id]
        return [f"{a.label} {'data' if en else 'surf'}" if pool == "data" else a.label
                for pool, a in addon.allowances.items()] + [in_language(addon, lang)]
    plan = catalogue.plans[item_id]
    if plan.kind != "mobile":
        name, description = in_language(plan, lang), in_language(plan, lang, "description")
        return [name, description] if description else [name]
    out = []
    data = plan.allowances.get("data")
    if data is not None:
        out.append(("Unlimited data" if en else "Obegränsad surf") if data.unlimited
                   else f"{data.label} {'data' if en else 'surf'}")
    voice, sms = plan.allowances.get("voice"), plan.allowances.get("sms")
    if voice is not None and sms is not None and voice.unlimited and sms.unlimited:
        out.append("Free calls and texts" if en else "Fria samtal och sms")
    else:
        if voice is not None:
            out.append(("Free calls" if en else "Fria samtal") if voice.unlimited
                       else f"{voice.label} {'calls' if en else 'samtal'}")
        if sms is not None:
            out.append(("Free texts" if en else "Fria sms") if sms.unlimited else f"{sms.amount} sms")
    out.append("EU roaming like at home" if en else "Surfa och ring i EU som hemma")
    return out


def _grants_of(conn: Connection, subscription_id: int) -> list[invoicing.DiscountGrant]:
    from backend_stub.services.billing.billrun import grant_of_row

    return [grant_of_row(g) for g in conn.execute(select(m.DiscountGrant).where(
        m.DiscountGrant.subscription_id == subscription_id))]


def _cycle_day(conn: Connection, customer_id: int) -> int:
    return conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar() or 1


def _plan_lines(ctx: Context, row: Any, sub: Subscription, effective: date) -> tuple[Period, list[invoicing.Line]]:
    """The fee and discount lines of this subscription on the invoice of the period the change falls in."""
    changed = subscriptions.check_change(ctx.conn, ctx.catalogue, sub, row.sells_id, effective)
    period = period_containing(effective, _cycle_day(ctx.conn, ctx.customer_id))
    grants = _grants_of(ctx.conn, sub.id)
    terms = grant_terms(row)
    if terms is not None:
        grants.append(invoicing.DiscountGrant(terms.id, period.label, sub.id, terms, row.sells_id))
    fees = invoicing.fee_lines(ctx.catalogue, changed, period)
    discounts = [d for d in invoicing.discount_lines(ctx.catalogue, grants, period, fees)
                 if d.subscription_id == sub.id]
    return period, fees + discounts


def order_sheet(engine: Engine, catalogue: Catalogue, customer_id: int, offer_id: int, subscription_id: int | None,
                *, lang: str = "sv", now: datetime | None = None) -> dict[str, Any]:
    """What accepting would do, in figures: the lines the next invoice will carry for this subscription."""
    now = now or clock.now()
    with engine.begin() as conn:
        ctx = context(conn, catalogue, customer_id, now)
        if offer_id in _accepted_offer_ids(conn, customer_id):
            raise NotFound("offer not found")
        row, result = _targeted(ctx, offer_id, subscription_id)
        sub = result.subscription
        assert sub is not None
        seg = sub.segment_on(ctx.today)
        current_plan = catalogue.plans[seg.plan_id]
        current = {"kind": "plan", "id": current_plan.id, "name": in_language(current_plan, lang),
                   "monthly_fee_ore": current_plan.monthly_fee_ore}
        texts = row.terms_text_en if lang == "en" else row.terms_text_sv
        out: dict[str, Any] = {"offer_id": row.id, "subscription_id": sub.id, "msisdn": sub.msisdn,
                               "title": _fill(row.title, _recommendation_block(ctx, row, sub, lang), lang),
                               "what_you_get": what_you_get(catalogue, row.sells_kind, row.sells_id, lang),
                               "terms_text": texts, "current": current}
        if row.sells_kind == "addon":
            addon = catalogue.addons[row.sells_id]
            period = period_containing(ctx.today, _cycle_day(conn, customer_id))
            line = {"description": in_language(addon, lang), "amount_ore": addon.price_ore}
            out.update({"new": {"kind": "addon", "id": addon.id, "name": in_language(addon, lang),
                                "price_ore": addon.price_ore},
                        "effective_date": ctx.today.isoformat(),
                        "this_period": {"period": period.label, "lines": [line], "total_ore": addon.price_ore},
                        "monthly_after_discount_ore": current_plan.monthly_fee_ore})
            return out
        effective = effective_date(ctx, row)
        try:
            period, lines = _plan_lines(ctx, row, sub, effective)
        except subscriptions.PlanChangeError:
            raise NotFound("offer not found") from None
        new_plan = catalogue.plans[row.sells_id]
        out.update({"new": {"kind": "plan", "id": new_plan.id, "name": in_language(new_plan, lang),
                            "monthly_fee_ore": new_plan.monthly_fee_ore},
                    "effective_date": effective.isoformat(),
                    "this_period": {"period": period.label,
                                    "lines": [{"description": (ln.description_en or ln.description) if lang == "en"
                                               else ln.description, "amount_ore": ln.amount_ore}
                                              for ln in lines],
                                    "total_ore": sum(ln.amount_ore for ln in lines)},
                    "monthly_after_discount_ore": new_plan.monthly_fee_ore})
        return out


def accept_offer(engine: Engine, catalogue: Catalogue, customer_id: int, offer_id: int, subscription_id: int, *,
                 actor: str, now: datetime | None = None, mail: messaging.MailSettings | None = None,
                 sms: messaging.SmsProvider | None = None) -> dict[str, Any]:
    """Say yes to an offer: change the plan (or buy the add-on), grant the terms, note it, confirm it.

    ``NotFound`` when the offer is not for this customer's subscription now, ``Conflict`` when it
    was accepted already. An add-on is bought through the add-on shop (``services.addons.buy_addon``),
    which confirms the purchase to the subscriber itself.
    """
    now = now or clock.now()
    with engine.begin() as conn:
        if conn.execute(select(OfferAcceptance.id).where(OfferAcceptance.offer_id == offer_id,
                                                         OfferAcceptance.subscription_id == subscription_id)).first():
            owner = conn.execute(select(m.Subscription.customer_id).where(
                m.Subscription.id == subscription_id)).scalar()
            if owner == customer_id:
                raise Conflict("the offer is already accepted for this subscription")
        ctx = context(conn, catalogue, customer_id, now)
        row, result = _targeted(ctx, offer_id, subscription_id)
        if offer_id in _accepted_offer_ids(conn, customer_id):
            raise Conflict("the offer is already accepted")
        sub = result.subscription
        assert sub is not None
    if row.sells_kind == "addon":
        return _accept_addon(engine, catalogue, row, sub, actor=actor, now=now, mail=mail, sms=sms)
    try:
        with engine.begin() as conn:
            ctx = context(conn, catalogue, customer_id, now)
            row, result = _targeted(ctx, offer_id, subscription_id)  # again, inside the writing transaction
            sub = result.subscription
            assert sub is not None
            effective = effective_date(ctx, row)
            old_plan = catalogue.plans[sub.segment_on(ctx.today).plan_id]
            new_plan = catalogue.plans[row.sells_id]
            acceptance_id = conn.execute(insert(OfferAcceptance).values(
                offer_id=offer_id, customer_id=customer_id, subscription_id=sub.id, old_plan_id=old_plan.id,
                plan_id=new_plan.id, addon_id=None, effective_date=effective,
                extra_monthly_ore=new_plan.monthly_fee_ore - old_plan.monthly_fee_ore, grant_id=None,
                actor=actor[:64], accepted_at=now).returning(OfferAcceptance.id)).scalar_one()
            subscriptions.change_plan(conn, catalogue, sub.id, new_plan.id, effective)
            grant_id = None
            terms = offer_terms(row)
            if terms is not None:
                period = period_containing(effective, _cycle_day(conn, customer_id))
                grant_id = conn.execute(insert(m.DiscountGrant).values(
                    customer_id=customer_id, subscription_id=sub.id, discount_id=f"offer-{row.id}",
                    start_period=period.label, name=discount_name(terms),
                    percent=None if terms.percent is None else format(terms.percent.normalize(), "f"),
                    amount_ore=terms.amount_ore, applies_to="plan_fee", periods=terms.periods,
                    plan_id=new_plan.id, source=f"offer:{row.id}").returning(m.DiscountGrant.id)).scalar_one()
                conn.execute(update(OfferAcceptance).where(OfferAcceptance.id == acceptance_id)
                             .values(grant_id=grant_id))
            data = {"offer_id": row.id, "acceptance_id": acceptance_id, "msisdn": sub.msisdn or sub.number,
                    "old_plan": old_plan.name, "new_plan": new_plan.name, "effective_date": effective.isoformat(),
                    "old_plan_en": in_language(old_plan, "en"), "new_plan_en": in_language(new_plan, "en"),
                    "terms_sv": row.terms_text_sv, "terms_en": row.terms_text_en}
            invoice_id = _note_on_timeline(conn, customer_id, data, actor, now)
    except IntegrityError:
        raise Conflict("the offer is already accepted for this subscription") from None
    except subscriptions.PlanChangeError:
        raise NotFound("offer not found") from None
    _confirm(engine, customer_id, data, invoice_id, mail=mail, sms=sms)
    return {"acceptance_id": acceptance_id, "effective_date": effective.isoformat(), "subscription_id": sub.id,
            "plan_id": new_plan.id}


def _accept_addon(engine: Engine, catalogue: Catalogue, row: Any, sub: Subscription, *, actor: str, now: datetime,
                  mail: messaging.MailSettings | None, sms: messaging.SmsProvider | None) -> dict[str, Any]:
    from backend_stub.services.charges.addons import buy_addon

    addon = catalogue.addons[row.sells_id]
    today = today_of(now)
    try:
        with engine.begin() as conn:  # the acceptance first: a second tap cannot buy twice
            acceptance_id = conn.execute(insert(OfferAcceptance).values(
                offer_id=row.id, customer_id=sub.customer_id, subscription_id=sub.id,
                old_plan_id=sub.segment_on(today).plan_id, plan_id=None, addon_id=addon.id, effective_date=today,
                extra_monthly_ore=addon.price_ore, grant_id=None, actor=actor[:64], accepted_at=now)
                .returning(OfferAcceptance.id)).scalar_one()
    except IntegrityError:
        raise Conflict("the offer is already accepted for this subscription") from None
    try:  # the add-on shop confirms the purchase to the subscriber itself
        buy_addon(engine, catalogue, sub.id, addon.id, source=f"offer:{row.id}", now=now, mail=mail, sms=sms)
    except Exception as exc:
        with engine.begin() as conn:
            conn.execute(OfferAcceptance.__table__.delete().where(OfferAcceptance.id == acceptance_id))
        if isinstance(exc, ValueError | NotFound):  # the shop refused: for this offer, a conflict
            raise Conflict(str(exc)) from None
        raise
    data = {"offer_id": row.id, "acceptance_id": acceptance_id, "msisdn": sub.msisdn or sub.number,
            "old_plan": None, "new_plan": addon.name, "effective_date": today.isoformat(),
            "new_plan_en": in_language(addon, "en"),
            "terms_sv": row.terms_text_sv, "terms_en": row.terms_text_en}
    with engine.begin() as conn:
        _note_on_timeline(conn, sub.customer_id, data, actor, now)
    return {"acceptance_id": acceptance_id, "effective_date": today.isoformat(), "subscription_id": sub.id,
            "addon_id": addon.id}


def _note_on_timeline(conn: Connection, customer_id: int, data: dict[str, Any], actor: str, now: datetime
                      ) -> str | None:
    """An ``offer_accepted`` entry on the customer's latest invoice (None: no invoice yet)."""
    from backend_stub.domain.texts import render

    invoice_id = conn.execute(select(m.Invoice.id).where(m.Invoice.customer_id == customer_id,
                                                         m.Invoice.kind == "invoice")
                              .order_by(m.Invoice.period_start.desc(), m.Invoice.number.desc()).limit(1)).scalar()
    if invoice_id is not None:
        ledger.add_event(conn, invoice_id, "offer_accepted", render("offer_accepted", data, "sv", "Erbjudande antaget."),
                         actor=actor[:64], data=data, at=now)
    return invoice_id


def confirmation_texts(data: dict[str, Any], name: str, seller: str, lang: str) -> tuple[str, str, str]:
    """Subject, e-mail text and SMS text of the confirmation."""
    when = day(data["effective_date"], lang)
    terms = data["terms_en"] if lang == "en" else data["terms_sv"]
    if lang == "en":
        old, new = data.get("old_plan_en") or data.get("old_plan"), data.get("new_plan_en") or data["new_plan"]
        if data.get("old_plan"):
            what = f"{data['msisdn']} changes from {old} to {new} on {when}"
        else:
            what = f"{new} is added to {data['msisdn']} from {when}"
        subject = f"Your order: {new}"
        text = (f"Hello {name},\n\nThank you for your order. {what}. Price: {terms}.\n"
                f"Your next invoice shows the change.\n\nKind regards, {seller}\n")
        return subject, text, f"{seller}: {what}. {terms}."
    if data.get("old_plan"):
        what = f"{data['msisdn']} byter från {data['old_plan']} till {data['new_plan']} den {when}"
    else:
        what = f"{data['new_plan']} läggs till på {data['msisdn']} från {when}"
    subject = f"Din beställning: {data['new_plan']}"
    text = (f"Hej {name}!\n\nTack för din beställning. {what}. Pris: {terms}.\n"
            f"Ändringen syns på din nästa faktura.\n\nVänliga hälsningar, {seller}\n")
    return subject, text, f"{seller}: {what}. {terms}."


def _confirm(engine: Engine, customer_id: int, data: dict[str, Any], invoice_id: str | None, *,
             mail: messaging.MailSettings | None, sms: messaging.SmsProvider | None) -> str | None:
    """The confirmation by the customer's channel, once per acceptance; a failure leaves it in the outbox."""
    from backend_stub.services.lifecycle.messaging import address_line
    from backend_stub.services.lifecycle.sending import _channel

    with engine.connect() as conn:
        customer = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).one()
        seller = conn.execute(select(m.Invoice.document).where(m.Invoice.id == invoice_id)).scalar() if invoice_id \
            else None
    seller_name = (seller or {}).get("seller", {}).get("name") or "Nordvik Telecom AB"
    lang = "en" if customer.language == "en" else "sv"
    subject, text, short = confirmation_texts(data, customer.name, seller_name, lang)
    channel = _channel(customer)
    key = f"offer-accept:{data['acceptance_id']}:{channel}"
    try:
        if channel == "email":
            messaging.send_email(engine, mail or messaging.MailSettings.from_env(), to=customer.email,
                                 subject=subject, text=text, key=key, invoice_id=invoice_id)
        elif channel == "sms":
            messaging.send_sms(engine, sms or messaging.OutboxSmsProvider(), to=customer.phone, text=short, key=key,
                               invoice_id=invoice_id)
        else:
            messaging.record_letter(engine, to=address_line(customer), subject=subject, text=text, key=key,
                                    invoice_id=invoice_id)
    except (OSError, smtplib.SMTPException, ValueError):
        log.exception("offer confirmation %s not sent; it stays in the outbox", key)
        return None
    return channel


# --------------------------------------------------------------------------- marketing's previews and results


def customer_preview(engine: Engine, catalogue: Catalogue, offer_id: int, customer_number: str, *, lang: str = "sv",
                     now: datetime | None = None) -> dict[str, Any]:
    """Whether a chosen subscriber matches (with the reasons) and the banner they would see, even for a draft."""
    now = now or clock.now()
    with engine.begin() as conn:
        row = _load(conn, offer_id)
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


def segment_preview(engine: Engine, catalogue: Catalogue, raw_rules: Any, raw_sells: Any, *,
                    now: datetime | None = None) -> dict[str, Any]:
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
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"impressions": 0, "clicks": 0, "dismissals": 0,
                                                          "acceptances": 0})
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
        _load(conn, offer_id)
        counts = _counts(conn, [offer_id])[offer_id]
        daily: dict[str, dict[str, int]] = defaultdict(lambda: {"impressions": 0, "clicks": 0, "dismissals": 0,
                                                                "acceptances": 0})
        names = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}
        for kind, at in conn.execute(select(OfferEvent.kind, OfferEvent.at).where(OfferEvent.offer_id == offer_id)):
            daily[_aware(at).astimezone(STOCKHOLM).date().isoformat()][names[kind]] += 1
        extra = 0
        for at, ore in conn.execute(select(OfferAcceptance.accepted_at, OfferAcceptance.extra_monthly_ore)
                                    .where(OfferAcceptance.offer_id == offer_id)):
            daily[_aware(at).astimezone(STOCKHOLM).date().isoformat()]["acceptances"] += 1
            extra += int(ore)
    impressions = counts["impressions"]
    conversion = (Decimal(counts["acceptances"]) / Decimal(impressions)).quantize(Decimal("0.0001")) \
        if impressions else Decimal("0.0000")
    return {**counts, "conversion": str(conversion), "extra_monthly_revenue_ore": extra,
            "daily": [{"date": d, **v} for d, v in sorted(daily.items())],
            "funnel": [{"stage": s, "count": counts[s]} for s in ("impressions", "clicks", "acceptances")]}


def summary(engine: Engine, *, now: datetime | None = None) -> dict[str, Any]:
    """Every offer with its counts, newest first (the console's list)."""
    now = now or clock.now()
    with engine.connect() as conn:
        rows = list(conn.execute(select(Offer).order_by(Offer.id.desc())))
        counts = _counts(conn)
    return {"offers": [{"id": r.id, "name": r.name, "status": status_of(r, now),
                        "impressions": counts[r.id]["impressions"], "clicks": counts[r.id]["clicks"],
                        "acceptances": counts[r.id]["acceptances"]} for r in rows]}


# --------------------------------------------------------------------------- demo


def _demo_image(colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> bytes:
    """A small gradient banner (PNG) for the demo offers."""
    from PIL import Image, ImageDraw

    width, height = 720, 240
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    (r1, g1, b1), (r2, g2, b2) = colours
    for x in range(width):
        t = x / (width - 1)
        draw.line([(x, 0), (x, height)], fill=(round(r1 + (r2 - r1) * t), round(g1 + (g2 - g1) * t),
                                               round(b1 + (b2 - b1) * t)))
    for i in range(6):
        draw.ellipse([width - 220 + i * 18, 40 + i * 12, width - 60 + i * 6, 200 - i * 6],
                     outline=(255, 255, 255), width=2)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


DEMO_OFFERS = (
    ({"name": "Heavy data → 20 GB", "title": "Slut på surf igen?",
      "body": "Med Mobil 20 GB räcker surfen hela månaden. Första tre månaderna utan månadsavgift.",
      "cta": "Visa erbjudandet", "sells": {"kind": "plan", "id": "mobil-20gb"},
      "terms": {"percent": "100", "periods": 3}, "effective": "now", "priority": 20,
      "cap": {"impressions": 5, "days": 7}, "placements": ["overview", "invoice"],
      "rules": {"plans": ["mobil-bas", "mobil-5gb"], "data_usage": {"min_percent": 90, "periods": 2, "of_last": 3}}},
     ((12, 74, 110), (40, 170, 160))),
    ({"name": "Bredband 100 → 250", "title": "Dubbla farten hemma",
      "body": "Uppgradera till 250 Mbit/s. Samma pris som i dag de första tre månaderna.",
      "cta": "Uppgradera", "sells": {"kind": "plan", "id": "bredband-250"},
      "terms": {"amount_ore": 10000, "periods": 3}, "effective": "next_period", "priority": 15,
      "cap": {"impressions": 3, "days": 7}, "placements": ["overview", "invoice"],
      "rules": {"plans": ["bredband-100"], "tenure_months": {"min": 3}}},
     ((60, 30, 110), (200, 80, 150))),
    ({"name": "Rekommenderat: Mobil 5 GB", "title": "Rekommenderat för dig",
      "body": "Med {offer_plan} hade dina tre senaste månader kostat {offer_cost} i stället för {current_cost}.",
      "cta": "Se hur", "sells": {"kind": "plan", "id": "mobil-5gb"}, "effective": "next_period", "priority": 10,
      "cap": {"impressions": 3, "days": 14}, "placements": ["overview", "invoice"],
      "rules": {"recommended": True}},
     ((20, 90, 50), (150, 200, 60))),
)


def seed_demo_offers(engine: Engine, catalogue: Catalogue, *, now: datetime | None = None) -> int:
    """Create and schedule the demo's offers once (a database with offers is left as it is)."""
    now = now or clock.now()
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(Offer)).scalar_one():
            return 0
    made = 0
    for body, colours in DEMO_OFFERS:
        image = store_image(engine, _demo_image(colours), actor="demo", now=now)
        offer = create_offer(engine, catalogue, {**body, "image_id": image["id"]}, actor="demo", now=now)
        schedule_offer(engine, offer["id"], {}, now=now)
        made += 1
    return made
