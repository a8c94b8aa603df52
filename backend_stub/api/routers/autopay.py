"""Routes of the autopay area (docs/autopay.md): the payment method, autogiro files, card draws,
and the test provider's hosted page for saving a card.

A subscriber reaches only their own customer's payment method (404 for any other id); the
Autogiro files and the draw run are for the back office (service role). The card page is the
provider's (no bearer token: the session id in its address is the key, as on the checkout page).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field

from backend_stub import clock
from backend_stub.api import errors
from backend_stub.api.auth import ensure_customer_access, require_roles
from backend_stub.api.deps import (
    back_to_merchant,
    core_of,
    deliver_testpay_webhook,
    lifecycle_config,
    payment_provider,
    run,
)
from backend_stub.api.params import DAY_RULE, DayField, IdPath, SessionRef, check_day
from backend_stub.api.uploads import CSV_MAX_BYTES, Upload, file_schema, file_upload
from backend_stub.domain import banking
from backend_stub.formats.autogiro import AutogiroError
from backend_stub.services.access.tokens import Principal, Role
from backend_stub.services.autopay import autogiro_files, draws, mandates
from backend_stub.services.lifecycle import paygw

router = APIRouter(tags=["autopay"])

Reader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
Changer = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, Role.SERVICE))]
Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]


@router.get("/customers/{customer_id}/payment-method")
async def get_payment_method(
    request: Request, customer_id: IdPath, p: Reader, lang: str | None = Query(None, pattern="^(sv|en)$")
) -> dict[str, Any]:
    """How the customer pays: manual, autogiro (mandate and its status) or a saved card."""
    ensure_customer_access(p, customer_id)
    try:
        return await run(mandates.payment_method, core_of(request).engine, customer_id, lang=lang)
    except LookupError:
        raise HTTPException(404, "customer not found") from None


class PaymentMethodChange(BaseModel):
    method: Literal["manual", "autogiro", "card"]
    clearing: str | None = Field(default=None, max_length=12, examples=["8327"])
    account: str | None = Field(default=None, max_length=24, examples=["9384750001"])
    personal_number: str | None = Field(default=None, max_length=16, examples=["197001011233"])
    return_url: str | None = Field(default=None, max_length=2000)


@router.put("/customers/{customer_id}/payment-method")
async def put_payment_method(
    request: Request, customer_id: IdPath, body: PaymentMethodChange, p: Changer
) -> dict[str, Any]:
    """Change how the customer pays. Autogiro: a mandate, pending until the bank answers. Card: the
    answer is ``redirect_url``, the provider's page where the card is saved. Manual: automatic
    payment stops (the mandate is cancelled in the next file, a saved card forgotten)."""
    ensure_customer_access(p, customer_id)
    engine = core_of(request).engine
    try:
        if body.method == "autogiro":
            for name in ("clearing", "account"):
                if not (getattr(body, name) or "").strip():
                    raise banking.AutopayError(name, "required for autogiro")
            return await run(
                mandates.set_autogiro, engine, customer_id, body.clearing, body.account, body.personal_number
            )
        if body.method == "card":
            if not body.return_url:
                raise banking.AutopayError("return_url", "required for a card")
            session_id = await run(
                mandates.start_card_setup, engine, payment_provider(request), customer_id, body.return_url
            )
            return {"redirect_url": f"{request.scope.get('root_path', '')}/paygw/cards/{session_id}"}
        return await run(mandates.set_manual, engine, customer_id)
    except LookupError:
        raise HTTPException(404, "customer not found") from None


class RunRequest(BaseModel):
    on: DayField | None = Field(default=None, alias="date", description="the day to run for (default today)")


@router.post("/autopay/run")
async def run_draws(request: Request, _p: Service, body: RunRequest | None = None) -> dict[str, Any]:
    """Charge saved cards for the day: invoices due, retries planned, fallbacks (idempotent)."""
    on = (body.on if body else None) or clock.today()
    result = await run(
        draws.run_card_draws, core_of(request).engine, payment_provider(request), lifecycle_config(request), on
    )
    return result.as_dict()


@router.post("/autogiro/files", openapi_extra=file_schema(description="an answer file from Bankgirot"))
async def upload_answer_file(
    request: Request, _p: Service, file: Annotated[Upload, Depends(file_upload(CSV_MAX_BYTES))]
) -> JSONResponse:
    """Import an answer file from Bankgirot (mandate advice, payment specification, rejected orders).
    The same file twice changes nothing. A bad file is refused whole, with its errors by line."""
    core = core_of(request)
    try:
        result = await run(
            autogiro_files.import_autogiro,
            core.engine,
            core.catalogue,
            lifecycle_config(request),
            file.data,
            file.filename or "upload",
        )
    except AutogiroError as exc:
        raise HTTPException(422, {"errors": exc.errors}) from None
    return JSONResponse(result.as_dict())


@router.get("/autogiro/files/outgoing")
async def outgoing_files(
    request: Request,
    _p: Service,
    date_: Annotated[date, Query(alias="date", description=DAY_RULE), AfterValidator(check_day)],
) -> dict[str, Any]:
    """The day's files to Bankgirot (mandates, payment orders), written on the first call for the day
    and the same files on later calls (plus any for what came up since)."""
    core = core_of(request)
    try:
        result = await run(
            autogiro_files.export_autogiro, core.engine, core.catalogue, lifecycle_config(request), date_
        )
    except AutogiroError as exc:
        raise HTTPException(422, str(exc)) from None
    return result.as_dict()


# --- the test provider's hosted page for saving a card ----------------------------------------------------

_CARD_PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>TestPay</title>
<style>body{{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}}
main{{max-width:420px;margin:0 auto;padding:24px 16px}}h1{{font-size:1.1rem;margin:0 0 8px}}
.card{{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px #0002}}
button{{display:block;width:100%;padding:14px;margin:10px 0 0;font-size:1rem;border-radius:10px;border:0;cursor:pointer}}
.save{{background:#1a56db;color:#fff}}.decline{{background:#b45309;color:#fff}}.cancel{{background:#e5e7eb;color:#1b1d21}}
small{{color:#555}}</style></head><body><main><p><small>TestPay · spara kort / save a card</small></p>
<div class="card"><h1>Spara kort för automatisk betalning / Save a card for automatic payment</h1>
<div>{name}</div>{body}</div>
<p><small>Kortuppgifterna stannar hos TestPay. / The card details stay with TestPay.</small></p>
</main></body></html>"""


@router.get("/paygw/cards/{session_id}", response_class=HTMLResponse, tags=["payments"])
async def card_page(request: Request, session_id: SessionRef) -> HTMLResponse:
    """The test provider's hosted page where a card is saved."""
    info = await run(payment_provider(request).card_session, session_id)
    if info is None:
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    if info["expired"] or info["status"] != "open":
        body = "<p>Sidan är redan använd eller för gammal. / This page is closed.</p>"
    else:
        body = (
            '<form method="post"><input type="hidden" name="choice" value="visa">'
            '<button class="save" id="save-card">Spara Visa •••• 4242 / Save Visa •••• 4242</button></form>'
            '<form method="post"><input type="hidden" name="choice" value="decline">'
            '<button class="decline" id="save-declining-card">Spara testkort som nekas •••• 0002 / '
            "Save a test card that declines</button></form>"
            '<form method="post"><input type="hidden" name="choice" value="cancel">'
            '<button class="cancel" id="cancel-card">Avbryt / Cancel</button></form>'
        )
    page = _CARD_PAGE.format(name=html.escape(info["customer_name"]), body=body)
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


@router.post("/paygw/cards/{session_id}", tags=["payments"], responses={**errors.refusals(409), **errors.redirect()})
async def card_submit(
    request: Request, session_id: SessionRef, choice: Annotated[str, Form(max_length=16)]
) -> Response:
    """The payer's choice: the provider tells the merchant by its signed webhook, then sends the payer back."""
    provider = payment_provider(request)
    info = await run(provider.card_session, session_id)
    if info is None:
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    try:
        signature, body = await run(provider.complete_card_setup, session_id, choice)
    except paygw.PaymentError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    delivered = await deliver_testpay_webhook(request, signature, body)
    return back_to_merchant(
        info["return_url"], "card", "saved" if delivered and choice in paygw.TEST_CARDS else "failed"
    )
