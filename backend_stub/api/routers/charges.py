"""Routes of the charges area: phones on instalment, one-off charges and credits, add-ons (docs/charges.md).

A subscriber reaches only their own customer's instalments, charges and subscriptions: any
other id answers 404, the same as an id that does not exist. One-off charges are staff
work (403 for a subscriber); add-ons are bought by the subscriber (or the back office).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from backend_stub.api import errors
from backend_stub.api.auth import actor_of, ensure_customer_access, require_roles
from backend_stub.api.deps import core_of, owned_subscription, run
from backend_stub.api.params import IdField, IdPath, Lang, PeriodField
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.charges import addons, instalments, one_offs

router = APIRouter(tags=["charges"])

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, *STAFF))]
Buyer = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.SERVICE))]


# --- instalments ----------------------------------------------------------------------------


class InstalmentRequest(BaseModel):
    subscription_id: IdField
    device_id: str = Field(min_length=1, max_length=64)
    months: int = Field(ge=1, le=60)
    start_period: PeriodField


@router.get("/customers/{customer_id}/instalments")
async def list_instalments(request: Request, customer_id: IdPath, p: Reader) -> dict[str, Any]:
    """The customer's devices on instalment: monthly amount, paid so far, left, months left."""
    ensure_customer_access(p, customer_id)
    return await run(instalments.list_instalments, core_of(request).engine, customer_id)


@router.post("/customers/{customer_id}/instalments", status_code=201, responses=errors.refusals(409))
async def create_instalment(request: Request, customer_id: IdPath, body: InstalmentRequest, p: Staff) -> dict[str, Any]:
    """Put a device of the catalogue on instalment for one of the customer's subscriptions (audited)."""
    core = core_of(request)
    return await run(
        instalments.create_instalment,
        core.engine,
        core.catalogue,
        customer_id,
        subscription_id=body.subscription_id,
        device_id=body.device_id,
        months=body.months,
        start_period=body.start_period,
        actor=actor_of(p),
    )


@router.post("/instalments/{instalment_id}/payoff", responses=errors.refusals(409))
async def payoff_instalment(request: Request, instalment_id: IdPath, p: Reader) -> dict[str, Any]:
    """Pay off the rest at once: the next invoice carries one final line for the whole remainder."""
    core = core_of(request)
    customer_id = await run(instalments.instalment_customer, core.engine, instalment_id)
    if customer_id is None:
        raise HTTPException(404, "instalment not found")
    try:
        ensure_customer_access(p, customer_id)
    except HTTPException as exc:
        raise HTTPException(404, "instalment not found") if exc.status_code == 404 else exc from None
    return await run(instalments.payoff, core.engine, instalment_id, actor=actor_of(p), catalogue=core.catalogue)


# --- one-off charges and credits ------------------------------------------------------------


class ChargeRequest(BaseModel):
    subscription_id: IdField | None = None
    description: str = Field(min_length=1, max_length=200, examples=["Byte av SIM-kort"])
    amount_ore: int = Field(
        ge=-one_offs.MAX_AMOUNT_ORE,
        le=one_offs.MAX_AMOUNT_ORE,
        examples=[9900],
        description="öre incl. VAT; negative for a credit",
    )
    vat_rate: str | None = Field(
        default=None, max_length=16, examples=["0.25"], description="default: the operator's rate"
    )
    reason: str = Field(min_length=1, max_length=500)


@router.post("/customers/{customer_id}/charges", status_code=201, responses=errors.refusals(409))
async def add_charge(request: Request, customer_id: IdPath, body: ChargeRequest, p: Staff) -> dict[str, Any]:
    """A one-off charge or credit for the customer's next invoice, with its reason (audited)."""
    core = core_of(request)
    rate = body.vat_rate if body.vat_rate is not None else str(core.catalogue.operator.vat_rate)
    return await run(
        one_offs.add_charge,
        core.engine,
        customer_id,
        subscription_id=body.subscription_id,
        description=body.description,
        amount_ore=body.amount_ore,
        vat_rate=rate,
        reason=body.reason,
        actor=actor_of(p),
    )


@router.get("/customers/{customer_id}/charges")
async def list_charges(request: Request, customer_id: IdPath, p: Reader) -> dict[str, Any]:
    """The customer's one-off charges and credits: pending ones and the invoice that carried the others."""
    ensure_customer_access(p, customer_id)
    return await run(one_offs.list_charges, core_of(request).engine, customer_id)


@router.delete("/charges/{charge_id}", status_code=204, response_class=Response, responses=errors.refusals(409))
async def delete_charge(request: Request, charge_id: IdPath, p: Staff) -> Response:
    """Delete a charge that is still pending (409 once it is on an invoice)."""
    await run(one_offs.delete_charge, core_of(request).engine, charge_id, actor=actor_of(p))
    return Response(status_code=204)


# --- add-ons --------------------------------------------------------------------------------


class AddonPurchaseRequest(BaseModel):
    addon_id: str = Field(min_length=1, max_length=64, examples=["extra-5gb"])


@router.get("/subscriptions/{subscription_id}/addons")
async def subscription_addons(
    request: Request, subscription_id: IdPath, p: Reader, lang: Lang = "sv"
) -> dict[str, Any]:
    """This period's allowances (included, bought, used, left), the add-ons the plan takes, those bought."""
    await owned_subscription(request, p, subscription_id)
    core = core_of(request)
    return await run(
        addons.subscription_addons, core.engine, core.catalogue, subscription_id, lang="en" if lang == "en" else "sv"
    )


@router.post("/subscriptions/{subscription_id}/addons", status_code=201, responses=errors.refusals(409))
async def buy_addon(request: Request, subscription_id: IdPath, body: AddonPurchaseRequest, p: Buyer) -> dict[str, Any]:
    """Buy an add-on: the allowance grows at once, the price lands on the next invoice (422 if the plan does not take it)."""
    await owned_subscription(request, p, subscription_id)
    core = core_of(request)
    source = "shop" if p.role is Role.SUBSCRIBER else f"service:{p.subject}"[:64]
    return await run(addons.buy_addon, core.engine, core.catalogue, subscription_id, body.addon_id, source=source)
