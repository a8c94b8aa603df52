"""Routes of billing: the catalogue, customers and their pending plan changes, usage and suspense, bill runs,
invoices (JSON, PDF, event documents) and credit notes."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field

from backend_stub import clock
from backend_stub.api import errors
from backend_stub.api.auth import (
    current_principal,
    ensure_customer_access,
    ensure_invoice_access,
    require_roles,
)
from backend_stub.api.deps import core_of, lifecycle_config, run, small_balance_ore
from backend_stub.api.params import (
    AmountOre,
    DayField,
    Filter,
    IdPath,
    IdQuery,
    InvoiceRef,
    InvoiceRefQuery,
    Lang,
    Offset,
    OptionalIdQuery,
    OptionalPeriodQuery,
    PeriodField,
    PeriodQuery,
    PositionField,
)
from backend_stub.api.uploads import (
    CSV_MAX_BYTES,
    TOML_MAX_BYTES,
    Upload,
    file_schema,
    file_upload,
    text_body,
    text_schema,
)
from backend_stub.domain.catalogue import CatalogueError
from backend_stub.domain.periods import FIRST_BILLING_PERIOD, bill_run_period_problem
from backend_stub.formats.cdr_csv import CdrFileError, read_cdr_bytes
from backend_stub.services.access.tokens import AuthSettings, Principal, Role
from backend_stub.services.billing import billrun, credit_notes, customers, invoice_rows, invoices, usage, usage_query
from backend_stub.services.charges import pending
from backend_stub.services.lifecycle import event_documents
from backend_stub.services.lifecycle.links import invoice_link_path

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
Any_ = Annotated[Principal, Depends(current_principal)]
Service = Annotated[Principal, Depends(require_roles(Role.SERVICE))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Agent = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE))]
CustomerReader = Annotated[Principal, Depends(require_roles(Role.SUBSCRIBER, *STAFF))]
# An upload is read after the role check before it in the route's parameters (api.uploads).
CsvFile = Annotated[Upload, Depends(file_upload(CSV_MAX_BYTES))]
CatalogueToml = Annotated[str, Depends(text_body(TOML_MAX_BYTES, "toml"))]


class UsageBatch(BaseModel):
    records: list[dict[str, Any]] = Field(description="usage records with the fields of spec/cdr-csv.md")


def _billable_period(value: str) -> str:
    """At the edge: not before 2000-01, not after next month by the core's clock (the service also
    refuses a period before the operator's first subscription or charge)."""
    problem = bill_run_period_problem(value, clock.today())
    if problem:
        raise ValueError(problem)
    return value


class BillRunRequest(BaseModel):
    period: Annotated[
        PeriodField,
        AfterValidator(_billable_period),
        Field(
            description=f"the month to invoice: from {FIRST_BILLING_PERIOD} (and the operator's "
            "first subscription or charge) to next month"
        ),
    ]
    invoice_date: DayField | None = None
    allow_open_period: bool = False


class CreditNoteRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    amount_ore: AmountOre | None = None
    vat_rate: Decimal | None = Field(default=None, ge=0, lt=1, max_digits=6, decimal_places=4)
    line_positions: list[PositionField] | None = Field(default=None, max_length=1000)


router = APIRouter()


@router.get("/catalogue", tags=["catalogue"])
async def get_catalogue(request: Request, _p: Any_) -> dict[str, Any]:
    """The catalogue in force: plans, add-ons, discounts, destinations and roaming zones."""
    cat = await run(lambda: core_of(request).catalogue)
    return {
        "operator": {
            "name": cat.operator.name,
            "bankgiro": cat.operator.bankgiro,
            "support_email": cat.operator.support_email,
            "support_phone": cat.operator.support_phone,
            "payment_terms_days": cat.operator.payment_terms_days,
        },
        "plans": [
            {
                "id": p.id,
                "name": p.name,
                "kind": p.kind,
                "monthly_fee_ore": p.monthly_fee_ore,
                "vat_rate": str(p.vat_rate),
                "description": p.description,
                "on_sale": p.on_sale,
                "allowances": {
                    k: {"amount": a.amount, "unit": a.unit, "label": a.label} for k, a in p.allowances.items()
                },
            }
            for p in cat.plans.values()
        ],
        "addons": [
            {"id": a.id, "name": a.name, "price_ore": a.price_ore, "plans": sorted(a.plans)}
            for a in cat.addons.values()
        ],
        "discounts": [
            {
                "id": d.id,
                "name": d.name,
                "applies_to": d.applies_to,
                "periods": d.periods,
                "percent": None if d.percent is None else str(d.percent),
                "amount_ore": d.amount_ore,
            }
            for d in cat.discounts.values()
        ],
        "destinations": [{"id": d.id, "name": d.name, "category": d.category} for d in cat.destinations.values()],
        "roaming_zones": [
            {"id": z.id, "name": z.name, "eu": z.eu, "countries": sorted(z.countries)} for z in cat.zones
        ],
        "devices": [
            {
                "id": d.id,
                "name": d.name,
                "cash_price_ore": d.cash_price_ore,
                "months": list(d.months),
                "vat_rate": str(d.vat_rate),
                "description": d.description,
            }
            for d in cat.devices.values()
        ],
    }


@router.put(
    "/catalogue",
    tags=["catalogue"],
    openapi_extra=text_schema("application/toml", "the catalogue (TOML, UTF-8, at most 1 MiB)"),
)
async def put_catalogue(request: Request, _p: Service, toml: CatalogueToml) -> dict[str, Any]:
    """Load a new catalogue (TOML). Errors name every bad field; nothing changes then."""
    try:
        cat = await run(core_of(request).load_catalogue, toml, "api")
    except CatalogueError as exc:
        raise HTTPException(422, {"errors": exc.errors}) from None
    return {"plans": len(cat.plans), "destinations": len(cat.destinations), "warnings": list(cat.warnings)}


@router.post("/customers/import", tags=["customers"], openapi_extra=file_schema(description="customers CSV"))
async def import_customers(request: Request, _p: Service, file: CsvFile) -> JSONResponse:
    """Import customers and subscriptions from CSV (docs/customers-csv.md)."""
    core = core_of(request)
    try:
        data = file.data.decode("utf-8-sig")
        if "\x00" in data:  # no database column holds it (PostgreSQL refuses NUL)
            raise HTTPException(422, f"file: line {data.count(chr(10), 0, data.index(chr(0))) + 1}: a NUL character")
        rows = list(customers.read_customers_csv(io.StringIO(data, newline="")))  # as the CLI reads a file
    except UnicodeDecodeError as exc:
        raise HTTPException(422, f"file: not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    result = await run(customers.import_customers, core.engine, core.catalogue, rows)
    if result.errors and not result.subscriptions:  # nothing imported: the errors by line, as a 422
        raise HTTPException(422, {"errors": result.errors})
    return JSONResponse(result.as_dict())


@router.get("/customers", tags=["customers"])
async def list_customers(
    request: Request,
    _p: Staff,
    q: Annotated[str, Query(max_length=64)] = "",
    limit: int = Query(20, ge=1, le=200),
    offset: Offset = 0,
) -> dict[str, Any]:
    return await run(customers.search_customers, core_of(request).engine, q, limit, offset)


@router.get("/customers/{customer_id}", tags=["customers"])
async def get_customer(request: Request, customer_id: IdPath, p: CustomerReader) -> dict[str, Any]:
    """A customer with subscriptions, plans over time and credit balance."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    today = core.today()
    found = await run(customers.get_customer, core.engine, core.catalogue, customer_id, today)
    if found is None:
        raise HTTPException(404, "customer not found")
    return {**found, "today": today.isoformat()}  # the app's "today" is the core clock's


@router.get("/customers/{customer_id}/pending-changes", tags=["customers"])
async def list_pending_changes(request: Request, customer_id: IdPath, p: CustomerReader) -> dict[str, Any]:
    """Plan changes ordered for a later day (not in force yet), soonest first, each cancellable until it starts."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    today = core.today()
    items = await run(pending.pending_changes, core.engine, core.catalogue, customer_id, today=today)
    return {"items": items, "today": today.isoformat()}


@router.post(
    "/customers/{customer_id}/pending-changes/{change_id}/cancel", tags=["customers"], responses=errors.refusals(409)
)
async def cancel_pending_change(
    request: Request, customer_id: IdPath, change_id: IdPath, p: CustomerReader
) -> dict[str, Any]:
    """Undo a pending plan change: 404 when the customer has no such change, 409 once it has taken effect."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    actor = f"customer:{p.customer_id}" if p.role is Role.SUBSCRIBER else f"{p.role.value}:{p.subject}"
    try:
        return await run(
            pending.cancel_change, core.engine, core.catalogue, customer_id, change_id, actor=actor, now=core.now()
        )
    except pending.NotFound:
        raise HTTPException(404, "pending change not found") from None


@router.post("/usage", tags=["usage"])
async def ingest_usage(request: Request, _p: Service, batch: UsageBatch) -> dict[str, Any]:
    """Ingest a JSON batch of usage records; every record ends rated, duplicate or in suspense."""
    core = core_of(request)
    importer = usage.UsageImporter(core.engine, core.catalogue)
    rows = [(i, r) for i, r in enumerate(batch.records, start=1)]
    result = await run(importer.import_rows, rows, "api")
    return result.as_dict()


@router.post("/usage/csv", tags=["usage"], openapi_extra=file_schema(description="CDR CSV (spec/cdr-csv.md)"))
async def ingest_usage_csv(request: Request, _p: Service, file: CsvFile) -> dict[str, Any]:
    """Ingest a CDR CSV file (spec/cdr-csv.md)."""
    core = core_of(request)
    importer = usage.UsageImporter(core.engine, core.catalogue)
    try:
        result = await run(lambda: importer.import_rows(read_cdr_bytes(file.data), file.filename or "upload.csv"))
    except CdrFileError as exc:
        raise HTTPException(422, str(exc)) from None
    return result.as_dict()


@router.get("/usage", tags=["usage"])
async def list_usage(
    request: Request,
    p: CustomerReader,
    customer_id: IdQuery,
    period: OptionalPeriodQuery = None,
    subscription_id: OptionalIdQuery = None,
    service: Filter = None,
    category: Filter = None,
    rate_key: Filter = None,
    invoice_id: InvoiceRefQuery = None,
    charged_only: bool = False,
    limit: int = Query(50, ge=1, le=1000),
    offset: Offset = 0,
) -> dict[str, Any]:
    """Itemised usage of a customer, newest first, with paging and filters."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return await run(
        usage_query.itemised,
        core.engine,
        core.catalogue,
        customer_id,
        period=period,
        subscription_id=subscription_id,
        service=service,
        category=category,
        rate_key=rate_key,
        invoice_id=invoice_id,
        charged_only=charged_only,
        limit=limit,
        offset=offset,
    )


@router.get("/usage/summary", tags=["usage"])
async def usage_summary(
    request: Request, p: CustomerReader, customer_id: IdQuery, period: PeriodQuery
) -> dict[str, Any]:
    """Per-day and per-category aggregates of a period, with the plan's allowances and their use."""
    ensure_customer_access(p, customer_id)
    core = core_of(request)
    return await run(usage_query.summary, core.engine, core.catalogue, customer_id, period)


@router.get("/suspense", tags=["usage"])
async def list_suspense(
    request: Request,
    _p: Staff,
    status: Annotated[str, Query(max_length=32)] = "pending",
    limit: int = Query(50, ge=1, le=500),
    offset: Offset = 0,
) -> dict[str, Any]:
    return await run(usage.list_suspense, core_of(request).engine, status, limit, offset)


@router.post("/suspense/reprocess", tags=["usage"])
async def reprocess_suspense(request: Request, _p: Service) -> dict[str, Any]:
    core = core_of(request)
    result = await run(usage.UsageImporter(core.engine, core.catalogue).reprocess_suspense)
    return result.as_dict()


@router.post("/bill-runs", tags=["invoices"], responses=errors.refusals(409))
async def bill_run(request: Request, _p: Service, body: BillRunRequest) -> dict[str, Any]:
    """Invoice a period for all accounts (idempotent)."""
    core = core_of(request)
    result = await run(
        billrun.run_bill_run,
        core.engine,
        core.catalogue,
        body.period,  # OpenPeriod: 409
        invoice_date=body.invoice_date,
        today=core.today(),
        allow_open_period=body.allow_open_period,
        small_balance_ore=small_balance_ore(request),
    )
    return result.as_dict()


@router.get("/invoices", tags=["invoices"])
async def list_invoices(
    request: Request,
    p: CustomerReader,
    customer_id: OptionalIdQuery = None,
    period: OptionalPeriodQuery = None,
    status: Filter = None,
    kind: Filter = None,
    limit: int = Query(20, ge=1, le=200),
    offset: Offset = 0,
) -> dict[str, Any]:
    """Invoices newest first with status and balance. Subscribers see only their own."""
    if p.role == Role.SUBSCRIBER:
        if (customer_id is not None and customer_id != p.customer_id) or p.invoice_id is not None:
            raise HTTPException(404, "customer not found")
        customer_id = p.customer_id
    core = core_of(request)
    listing = await run(
        invoices.list_invoices,
        core.engine,
        customer_id=customer_id,
        period=period,
        status=status,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return {**listing, "today": core.today().isoformat()}  # the app's "today" is the core clock's


async def _owned_invoice(request: Request, p: Principal, invoice_id: str, lang: str = "sv") -> dict[str, Any]:
    try:
        doc = await run(
            invoices.get_invoice,
            core_of(request).engine,
            invoice_id,
            lang="en" if lang == "en" else "sv",
            catalogue=core_of(request).catalogue,
        )
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    # A link's session reads the credit notes of its invoice too (the invoice page links to them).
    ensure_invoice_access(p, doc["customer_id"], doc["id"], doc.get("credits_invoice_id"))
    return doc


@router.get("/invoices/{invoice_id}", tags=["invoices"])
async def get_invoice(request: Request, invoice_id: InvoiceRef, p: CustomerReader, lang: Lang = "sv") -> dict[str, Any]:
    """One invoice as JSON: document, status, balance, timeline (texts in ``lang``), payments, credit notes."""
    return await _owned_invoice(request, p, invoice_id, lang)


@router.get("/invoices/{invoice_id}/pdf", tags=["invoices"], response_class=Response)
async def get_invoice_pdf(request: Request, invoice_id: InvoiceRef, p: CustomerReader, lang: Lang = "sv") -> Response:
    """The invoice (or credit note) as PDF."""
    from backend_stub.formats.invoice_pdf import render_invoice_pdf

    doc = await _owned_invoice(request, p, invoice_id, lang)
    # A session opened from a link never makes one (not even for the PDF): it could outlive its revocation.
    doc["link_url"] = await run(
        _public_link,
        core_of(request).engine,
        request.app.state.auth_settings,
        doc["id"],
        lifecycle_config(request).public_url,
        create=p.invoice_id is None,
    )
    pdf = await run(render_invoice_pdf, doc, "en" if lang == "en" else "sv")
    name = ("kreditfaktura" if doc["kind"] == "credit_note" else "faktura") + f"-{doc['number']}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


def _public_link(engine: Any, settings: AuthSettings, invoice_id: str, public_url: str, create: bool = True) -> str:
    """The invoice's own short link, absolute on ``public_url`` (printed on the PDF with a QR code to it); "" for none."""
    path = invoice_link_path(engine, settings, invoice_id, create=create)
    return public_url + path if path else ""


def _invoice_owner(engine: Any, invoice_id: str) -> tuple[str, int]:
    with engine.connect() as conn:
        row = invoice_rows.get_invoice_row(conn, invoice_id)
        return row.id, row.customer_id


@router.get("/invoices/{invoice_id}/documents/{event_id}", tags=["invoices"], response_class=Response)
async def get_event_document(
    request: Request, invoice_id: InvoiceRef, event_id: IdPath, p: CustomerReader, lang: Lang = "sv"
) -> Response:
    """The PDF a timeline event carries (reminder letter, credit note, collection notice).

    The same access as the invoice: a subscriber only their own, a link session only its invoice.
    Rendered when first asked for, then kept.
    """
    core = core_of(request)
    try:
        inv_id, customer_id = await run(_invoice_owner, core.engine, invoice_id)
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
    ensure_invoice_access(p, customer_id, inv_id)
    try:
        doc = await run(
            event_documents.event_document,
            core.engine,
            inv_id,
            event_id,
            "en" if lang == "en" else "sv",
            now=core.now(),
        )
    except invoice_rows.NotFound:
        raise HTTPException(404, "document not found") from None
    return Response(
        doc.pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{doc.filename}"'}
    )


@router.post("/invoices/{invoice_id}/credit-notes", tags=["invoices"], status_code=201)
async def credit_note(request: Request, invoice_id: InvoiceRef, body: CreditNoteRequest, p: Agent) -> dict[str, Any]:
    """Credit an invoice in full, some of its lines, or an amount; the invoice itself never changes."""
    core = core_of(request)
    req = credit_notes.CreditRequest(
        reason=body.reason,
        amount_ore=body.amount_ore,
        vat_rate=body.vat_rate,
        line_positions=body.line_positions,
        actor=f"{p.role}:{p.subject}",
    )
    try:
        return await run(credit_notes.create_credit_note, core.engine, core.catalogue, invoice_id, req)
    except invoice_rows.NotFound:
        raise HTTPException(404, "invoice not found") from None
