"""Routes of the support side: agent sign-in, threads on invoices, the inbox, credits, the audit log.

Subscribers (also with a link-limited session) read and write the thread of their own
invoices only; agents and supervisors reach every thread, and every action of theirs is
audited. Credits above the configured limit need a supervisor.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from backend_stub.api import errors
from backend_stub.api.auth import actor_of, ensure_invoice_access, require_roles, start_session
from backend_stub.api.clients import client_address
from backend_stub.api.deps import core_of, lifecycle_config, run, settings_of
from backend_stub.api.params import AfterIdQuery, AmountOre, Filter, IdPath, InvoiceRef, Offset, PositionField
from backend_stub.services.access import sessions, signin
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.billing import invoice_rows
from backend_stub.services.lifecycle import messaging
from backend_stub.services.lifecycle.links import invoice_link_path
from backend_stub.services.support import agents, audit, threads
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.support import Agent

router = APIRouter()
log = logging.getLogger(__name__)


Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
AgentOnly = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
Writer = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR))]


async def _owned(request: Request, p: Principal, invoice_id: str) -> Any:
    def load():
        with core_of(request).engine.connect() as conn:
            return invoice_rows.get_invoice_row(conn, invoice_id)

    try:
        inv = await run(load)
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    ensure_invoice_access(p, inv.customer_id, inv.id)
    return inv


# --- agent sign-in ------------------------------------------------------------------------


class AgentLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    client: str | None = Field(default=None, max_length=64)


@router.post("/agent-auth/login", tags=["support"], responses=errors.refusals(429))
async def agent_login(request: Request, _p: Service, body: AgentLogin) -> dict[str, Any]:
    """An agent's or supervisor's session token for a right name and password (throttled per username and
    browser address, ``X-Selfcare-Client-IP``, with back-off; audited)."""
    try:
        who = await run(
            agents.authenticate,
            core_of(request).engine,
            body.username,
            body.password,
            client=client_address(request, _p, body.client),
        )
    except signin.RateLimited as exc:
        raise HTTPException(
            429, "too many attempts; try again later", headers={"Retry-After": str(exc.retry_after)}
        ) from None
    if who is None:
        raise HTTPException(401, "wrong username or password")
    token, expires_at = await run(start_session, request, subject=who.username, role=Role(who.role))
    return {
        "access_token": token,
        "token_type": "bearer",
        "role": who.role,
        "name": who.name,
        "username": who.username,
        "expires_at": expires_at.isoformat(),
    }


@router.post("/customers/{customer_id}/sessions/end", tags=["support"], responses=errors.refusals(404))
async def end_customer_sessions(request: Request, customer_id: IdPath, p: AgentOnly) -> dict[str, int]:
    """End every session of a subscriber at once, on every worker: signed-in ones and those opened from
    invoice links (e.g. a lost phone). Audited. Links themselves stay; revoke them separately."""

    def end() -> int:
        with core_of(request).engine.begin() as conn:
            if conn.execute(select(m.Customer.id).where(m.Customer.id == customer_id)).first() is None:
                raise HTTPException(404, "customer not found")
            ended = sessions.end_customer_in(conn, customer_id)
            audit.log(conn, actor_of(p), "sessions_ended", f"customer:{customer_id}", {"sessions": ended})
            return ended

    return {"ended": await run(end)}


# --- threads ------------------------------------------------------------------------------


class NewMessage(BaseModel):
    text: str = Field(min_length=1, max_length=threads.MAX_LENGTH * 2)
    line_position: PositionField | None = None


class CreditFromThread(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    amount_ore: AmountOre | None = None
    line_positions: list[PositionField] | None = Field(default=None, max_length=1000)


@router.get("/invoices/{invoice_id}/thread", tags=["support"])
async def get_thread(request: Request, invoice_id: InvoiceRef, p: Writer, after: AfterIdQuery = None) -> dict[str, Any]:
    """The invoice's messages (only those after message id ``after`` when polling); marks the other side's read."""
    inv = await _owned(request, p, invoice_id)
    reader = "customer" if p.role is Role.SUBSCRIBER else "agent"
    out = await run(threads.get_thread, core_of(request).engine, inv.id, reader, after=after)
    if reader == "agent" and after is None:
        await run(_audit, request, actor_of(p), "view", inv.id)
    return out


def _audit(request: Request, actor: str, action: str, target: str, detail: dict | None = None) -> None:
    with core_of(request).engine.begin() as conn:
        audit.log(conn, actor, action, target, detail)


def _author_name(request: Request, p: Principal) -> str:
    with core_of(request).engine.connect() as conn:
        if p.role is Role.SUBSCRIBER:
            return conn.execute(select(m.Customer.name).where(m.Customer.id == p.customer_id)).scalar_one()

        name = conn.execute(select(Agent.name).where(Agent.username == p.subject)).scalar()
        return (name or p.subject).split()[0]  # agents sign with their first name


@router.post(
    "/invoices/{invoice_id}/thread/messages", tags=["support"], status_code=201, responses=errors.refusals(429)
)
async def post_message(request: Request, invoice_id: InvoiceRef, p: Writer, body: NewMessage) -> dict[str, Any]:
    """Write on the invoice's thread (a subscriber asks, an agent answers)."""
    inv = await _owned(request, p, invoice_id)
    kind = "customer" if p.role is Role.SUBSCRIBER else "agent"
    author = threads.Author(kind, await run(_author_name, request, p), actor_of(p))
    try:
        msg = await run(
            threads.post_message, core_of(request).engine, inv.id, author, body.text, line_position=body.line_position
        )
    except signin.RateLimited as exc:
        raise HTTPException(
            429, "too many messages; try again later", headers={"Retry-After": str(exc.retry_after)}
        ) from None
    if kind == "agent":
        await run(notify_reply, request, inv.id, msg["id"])
    return msg


def notify_reply(request: Request, invoice_id: str, message_id: int) -> None:
    """Tell the subscriber about an agent's answer by their channel, with the invoice's link (once per message)."""
    engine = core_of(request).engine
    with engine.connect() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
        customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
    url = lifecycle_config(request).public_url + invoice_link_path(engine, request.app.state.auth_settings, inv.id)
    en = customer.language == "en"
    text = (
        f"Customer service has answered your question about invoice {inv.number}: {url}"
        if en
        else f"Kundtjänst har svarat på din fråga om faktura {inv.number}: {url}"
    )
    key = f"thread-reply:{message_id}"
    try:
        if customer.channel == "sms" and customer.phone:
            messaging.send_sms(
                engine, messaging.OutboxSmsProvider(), to=customer.phone, text=text, key=key, invoice_id=inv.id
            )
        elif customer.email:
            subject = f"Answer about invoice {inv.number}" if en else f"Svar om faktura {inv.number}"
            messaging.send_email(
                engine,
                messaging.MailSettings.from_settings(settings_of(request)),
                to=customer.email,
                subject=subject,
                text=text,
                key=key,
                invoice_id=inv.id,
            )
    except OSError:  # the reply is saved; the outbox keeps the failed notice for a retry
        log.exception("could not notify customer %s about message %s", customer.customer_number, message_id)


@router.get("/agent/inbox", tags=["support"])
async def inbox(
    request: Request,
    p: AgentOnly,
    status: Filter = None,
    mine: bool = False,
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> dict[str, Any]:
    """Threads, those waiting for an answer first (longest wait first)."""
    return await run(
        threads.inbox,
        core_of(request).engine,
        status=status,
        assigned_to=p.subject if mine else None,
        limit=limit,
        offset=offset,
    )


@router.post("/threads/{thread_id}/assign", tags=["support"])
async def assign(request: Request, thread_id: IdPath, p: AgentOnly, release: bool = False) -> dict[str, Any]:
    """Assign the thread to the calling agent (``release=true``: to nobody)."""
    try:
        return await run(
            threads.assign, core_of(request).engine, thread_id, actor_of(p), None if release else p.subject
        )
    except invoice_rows.NotFound:
        raise HTTPException(404, "thread not found") from None


@router.post("/threads/{thread_id}/resolve", tags=["support"])
async def resolve(request: Request, thread_id: IdPath, p: AgentOnly) -> dict[str, Any]:
    try:
        return await run(threads.resolve, core_of(request).engine, thread_id, actor_of(p))
    except invoice_rows.NotFound:
        raise HTTPException(404, "thread not found") from None


@router.post("/invoices/{invoice_id}/thread/credit/preview", tags=["support"])
async def credit_preview(
    request: Request, invoice_id: InvoiceRef, p: AgentOnly, body: CreditFromThread
) -> dict[str, Any]:
    """What the credit would do, issuing nothing: the credit note's lines, VAT and öresavrundning as the
    core computes them, and the invoice's amount and balance before and after (403 above the agent's limit)."""
    inv = await _owned(request, p, invoice_id)
    try:
        core = core_of(request)
        return await run(
            threads.preview_credit_from_thread,
            core.engine,
            core.catalogue,
            inv.id,
            actor=actor_of(p),
            role=p.role.value,
            reason=body.reason,
            amount_ore=body.amount_ore,
            line_positions=body.line_positions,
        )
    except threads.NeedsSupervisor as exc:
        await run(_audit, request, actor_of(p), "credit_refused", inv.id, {"reason": str(exc), "preview": True})
        raise HTTPException(403, str(exc)) from None


@router.post("/invoices/{invoice_id}/thread/credit", tags=["support"], status_code=201)
async def credit(request: Request, invoice_id: InvoiceRef, p: AgentOnly, body: CreditFromThread) -> dict[str, Any]:
    """Credit an amount or some lines of the invoice from its thread (a credit note; audited)."""
    inv = await _owned(request, p, invoice_id)
    core = core_of(request)
    try:
        return await run(
            threads.credit_from_thread,
            core.engine,
            core.catalogue,
            inv.id,
            actor=actor_of(p),
            role=p.role.value,
            reason=body.reason,
            amount_ore=body.amount_ore,
            line_positions=body.line_positions,
            agent_name=await run(_author_name, request, p),
        )
    except threads.NeedsSupervisor as exc:
        await run(_audit, request, actor_of(p), "credit_refused", inv.id, {"reason": str(exc)})
        raise HTTPException(403, str(exc)) from None


class Waive(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/invoices/{invoice_id}/thread/waive-fee/preview", tags=["support"])
async def waive_fee_preview(request: Request, invoice_id: InvoiceRef, p: AgentOnly) -> dict[str, Any]:
    """The reminder fee a waiver would take away and the balance after (422 when there is none); writes nothing."""
    inv = await _owned(request, p, invoice_id)
    return await run(threads.preview_waive, core_of(request).engine, inv.id)


@router.post("/invoices/{invoice_id}/thread/waive-fee", tags=["support"])
async def waive_fee(request: Request, invoice_id: InvoiceRef, p: AgentOnly, body: Waive) -> dict[str, Any]:
    """Waive the invoice's reminder fees from its thread (audited)."""
    inv = await _owned(request, p, invoice_id)
    return await run(
        threads.waive_reminder_fees,
        core_of(request).engine,
        inv.id,
        actor=actor_of(p),
        reason=body.reason,
        agent_name=await run(_author_name, request, p),
    )


@router.get("/audit", tags=["support"])
async def audit_log(
    request: Request,
    _p: Supervisor,
    actor: Filter = None,
    action: Filter = None,
    target: Filter = None,
    limit: int = Query(100, ge=1, le=500),
    offset: Offset = 0,
) -> dict[str, Any]:
    """The audit log, newest first (supervisors only)."""
    return await run(
        audit.entries, core_of(request).engine, actor=actor, action=action, target=target, limit=limit, offset=offset
    )
