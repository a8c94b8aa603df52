"""Routes of the offers area (see docs/offers.md; the contract of issue 6).

Marketing (role ``marketing``, or ``service``) writes and schedules offers, uploads their
images, previews segments and reads results. Subscribers read their banners, the order
sheet and their recommendation, report views, and accept; staff may read those routes for a
customer too, but only the subscriber (or the app's service token) may accept. A subscriber
token reaches only its own customer: any other id is 404, whatever it is.

Validation errors are 422 with FastAPI's own shape, ``{"detail": [{"loc": ["body", "sells",
"id"], "msg": "unknown plan 'x'", "type": "value_error"}]}``, for the model's checks and the
core's alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from backend_stub.api import errors
from backend_stub.api.auth import actor_of, ensure_customer_access, require_roles
from backend_stub.api.deps import core_of, run
from backend_stub.api.params import IdField, IdPath, OptionalIdQuery
from backend_stub.api.uploads import Upload, file_schema, file_upload
from backend_stub.domain.errors import NotFound
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.offers import accepting, banners, marketing, recommend, results, targeting
from backend_stub.services.offers.marketing import OfferIn, ScheduleIn
from backend_stub.storage.repo import load_subscriptions

router = APIRouter(tags=["offers"])

Marketing = Annotated[Principal, Depends(require_roles(Role.MARKETING, Role.SERVICE))]
Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Buyer = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.SERVICE))]
Lang = Annotated[Literal["sv", "en"], Query()]


def _now(request: Request) -> datetime:
    """The core clock's now (tests give the core a ``FrozenClock`` to look at another day)."""
    return core_of(request).now()


def _invalid(exc: targeting.RuleError, where: str = "body") -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": [where, *loc], "msg": msg, "type": "value_error"} for loc, msg in exc.errors]},
        status_code=422,
    )


async def _call(fn, *args, where: str = "body", **kwargs):
    """Run a service call, answering a rule's errors with 422 (``NotFound`` and ``Conflict`` are the API's
    404 and 409, ``api.errors``)."""
    try:
        return await run(fn, *args, **kwargs)
    except targeting.RuleError as exc:
        return _invalid(exc, where)


# --- marketing ------------------------------------------------------------------------------------


@router.get("/marketing/offers")
async def list_offers(request: Request, _p: Marketing) -> dict[str, Any]:
    """Every offer, newest first."""
    return {"offers": await run(marketing.list_offers, core_of(request).engine, now=_now(request))}


@router.post("/marketing/offers", status_code=201)
async def create_offer(request: Request, p: Marketing, body: OfferIn) -> Any:
    """A new offer (a draft until scheduled). 422 names the field: unknown plan, bad terms, bad window …"""
    core = core_of(request)
    return await _call(marketing.create_offer, core.engine, core.catalogue, body, actor=actor_of(p), now=_now(request))


@router.get("/marketing/offers/{offer_id}")
async def get_offer(request: Request, offer_id: IdPath, _p: Marketing) -> Any:
    return await _call(marketing.get_offer, core_of(request).engine, offer_id, now=_now(request))


@router.put("/marketing/offers/{offer_id}", responses=errors.refusals(409))
async def put_offer(request: Request, offer_id: IdPath, _p: Marketing, body: OfferIn) -> Any:
    """Replace an offer's fields (the same body as creating it)."""
    core = core_of(request)
    return await _call(marketing.update_offer, core.engine, core.catalogue, offer_id, body, now=_now(request))


@router.post("/marketing/offers/{offer_id}/schedule", responses=errors.refusals(409))
async def schedule_offer(request: Request, offer_id: IdPath, _p: Marketing, body: ScheduleIn) -> Any:
    """On the air in a window (``starts_at``/``ends_at`` optional): status scheduled or active."""
    return await _call(
        marketing.schedule_offer, core_of(request).engine, offer_id, body.model_dump(), now=_now(request)
    )


@router.post("/marketing/offers/{offer_id}/stop", responses=errors.refusals(409))
async def stop_offer(request: Request, offer_id: IdPath, _p: Marketing) -> Any:
    """Off the air at once (status stopped)."""
    return await _call(marketing.stop_offer, core_of(request).engine, offer_id, now=_now(request))


@router.post("/marketing/images", status_code=201, openapi_extra=file_schema(description="PNG, JPEG or WebP"))
async def upload_image(
    request: Request, p: Marketing, file: Annotated[Upload, Depends(file_upload(marketing.MAX_IMAGE_BYTES + 1))]
) -> Any:
    """A banner image: PNG, JPEG or WebP by content, ≤ 1 MB, ≤ 4000×4000; else 422 with the reason."""
    return await _call(marketing.store_image, core_of(request).engine, file.data, actor=actor_of(p), now=_now(request))


@router.get("/offer-images/{image_id}", response_class=Response, responses={304: {"description": "Not modified"}})
async def offer_image(request: Request, image_id: IdPath) -> Response:
    """A banner image (public: banners are public; an image never changes, so it is cached long)."""
    try:
        data, content_type, digest = await run(marketing.get_image, core_of(request).engine, image_id)
    except NotFound:
        raise HTTPException(404, "image not found") from None
    etag = f'"{digest[:32]}"'
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=content_type, headers=headers)


class SegmentPreviewIn(BaseModel):
    rules: dict[str, Any] = Field(default_factory=dict)
    sells: dict[str, Any] | None = None


@router.post("/marketing/segments/preview")
async def segment_preview(request: Request, _p: Marketing, body: SegmentPreviewIn) -> Any:
    """How many subscribers (customers) the rules match now, of how many, and up to 10 of them."""
    core = core_of(request)
    return await _call(results.segment_preview, core.engine, core.catalogue, body.rules, body.sells, now=_now(request))


@router.get("/marketing/offers/{offer_id}/preview")
async def customer_preview(
    request: Request,
    offer_id: IdPath,
    _p: Marketing,
    customer_number: Annotated[str, Query(min_length=1, max_length=32)],
    lang: Lang = "sv",
) -> Any:
    """Whether this subscriber matches, why, and the banner they would see (even for a draft)."""
    core = core_of(request)
    return await _call(
        results.customer_preview, core.engine, core.catalogue, offer_id, customer_number, lang=lang, now=_now(request)
    )


@router.get("/marketing/offers/{offer_id}/results")
async def offer_results(request: Request, offer_id: IdPath, _p: Marketing) -> Any:
    """Counts, conversion, extra monthly revenue, per day and as a funnel."""
    return await _call(results.results, core_of(request).engine, offer_id)


@router.get("/marketing/summary")
async def marketing_summary(request: Request, _p: Marketing) -> dict[str, Any]:
    return await run(results.summary, core_of(request).engine, now=_now(request))


# --- subscribers ----------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/offers")
async def customer_offers(
    request: Request,
    customer_id: IdPath,
    p: Reader,
    placement: Literal["overview", "invoice"] = "overview",
    lang: Lang = "sv",
) -> Any:
    """At most two banners for the page, highest priority first."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return {
        "banners": await _call(
            banners.banners_for,
            core.engine,
            core.catalogue,
            customer_id,
            placement=placement,
            lang=lang,
            now=_now(request),
        )
    }


class EventIn(BaseModel):
    kind: Literal["impression", "click", "dismiss"]
    placement: Literal["overview", "invoice"]
    view_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@router.post("/customers/{customer_id}/offers/{offer_id}/events", status_code=204, response_class=Response)
async def offer_event(request: Request, customer_id: IdPath, offer_id: IdPath, p: Reader, body: EventIn) -> Response:
    """An impression, click or dismissal; counted once per (offer, customer, kind, view)."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    result = await _call(
        banners.record_event,
        core.engine,
        core.catalogue,
        customer_id,
        offer_id,
        body.kind,
        body.placement,
        body.view_id,
        now=_now(request),
    )
    if isinstance(result, Response):
        return result
    return Response(status_code=204)


@router.get("/customers/{customer_id}/offers/{offer_id}/order")
async def order_sheet(
    request: Request,
    customer_id: IdPath,
    offer_id: IdPath,
    p: Reader,
    subscription_id: OptionalIdQuery = None,
    lang: Lang = "sv",
) -> Any:
    """What accepting does, in figures: the fee and discount lines of this period's invoice."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return await _call(
        accepting.order_sheet,
        core.engine,
        core.catalogue,
        customer_id,
        offer_id,
        subscription_id,
        lang=lang,
        now=_now(request),
    )


class AcceptIn(BaseModel):
    subscription_id: IdField


@router.post("/customers/{customer_id}/offers/{offer_id}/accept", status_code=201, responses=errors.refusals(409))
async def accept_offer(request: Request, customer_id: IdPath, offer_id: IdPath, p: Buyer, body: AcceptIn) -> Any:
    """Yes to the offer: the subscription changes as the offer says; 404 if it is not for them, 409 if done."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return await _call(
        accepting.accept_offer,
        core.engine,
        core.catalogue,
        customer_id,
        offer_id,
        body.subscription_id,
        actor=actor_of(p),
        now=_now(request),
    )


def _recommendation(engine, catalogue, customer_id: int, subscription_id: int | None, now: datetime) -> dict[str, Any]:
    today = marketing.today_of(now)
    with engine.begin() as conn:
        subs = load_subscriptions(conn, customer_ids=[customer_id])
        if subscription_id is None:
            plan_today = {s.id: seg.plan_id for s in subs if (seg := s.segment_on(today)) is not None}
            subs = [s for s in subs if s.id in plan_today]
            sub = next(
                (
                    s
                    for s in subs
                    if (plan := catalogue.plans.get(plan_today[s.id])) is not None and plan.kind == "mobile"
                ),
                subs[0] if subs else None,
            )
        else:
            sub = next((s for s in subs if s.id == subscription_id), None)
        if sub is None:
            raise NotFound("subscription not found")
        return recommend.for_api(recommend.recommendation(conn, catalogue, sub, today))


@router.get("/customers/{customer_id}/recommendation")
async def recommendation(
    request: Request, customer_id: IdPath, p: Reader, subscription_id: OptionalIdQuery = None
) -> Any:
    """The last three invoiced periods re-rated under every plan on sale; the best plan, if another is better."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return await _call(_recommendation, core.engine, core.catalogue, customer_id, subscription_id, _now(request))
