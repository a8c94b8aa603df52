"""HTTP routes of the invoice lifecycle: what happens next, respite, the unmatched queue, refunds, outbox.

Subscribers reach only their own invoices (``ensure_invoice_access``); the payment queue,
allocation and refunds are for agents; the file import for services.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from backend_stub.api.auth import ensure_customer_access, ensure_invoice_access, require_roles
from backend_stub.api.deps import lifecycle_config, run
from backend_stub.api.params import (
    MAX_AMOUNT_ORE,
    AmountOre,
    Filter,
    IdPath,
    InvoiceRef,
    InvoiceRefQuery,
    Offset,
    OptionalDayQuery,
)
from backend_stub.api.uploads import CSV_MAX_BYTES, Upload, file_schema, file_upload
from backend_stub.formats.bgmax import BgMaxError
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.billing import invoice_rows
from backend_stub.services.lifecycle import dunning, messaging, payments

router = APIRouter(tags=["lifecycle"])

Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Agent = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]


def _engine(request: Request):
    return request.app.state.core.engine


def _actor(p: Principal) -> str:
    return f"{p.role}:{p.subject}"


async def _check_invoice(request: Request, p: Principal, invoice_id: str) -> str:
    def owner() -> tuple[str, int]:
        with _engine(request).connect() as conn:
            row = invoice_rows.get_invoice_row(conn, invoice_id)
            return row.id, row.customer_id

    try:
        inv_id, customer_id = await run(owner)
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    ensure_invoice_access(p, customer_id, inv_id)
    return inv_id


@router.get("/invoices/{invoice_id}/next-steps")
async def next_steps(
    request: Request,
    invoice_id: InvoiceRef,
    p: Reader,
    lang: str = Query("sv", pattern="^(sv|en)$"),
    today: OptionalDayQuery = None,
) -> dict[str, Any]:
    """What happens next to the invoice if it stays unpaid, with dates and fees; and whether a respite is possible."""
    inv_id = await _check_invoice(request, p, invoice_id)
    if today is not None and p.role is Role.SUBSCRIBER:
        today = None  # only staff may look at another day
    return await run(dunning.next_steps, _engine(request), lifecycle_config(request), inv_id, today=today, lang=lang)


class RespiteRequest(BaseModel):
    days: int = Field(ge=1, le=365, description="more days to pay; at most the operator's limit")


@router.post("/invoices/{invoice_id}/respite")
async def respite(
    request: Request,
    invoice_id: InvoiceRef,
    body: RespiteRequest,
    p: Reader,
    lang: str = Query("sv", pattern="^(sv|en)$"),
) -> dict[str, Any]:
    """Ask for more time (once per invoice, not in collection): the reminder and collection steps move."""
    inv_id = await _check_invoice(request, p, invoice_id)
    await run(dunning.request_respite, _engine(request), lifecycle_config(request), inv_id, body.days, actor=_actor(p))
    return await run(dunning.next_steps, _engine(request), lifecycle_config(request), inv_id, lang=lang)


@router.get("/payments/unmatched")
async def unmatched(
    request: Request, _p: Agent, limit: int = Query(100, ge=1, le=500), offset: Offset = 0
) -> dict[str, Any]:
    """Payments no invoice could be found for (and foreign-currency payments), waiting for an agent."""
    return await run(payments.list_unmatched, _engine(request), limit, offset)


class AllocateRequest(BaseModel):
    invoice_id: str = Field(min_length=1, max_length=64, description="invoice id or number")


@router.post("/payments/{payment_id}/allocate")
async def allocate(request: Request, payment_id: IdPath, body: AllocateRequest, p: Agent) -> dict[str, Any]:
    """Put an unmatched payment on an invoice."""
    return await run(payments.allocate_payment, _engine(request), payment_id, body.invoice_id, actor=_actor(p))


class BankAllocateRequest(BaseModel):
    invoice_id: str = Field(min_length=1, max_length=64)
    amount_ore: int = Field(gt=0, le=MAX_AMOUNT_ORE, description="the SEK amount the bank credited, in öre")


@router.post("/bank-payments/{bank_payment_id}/allocate")
async def allocate_bank(
    request: Request, bank_payment_id: IdPath, body: BankAllocateRequest, p: Agent
) -> dict[str, Any]:
    """Book a foreign-currency bank payment on an invoice at its SEK amount."""
    return await run(
        payments.allocate_bank_payment,
        _engine(request),
        bank_payment_id,
        body.invoice_id,
        body.amount_ore,
        actor=_actor(p),
    )


class RefundRequest(BaseModel):
    amount_ore: AmountOre
    reference: str = Field(min_length=1, max_length=40, description="the refund's own id (idempotency)")


@router.post("/customers/{customer_id}/refunds")
async def refund(request: Request, customer_id: IdPath, body: RefundRequest, p: Agent) -> dict[str, Any]:
    """Pay back (part of) a customer's credit balance."""
    ensure_customer_access(p, customer_id)
    return await run(
        payments.refund_credit,
        _engine(request),
        customer_id,
        body.amount_ore,
        actor=_actor(p),
        reference=body.reference,
    )


@router.post("/payments/bgmax", openapi_extra=file_schema(description="a BgMax file from Bankgirot"))
async def import_bgmax(
    request: Request, _p: Service, file: Annotated[Upload, Depends(file_upload(CSV_MAX_BYTES))]
) -> dict[str, Any]:
    """Import a BgMax file (idempotent). A bad file is refused whole, with its errors by line."""
    try:
        result = await run(payments.import_bgmax, _engine(request), file.data, file.filename or "upload")
    except BgMaxError as exc:
        raise HTTPException(422, {"errors": exc.errors}) from None
    return result.as_dict()


@router.get("/outbox")
async def outbox(
    request: Request,
    _p: Agent,
    to: Annotated[str | None, Query(max_length=254)] = None,
    channel: Filter = None,
    invoice_id: InvoiceRefQuery = None,
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """Messages sent or recorded (e-mail, SMS, letters), newest first: what the demo's SMS provider 'sent'."""
    items = await run(messaging.list_outbox, _engine(request), to, limit, channel=channel, invoice_id=invoice_id)
    return {"items": items}
