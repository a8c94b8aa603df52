"""Routes the subscriber app needs: sign-in codes, invoice links, QR, explanations, forecast, paying.

See ``docs/api-app.md``. Sign-in and link opening are called by the app's backend with its
service token (they act for nobody yet); everything else with the subscriber's own token,
which may be limited to one invoice when it came from that invoice's link.
"""

from __future__ import annotations

import html
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from backend_stub.api import errors
from backend_stub.api.auth import (
    current_principal,
    end_session,
    ensure_customer_access,
    ensure_invoice_access,
    require_roles,
    session_policy,
    start_session,
)
from backend_stub.api.clients import client_address
from backend_stub.api.deps import (
    back_to_merchant,
    core_of,
    deliver_testpay_webhook,
    payment_provider,
    run,
    settings_of,
    small_balance_ore,
)
from backend_stub.api.params import (
    IdPath,
    InvoiceRef,
    Lang,
    LinkToken,
    Offset,
    OptionalPeriodQuery,
    PositionPath,
    SessionRef,
)
from backend_stub.formats import invoice_qr
from backend_stub.services.access import signin
from backend_stub.services.access.tokens import AuthSettings, Principal, Role, security_now
from backend_stub.services.billing import explain, forecast, invoice_rows, invoices, usage_query
from backend_stub.services.lifecycle import links, messaging, paygw
from backend_stub.settings import Settings
from backend_stub.storage.models import billing as m

router = APIRouter()


Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Staff = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Any_ = Annotated[Principal, Depends(current_principal)]
Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Payer = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.SERVICE))]


def _auth(request: Request) -> AuthSettings:
    return request.app.state.auth_settings


def _production(request: Request) -> bool:
    return settings_of(request).is_production


# --- sign-in ------------------------------------------------------------------------------


class CodeRequest(BaseModel):
    identifier: str = Field(min_length=1, max_length=64, description="customer number or phone number")
    client: str | None = Field(
        default=None,
        max_length=64,
        description="the browser's address, for rate limits (older form of the X-Selfcare-Client-IP header)",
    )


class CodeCheck(BaseModel):
    identifier: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=16)


def _deliver(engine, settings: Settings):
    mail = messaging.MailSettings.from_settings(settings)
    sms = messaging.OutboxSmsProvider()

    def deliver(customer: Any, channel: str, text: str, key: str) -> None:
        if channel == "sms":
            messaging.send_sms(engine, sms, to=customer.phone, text=text, key=key)
        else:
            subject = "Your sign-in code" if customer.language == "en" else "Din inloggningskod"
            messaging.send_email(engine, mail, to=customer.email, subject=subject, text=text, key=key)

    return deliver


def _too_many(exc: signin.RateLimited) -> HTTPException:
    return HTTPException(429, "too many attempts; try again later", headers={"Retry-After": str(exc.retry_after)})


@router.post("/auth/otp/request", tags=["sign-in"], status_code=202, responses=errors.refusals(429))
async def request_code(request: Request, p: Service, body: CodeRequest, after: BackgroundTasks) -> dict[str, str]:
    """Send a one-time code to the account's e-mail or phone. The same answer, after the same work,
    whether or not it exists. Throttled per browser address (``X-Selfcare-Client-IP``) and identifier."""
    core = core_of(request)
    client = client_address(request, p, body.client)
    messages: list[tuple[Any, str, str, str]] = []
    try:
        await run(
            signin.request_code,
            core.engine,
            _auth(request).secret,
            body.identifier,
            lambda *message: messages.append(message),
            client=client,
        )
    except signin.RateLimited as exc:
        raise _too_many(exc) from None
    deliver = _deliver(core.engine, settings_of(request))
    for message in messages:
        # Sent on a worker thread once the answer is out (``signin.Deliveries``): the answer never waits
        # for SMTP or the SMS provider, so it comes as soon whether or not the account exists.
        after.add_task(_hand_over, deliver, message)
    return {"status": "sent"}


async def _hand_over(deliver, message: tuple[Any, str, str, str]) -> None:
    signin.DELIVERIES.submit(deliver, *message)


@router.post("/auth/otp/verify", tags=["sign-in"], responses=errors.refusals(429))
async def verify_code(request: Request, p: Service, body: CodeCheck) -> dict[str, Any]:
    """Exchange a one-time code for the subscriber's session token (throttled like asking)."""
    core, settings = core_of(request), _auth(request)
    try:
        who = await run(
            signin.verify_code,
            core.engine,
            settings.secret,
            body.identifier,
            body.code,
            client=client_address(request, p),
        )
    except signin.RateLimited as exc:
        raise _too_many(exc) from None
    if who is None:
        raise HTTPException(401, "wrong or expired code")
    token, expires_at = await run(
        start_session, request, subject=who.customer_number, role=Role.SUBSCRIBER, customer_id=who.customer_id
    )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_at": expires_at.isoformat(),
        "customer_id": who.customer_id,
        "customer_number": who.customer_number,
        "name": who.name,
        "language": who.language,
    }


@router.post("/auth/logout", tags=["sign-in"], status_code=204)
async def logout(request: Request, p: Any_) -> Response:
    """Revoke the token used for this call and end its session (for every worker)."""
    await run(end_session, request, p)
    return Response(status_code=204)


@router.get("/dev/outbox", tags=["sign-in"], responses=errors.refusals(404))
async def dev_outbox(
    request: Request,
    _p: Service,
    to: Annotated[str | None, Query(max_length=254)] = None,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    limit: int = Query(20, ge=1, le=200),
) -> list[dict[str, Any]]:
    """The newest messages (e-mail and SMS) for development and the demo; not in production."""
    if _production(request):
        raise HTTPException(404, "not found")
    await run(signin.DELIVERIES.flush)  # sign-in codes asked for just now are in it
    engine = core_of(request).engine
    addresses: list[str | None] = [to]
    if customer:
        key = signin.normalise_identifier(customer)
        with engine.connect() as conn:
            row = conn.execute(select(m.Customer).where(m.Customer.customer_number == key)).first()
        if row is None:
            return []
        addresses = [row.email, row.phone]
    out: list[dict[str, Any]] = []
    for address in addresses:
        out += await run(messaging.list_outbox, engine, address, limit)
    out.sort(key=lambda msg: msg["id"], reverse=True)
    return [
        {
            k: v
            for k, v in msg.items()
            if k in ("id", "channel", "to", "subject", "text", "created_at", "status", "invoice_id")
        }
        for msg in out[:limit]
    ]


# --- the invoice's own address ------------------------------------------------------------


class LinkOpen(BaseModel):
    token: str = Field(min_length=10, max_length=2000)


async def _invoice(request: Request, p: Principal, invoice_id: str) -> dict[str, Any]:
    try:
        doc = await run(invoices.get_invoice, core_of(request).engine, invoice_id)
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    ensure_invoice_access(p, doc["customer_id"], doc["id"])
    return doc


@router.post("/invoices/{invoice_id}/link", tags=["links"])
async def make_link(request: Request, invoice_id: InvoiceRef, p: Reader) -> dict[str, Any]:
    """The invoice's own address (the current one, or a new one). Not for a session opened from a
    link (403): a link could otherwise outlive its own revocation."""
    if p.invoice_id is not None:
        raise HTTPException(403, "a session opened from an invoice link cannot make links")
    doc = await _invoice(request, p, invoice_id)
    settings = _auth(request)
    link = await run(links.invoice_link, core_of(request).engine, settings.secret, settings.issuer, doc["id"])
    return {"token": link.token, "path": link.path, "expires_at": link.expires_at.isoformat()}


_LINK_GONE = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "object",
            "required": ["message", "reason", "invoice_id"],
            "properties": {
                "message": {"type": "string"},
                "reason": {"type": "string"},
                "invoice_id": {"type": "string"},
            },
        }
    },
}


@router.post("/links/open", tags=["links"], responses=errors.refusals(404, 410, s410=_LINK_GONE))
async def open_link(request: Request, _p: Service, body: LinkOpen) -> dict[str, Any]:
    """Open an invoice link: a session limited to that invoice. The first open is on the timeline.

    An expired or revoked link answers 410 naming its invoice (for the app's backend only: the
    app asks the subscriber to sign in, then shows that invoice); an unknown one 404.
    """
    settings = _auth(request)
    session_id, issued_at = uuid.uuid4().hex, security_now()
    try:  # the session is recorded with its link before it is handed out: revoking the link ends it
        opened = await run(
            links.open_link,
            core_of(request).engine,
            settings.secret,
            settings.issuer,
            body.token,
            session_id=session_id,
            session_expires_at=issued_at + session_policy(request).absolute,
        )
    except links.LinkGone as gone:
        raise HTTPException(
            410, {"message": f"link {gone.reason}", "reason": gone.reason, "invoice_id": gone.invoice_id}
        ) from None
    except links.LinkRefused:
        raise HTTPException(404, "link not found") from None
    token, expires_at = await run(
        start_session,
        request,
        subject=f"link:{opened.invoice_id}",
        role=Role.SUBSCRIBER,
        customer_id=opened.customer_id,
        invoice_id=opened.invoice_id,
        jti=session_id,
        now=issued_at,
    )
    return {
        "invoice_id": opened.invoice_id,
        "customer_id": opened.customer_id,
        "access_token": token,
        "expires_at": expires_at.isoformat(),
        "first_open": opened.first_open,
    }


@router.delete("/links/{token}", tags=["links"], status_code=204)
async def revoke_link(request: Request, token: LinkToken, _p: Staff) -> Response:
    """Revoke one link; every session opened from it ends at once."""
    if not await run(links.revoke_links, core_of(request).engine, token=token, secret=_auth(request).secret):
        raise HTTPException(404, "link not found")
    return Response(status_code=204)


@router.post("/invoices/{invoice_id}/links/revoke", tags=["links"])
async def revoke_invoice_links(request: Request, invoice_id: InvoiceRef, _p: Staff) -> dict[str, int]:
    """Revoke every link of an invoice (e.g. sent to a wrong address); every session opened from them
    ends at once, on every worker."""
    return {"revoked": await run(links.revoke_links, core_of(request).engine, invoice_id=invoice_id)}


# --- the invoice page ---------------------------------------------------------------------


@router.get("/invoices/{invoice_id}/qr", tags=["invoices"], responses=errors.refusals(409))
async def invoice_qr_code(request: Request, invoice_id: InvoiceRef, p: Reader) -> dict[str, Any]:
    """The bank-app QR code (UsingQR) for what is left to pay."""
    doc = await _invoice(request, p, invoice_id)
    if doc["kind"] != "invoice":
        raise HTTPException(422, "a credit note has no payment code")
    if not doc["state"]["to_pay_ore"]:  # paid, credited, carried: nothing for a bank app to pay
        raise HTTPException(409, "nothing left to pay on this invoice")
    fields = invoice_qr.payload(doc, amount_ore=doc["state"]["to_pay_ore"])
    text = invoice_qr.payload_text(fields)
    return {
        "payload": {k: (str(v) if not isinstance(v, str | int) else v) for k, v in fields.items()},
        "text": text,
        "svg": invoice_qr.qr_svg(text),
    }


@router.get("/invoices/{invoice_id}/explain", tags=["invoices"])
async def explain_invoice(request: Request, invoice_id: InvoiceRef, p: Reader, lang: Lang = "sv") -> dict[str, Any]:
    """How this invoice differs from the previous one, line by line."""
    doc = await _invoice(request, p, invoice_id)
    return await run(explain.explain, core_of(request).engine, doc["id"], lang)


@router.get("/invoices/{invoice_id}/lines/{position}/usage", tags=["invoices"])
async def line_usage(
    request: Request,
    invoice_id: InvoiceRef,
    position: PositionPath,
    p: Reader,
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
) -> dict[str, Any]:
    """The usage records behind one line of the specification (1-based position), each with its share of
    the line; ``records_ore + rounding_ore`` is the line's amount (``usage_query.line_records``)."""
    doc = await _invoice(request, p, invoice_id)
    if not 1 <= position <= len(doc["lines"]):
        raise HTTPException(404, "line not found")
    core = core_of(request)
    return await run(usage_query.line_records, core.engine, core.catalogue, doc, position, limit=limit, offset=offset)


@router.get("/invoices/{invoice_id}/usage", tags=["invoices"])
async def invoice_usage(
    request: Request,
    invoice_id: InvoiceRef,
    p: Reader,
    category: Annotated[str | None, Query(max_length=64)] = None,
    service: Annotated[str | None, Query(max_length=64)] = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
) -> dict[str, Any]:
    """The itemised usage of the invoice's period (what a link-scoped session may see)."""
    doc = await _invoice(request, p, invoice_id)
    core = core_of(request)
    return await run(
        usage_query.itemised,
        core.engine,
        core.catalogue,
        doc["customer_id"],
        period=doc["period"]["label"],
        category=category,
        service=service,
        limit=limit,
        offset=offset,
    )


@router.get("/customers/{customer_id}/forecast", tags=["usage"])
async def usage_forecast(
    request: Request, customer_id: IdPath, p: Reader, lang: Lang = "sv", period: OptionalPeriodQuery = None
) -> dict[str, Any]:
    """The next invoice as it stands (or ``period``'s, YYYY-MM), its forecast total, and allowance warnings."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    try:
        return await run(
            forecast.forecast,
            core.engine,
            core.catalogue,
            customer_id,
            lang=lang,
            period=period,
            today=core.today(),
            small_balance_ore=small_balance_ore(request),
        )
    except NoResultFound:
        raise HTTPException(404, "customer not found") from None


# --- paying through the provider's hosted page --------------------------------------------


class PayRequest(BaseModel):
    return_url: str = Field(min_length=1, max_length=2000)


class PayManyRequest(BaseModel):
    invoice_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None,
        max_length=paygw.MAX_INVOICES,
        description="the invoices to pay (ids or numbers); null or absent: every overdue one",
    )
    return_url: str = Field(min_length=1, max_length=2000)


def _checkout_answer(checkout: paygw.Checkout) -> dict[str, Any]:
    return {
        "payment_id": checkout.payment_id,
        "amount_ore": checkout.amount_ore,
        "checkout_path": checkout.checkout_path,
        "invoices": [{"id": i.id, "number": i.number, "amount_ore": i.amount_ore} for i in checkout.invoices],
    }


@router.post("/invoices/{invoice_id}/pay", tags=["payments"])
async def pay(request: Request, invoice_id: InvoiceRef, p: Payer, body: PayRequest) -> dict[str, Any]:
    """Start paying what is left on the invoice at the payment provider's hosted page (a checkout
    of one invoice; it supersedes every open checkout of that invoice)."""
    doc = await _invoice(request, p, invoice_id)
    checkout = await run(payment_provider(request).create_checkout, doc["id"], body.return_url)
    return _checkout_answer(checkout)


@router.post("/customers/{customer_id}/pay", tags=["payments"])
async def pay_many(request: Request, customer_id: IdPath, p: Payer, body: PayManyRequest) -> dict[str, Any]:
    """Pay several of the customer's invoices in one payment ("Betala alla"): the named ones, or every
    overdue one; applied oldest due date first. Supersedes every open checkout sharing an invoice."""
    ensure_customer_access(p, customer_id)  # a link session reaches its one invoice only: 404 here
    try:
        checkout = await run(
            payment_provider(request).create_customer_checkout, customer_id, body.invoice_ids, body.return_url
        )
    except paygw.UnknownCustomer:
        raise HTTPException(404, "customer not found") from None
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    return _checkout_answer(checkout)


@router.post("/payments/webhook/testpay", tags=["payments"], responses=errors.refusals(400))
async def testpay_webhook(
    request: Request, signature: Annotated[str | None, Header(alias=paygw.SIGNATURE_HEADER)] = None
) -> dict[str, str]:
    """The test provider's signed confirmation (no bearer token: the HMAC signature is the proof)."""
    body = await request.body()
    try:
        result = await run(payment_provider(request).handle_webhook, signature or "", body)
    except paygw.WebhookRejected as exc:
        raise HTTPException(400, f"webhook rejected: {exc}") from None
    return {"result": result}


_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>TestPay</title>
<style>body{{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}}
main{{max-width:420px;margin:0 auto;padding:24px 16px}}h1{{font-size:1.1rem;margin:0 0 4px}}
.card{{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px #0002}}
.amount{{font-size:2rem;font-weight:700;margin:12px 0}}button{{display:block;width:100%;padding:14px;margin:10px 0 0;
font-size:1rem;border-radius:10px;border:0;cursor:pointer}}.card-btn{{background:#1a56db;color:#fff}}
.swish-btn{{background:#0a7d52;color:#fff}}.fail-btn{{background:#e5e7eb;color:#1b1d21}}
ul{{list-style:none;padding:0;margin:8px 0 0}}li{{display:flex;justify-content:space-between;gap:8px;
padding:4px 0;border-top:1px solid #eee}}.closed{{font-weight:600}}
small{{color:#555}}</style></head><body><main><p><small>TestPay · testbetalning / test payment</small></p>
<div class="card"><h1>{merchant}</h1>{what}
<div class="amount" id="amount">{amount}</div>{body}</div>
<p><small>Inga kortuppgifter lämnas till butiken. / No card details are shared with the merchant.</small></p>
</main></body></html>"""

# Why a session cannot be paid, as the hosted page says it (paygw.CLOSED_REASONS).
_CLOSED_TEXT = {
    "paid": "Den här betalningen är redan genomförd. / This payment has already been made.",
    "failed": "Den här betalningen avbröts. Starta en ny betalning från fakturan. / "
    "This payment was cancelled. Start a new payment from the invoice.",
    "superseded": "Den här betalningen har ersatts av en nyare och kan inte användas. Inget har dragits. / "
    "This payment was replaced by a newer one and cannot be used. Nothing was charged.",
    "expired": "Tiden för den här betalningen har gått ut. Starta en ny betalning från fakturan. / "
    "This payment has expired. Start a new payment from the invoice.",
}


def _checkout_html(info: dict[str, Any], body: str) -> str:
    invs = info["invoices"]
    if len(invs) == 1:
        what = f'<div id="invoice">Faktura / Invoice {html.escape(invs[0]["number"])}</div>'
    else:
        rows = "".join(
            f"<li><span>Faktura / Invoice {html.escape(i['number'])} · {html.escape(i['due_date'])}"
            f"</span><span>{html.escape(i['amount'])}</span></li>"
            for i in invs
        )
        what = f'<div>{len(invs)} fakturor / invoices</div><ul id="invoices">{rows}</ul>'
    return _PAGE.format(
        merchant=html.escape(info["merchant"]), what=what, amount=html.escape(info["amount"]), body=body
    )


def _closed_page(info: dict[str, Any], status_code: int) -> HTMLResponse:
    body = (
        f'<p class="closed" id="closed" data-reason="{info["closed"]}">{_CLOSED_TEXT[info["closed"]]}</p>'
        f'<p><a href="{html.escape(info["return_url"], quote=True)}">Tillbaka / Back</a></p>'
    )
    return HTMLResponse(
        _checkout_html(info, body),
        status_code=status_code,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )


@router.get("/paygw/checkout/{session_id}", tags=["payments"], response_class=HTMLResponse)
async def checkout_page(request: Request, session_id: SessionRef) -> HTMLResponse:
    """The test provider's hosted payment page: the invoices it pays, then card, Swish or fail."""
    info = await run(payment_provider(request).session, session_id)
    if info is None:
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    if info["closed"] is not None:
        return _closed_page(info, 200)
    body = (
        '<form method="post"><input type="hidden" name="method" value="card">'
        '<button class="card-btn" id="pay-card">Betala med kort •••• 4242 / Pay by card</button></form>'
        '<form method="post"><input type="hidden" name="method" value="swish">'
        '<button class="swish-btn" id="pay-swish">Betala med Swish / Pay with Swish</button></form>'
        '<form method="post"><input type="hidden" name="method" value="fail">'
        '<button class="fail-btn" id="pay-fail">Avbryt (misslyckas) / Fail</button></form>'
    )
    return HTMLResponse(_checkout_html(info, body), headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


@router.post("/paygw/checkout/{session_id}", tags=["payments"], responses={**errors.refusals(409), **errors.redirect()})
async def checkout_submit(
    request: Request, session_id: SessionRef, method: Annotated[str, Form(max_length=16)]
) -> Response:
    """The payer's choice: the provider confirms by its signed webhook, then sends the payer back.
    A paid, failed, superseded or expired session is refused (409) with a page that says why."""
    provider = payment_provider(request)
    info = await run(provider.session, session_id)
    if info is None:
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    if info["closed"] is not None:
        return _closed_page(info, 409)
    try:
        signature, body = await run(provider.complete, session_id, method)
    except paygw.PaymentError as exc:  # closed in between
        info = await run(provider.session, session_id)
        if info is None or info["closed"] is None:
            return HTMLResponse(f"<h1>{html.escape(str(exc))}</h1>", status_code=409)
        return _closed_page(info, 409)
    delivered = await deliver_testpay_webhook(request, signature, body)
    return back_to_merchant(
        info["return_url"], "payment", "paid" if delivered and method in paygw.METHODS else "failed"
    )
