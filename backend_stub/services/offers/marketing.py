"""Upsell offers as marketing writes them: the input, the price terms in words, the offers and their status,
banner images.

An offer sells a plan (a plan change, ``effective`` now, prorated per rules §4, or from the
next period) or an add-on, optionally with price terms: a discount on what it sells for N
periods, stored as the subscription's own ``discount_grants`` row when accepted
(``plan_id`` = the new plan, so the old plan's days are not discounted). Its status follows
from the window and the stop: ``draft`` (never scheduled), ``scheduled``, ``active``,
``ended``, ``stopped``. Who sees an offer is ``banners``; accepting it is ``accepting``; what
it did is ``results``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal, overload
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, Engine, insert, select, update

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue, Discount
from backend_stub.domain.errors import NotFound
from backend_stub.domain.money import round_fraction
from backend_stub.services.offers import targeting
from backend_stub.storage.models.offers import Offer, OfferImage
from selfcare_common.money_format import format_kr

STOCKHOLM = ZoneInfo("Europe/Stockholm")
IMAGE_URL = "/core/offer-images/{id}"  # the core is mounted under /core in the app; the app prefixes its origin
MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGE_SIDE = 4000
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
BANNERS_PER_PAGE = 2
Placement = Literal["overview", "invoice"]
PLACEMENTS: tuple[Placement, ...] = ("overview", "invoice")
EVENT_KINDS = ("impression", "click", "dismiss")
READ_ONLY_FIELDS = ("id", "status", "created_at", "updated_at", "image_url", "stopped_at")

Loc = tuple[str | int, ...]


class OfferInvalid(targeting.RuleError):
    """Invalid offer input; ``errors`` are ``(location, message)`` pairs naming the field."""


def today_of(now: datetime) -> date:
    return now.astimezone(STOCKHOLM).date()


@overload
def aware(dt: datetime) -> datetime: ...
@overload
def aware(dt: None) -> None: ...
@overload
def aware(dt: datetime | None) -> datetime | None: ...


def aware(dt: datetime | None) -> datetime | None:
    """A time read from the database as UTC-aware (SQLite gives naive UTC)."""
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
    sv: str = Field(default="", max_length=300)
    en: str = Field(default="", max_length=300)


class CapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    impressions: int = Field(default=3, ge=1, le=1000)
    days: int = Field(default=7, ge=1, le=365)


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
    placements: list[Placement] = Field(default_factory=lambda: list(PLACEMENTS), min_length=1)
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
    starts, ends = aware(body.starts_at), aware(body.ends_at)
    if starts and ends and ends <= starts:
        errors.append((("ends_at",), "must be after starts_at"))
    if (
        body.image_id is not None
        and conn.execute(select(OfferImage.id).where(OfferImage.id == body.image_id)).first() is None
    ):
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
    return {
        "sv": f"{n} mån {short(low, 'sv')}{'' if low == 0 else '/mån'}, sedan {short(fee, 'sv')}/mån",
        "en": f"{n} month{'s' if n != 1 else ''} {short(low, 'en')}{'' if low == 0 else '/month'}, "
        f"then {short(fee, 'en')}/month",
    }


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
    return Terms(
        None if row.terms_percent is None else Decimal(row.terms_percent), row.terms_amount_ore, row.terms_periods
    )


def grant_terms(row: Any) -> Discount | None:
    terms = offer_terms(row)
    if terms is None:
        return None
    return Discount(f"offer-{row.id}", discount_name(terms), terms.percent, terms.amount_ore, "plan_fee", terms.periods)


# --------------------------------------------------------------------------- offers


def status_of(row: Any, now: datetime) -> str:
    if row.stopped_at is not None:
        return "stopped"
    if not row.scheduled:
        return "draft"
    starts, ends = aware(row.starts_at), aware(row.ends_at)
    if ends is not None and now >= ends:
        return "ended"
    if starts is not None and now < starts:
        return "scheduled"
    return "active"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else aware(dt).isoformat()


def offer_dict(row: Any, now: datetime) -> dict[str, Any]:
    terms = offer_terms(row)
    return {
        "id": row.id,
        "name": row.name,
        "title": row.title,
        "body": row.body,
        "cta": row.cta,
        "image_url": IMAGE_URL.format(id=row.image_id) if row.image_id else None,
        "image_id": row.image_id,
        "sells": {"kind": row.sells_kind, "id": row.sells_id},
        "terms": None
        if terms is None
        else {
            "percent": None if terms.percent is None else format(terms.percent.normalize(), "f"),
            "amount_ore": terms.amount_ore,
            "periods": terms.periods,
        },
        "terms_text": {"sv": row.terms_text_sv, "en": row.terms_text_en},
        "effective": row.effective,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "status": status_of(row, now),
        "priority": row.priority,
        "cap": {"impressions": row.cap_impressions, "days": row.cap_days},
        "placements": list(row.placements),
        "rules": row.rules,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "stopped_at": _iso(row.stopped_at),
    }


def _values(body: OfferIn, rules: targeting.Rules, terms: Terms | None, catalogue: Catalogue) -> dict[str, Any]:
    auto = terms_texts(catalogue, body.sells.kind, body.sells.id, terms)
    given = body.terms_text or TermsTextIn()
    return dict(
        name=body.name,
        title=body.title,
        body=body.body,
        cta=body.cta,
        image_id=body.image_id,
        sells_kind=body.sells.kind,
        sells_id=body.sells.id,
        terms_percent=None if terms is None or terms.percent is None else format(terms.percent.normalize(), "f"),
        terms_amount_ore=None if terms is None else terms.amount_ore,
        terms_periods=None if terms is None else terms.periods,
        terms_text_sv=given.sv or auto["sv"],
        terms_text_en=given.en or auto["en"],
        effective=body.effective,
        starts_at=aware(body.starts_at),
        ends_at=aware(body.ends_at),
        priority=body.priority,
        cap_impressions=body.cap.impressions,
        cap_days=body.cap.days,
        placements=list(dict.fromkeys(body.placements)),
        rules=rules.model_dump(exclude_none=True),
    )


def load_offer(conn: Connection, offer_id: int) -> Any:
    row = conn.execute(select(Offer).where(Offer.id == offer_id)).first()
    if row is None:
        raise NotFound("offer not found")
    return row


def create_offer(
    engine: Engine, catalogue: Catalogue, raw: Any, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """A new offer, a draft until it is scheduled."""
    now = now or clock.now()
    with engine.begin() as conn:
        body, rules, terms = parse_offer(raw, catalogue, conn)
        offer_id = conn.execute(
            insert(Offer)
            .values(
                **_values(body, rules, terms, catalogue),
                scheduled=False,
                stopped_at=None,
                created_by=actor[:64],
                created_at=now,
                updated_at=now,
            )
            .returning(Offer.id)
        ).scalar_one()
        return offer_dict(load_offer(conn, offer_id), now)


def update_offer(
    engine: Engine, catalogue: Catalogue, offer_id: int, raw: Any, *, now: datetime | None = None
) -> dict[str, Any]:
    """Replace an offer's fields (its schedule state stays)."""
    now = now or clock.now()
    with engine.begin() as conn:
        load_offer(conn, offer_id)
        body, rules, terms = parse_offer(raw, catalogue, conn)
        conn.execute(
            update(Offer).where(Offer.id == offer_id).values(**_values(body, rules, terms, catalogue), updated_at=now)
        )
        return offer_dict(load_offer(conn, offer_id), now)


def get_offer(engine: Engine, offer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    with engine.connect() as conn:
        return offer_dict(load_offer(conn, offer_id), now or clock.now())


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
    starts, ends = aware(body.starts_at), aware(body.ends_at)
    if starts and ends and ends <= starts:
        raise OfferInvalid([(("ends_at",), "must be after starts_at")])
    if ends and ends <= now:
        raise OfferInvalid([(("ends_at",), "is in the past")])
    with engine.begin() as conn:
        load_offer(conn, offer_id)
        conn.execute(
            update(Offer)
            .where(Offer.id == offer_id)
            .values(scheduled=True, starts_at=starts, ends_at=ends, stopped_at=None, updated_at=now)
        )
        return offer_dict(load_offer(conn, offer_id), now)


def stop_offer(engine: Engine, offer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Take an offer off the air at once."""
    now = now or clock.now()
    with engine.begin() as conn:
        row = load_offer(conn, offer_id)
        if row.stopped_at is None:
            conn.execute(update(Offer).where(Offer.id == offer_id).values(stopped_at=now, updated_at=now))
        return offer_dict(load_offer(conn, offer_id), now)


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
                raise OfferInvalid(
                    [(("file",), f"the image is {width}×{height}; at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE}")]
                )
            img.verify()  # a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, OfferInvalid):
            raise
        raise OfferInvalid([(("file",), "not a PNG, JPEG or WebP image")]) from None
    now = now or clock.now()
    with engine.begin() as conn:
        image_id = conn.execute(
            insert(OfferImage)
            .values(
                content_type=IMAGE_TYPES[fmt],
                width=width,
                height=height,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_by=actor[:64],
                created_at=now,
            )
            .returning(OfferImage.id)
        ).scalar_one()
    return {
        "id": image_id,
        "url": IMAGE_URL.format(id=image_id),
        "width": width,
        "height": height,
        "content_type": IMAGE_TYPES[fmt],
    }


def get_image(engine: Engine, image_id: int) -> tuple[bytes, str, str]:
    """(bytes, content type, sha256) of a stored image."""
    with engine.connect() as conn:
        row = conn.execute(
            select(OfferImage.data, OfferImage.content_type, OfferImage.sha256).where(OfferImage.id == image_id)
        ).first()
    if row is None:
        raise NotFound("image not found")
    return bytes(row.data), row.content_type, row.sha256
