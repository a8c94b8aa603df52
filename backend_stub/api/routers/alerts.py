"""Routes of usage alerts (issue 17): the app's notices, each subscription's choices, the roaming "continue".

A subscriber reaches only their own customer's alerts and subscriptions: any other id answers
404, the same as an id that does not exist; staff (agents, the back office) may read and set
them for a customer who calls. Every change is a choice the subscriber can see and undo in the
settings page, except "continue data abroad", which holds for the rest of the period.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from backend_stub.api import errors
from backend_stub.api.auth import actor_of, ensure_customer_access, require_roles
from backend_stub.api.deps import core_of, owned_subscription, run
from backend_stub.api.params import IdPath, Lang
from backend_stub.domain import alerts as rules
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.alerts import choices
from backend_stub.services.offers import banners

router = APIRouter(tags=["alerts"])

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, *STAFF))]
Chooser = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]

Threshold = Annotated[int, Field(ge=1, le=100)]


class AlertSettingsIn(BaseModel):
    thresholds: dict[str, list[Threshold]] = Field(max_length=len(rules.POOLS))
    kinds: list[str] = Field(default_factory=list, max_length=len(choices.CHOOSABLE_KINDS))
    channels: list[str] = Field(default_factory=list, max_length=len(choices.CHANNELS))
    cost_limit_ore: int | None = Field(default=None, ge=1, le=choices.MAX_COST_LIMIT_ORE)
    spend_limit_ore: int | None = Field(default=None, ge=1)  # one of the catalogue's levels; None: unchanged


@router.get("/customers/{customer_id}/alerts")
async def list_alerts(request: Request, customer_id: IdPath, p: Reader, lang: Lang = "sv") -> dict[str, Any]:
    """The alerts the app shows (not dismissed), newest first, with their text in ``lang`` and their action: a data
    alert that an active offer targets (rule ``data_alert``) opens that offer (``action`` "offer", ``offer_id``)."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    items = await run(choices.shown, core.engine, customer_id, core.catalogue, lang)
    data_alerts = {
        i["subscription_id"] for i in items if i["kind"] == rules.ALLOWANCE and i["data"].get("pool") == "data"
    }
    if data_alerts:
        offers = await run(banners.alert_offers, core.engine, core.catalogue, customer_id, data_alerts, lang=lang)
        items = [_with_offer(i, offers.get(i["subscription_id"]), lang) for i in items]
    return {"items": items}


def _with_offer(item: dict[str, Any], offer: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    """A data alert whose subscription an offer targets (rule ``data_alert``): its tap opens that offer's order
    sheet (``action`` "offer", ``offer_id``; the label is the offer's call to action)."""
    if offer is None or item["kind"] != rules.ALLOWANCE or item["data"].get("pool") != "data":
        return item
    label = offer["cta"] or ("See the offer" if lang == "en" else "Se erbjudandet")
    return item | {"action": "offer", "offer_id": offer["offer_id"], "action_label": label, "action_path": "/"}


@router.post("/customers/{customer_id}/alerts/{alert_id}/dismiss", status_code=204, response_class=Response)
async def dismiss_alert(request: Request, customer_id: IdPath, alert_id: IdPath, p: Reader) -> Response:
    """Close an alert in the app."""
    ensure_customer_access(p, customer_id)
    await run(choices.dismiss, core_of(request).engine, customer_id, alert_id)
    return Response(status_code=204)


@router.get("/subscriptions/{subscription_id}/alert-settings")
async def get_alert_settings(request: Request, subscription_id: IdPath, p: Reader) -> dict[str, Any]:
    """The subscription's alert choices (the defaults when none were made)."""
    await owned_subscription(request, p, subscription_id)
    core = core_of(request)
    return await run(choices.get_settings, core.engine, subscription_id, core.catalogue)


@router.put("/subscriptions/{subscription_id}/alert-settings")
async def put_alert_settings(
    request: Request, subscription_id: IdPath, body: AlertSettingsIn, p: Chooser
) -> dict[str, Any]:
    """Choose the thresholds (among the catalogue's per cents), the roaming notices, the channels, the monthly cost
    warning and the spending limit for data outside the EU/EEA (one of the catalogue's levels, from now on)."""
    await owned_subscription(request, p, subscription_id)
    core = core_of(request)
    await run(
        choices.put_settings,
        core.engine,
        subscription_id,
        thresholds=body.thresholds,
        kinds=body.kinds,
        channels=body.channels,
        cost_limit_ore=body.cost_limit_ore,
        catalogue=core.catalogue,
        spend_limit_ore=body.spend_limit_ore,
    )
    return await run(choices.get_settings, core.engine, subscription_id, core.catalogue)


@router.post("/subscriptions/{subscription_id}/roaming/continue", status_code=201, responses=errors.refusals(409))
async def continue_roaming(request: Request, subscription_id: IdPath, p: Chooser) -> dict[str, Any]:
    """Go on using data outside the EU/EEA past the spending limit for the rest of this period."""
    await owned_subscription(request, p, subscription_id)
    return await run(choices.continue_roaming, core_of(request).engine, subscription_id, actor=actor_of(p))
