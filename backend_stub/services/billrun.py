"""The bill run: invoice one period for every account (rules §4–5).

Crash- and concurrency-safe numbering: accounts are invoiced in batches, each batch one
transaction that first locks its series row (``SELECT … FOR UPDATE`` on PostgreSQL; the
SQLite writer lock taken by ``BEGIN IMMEDIATE``), re-checks which accounts already have
their invoice, claims the usage it bills and takes consecutive numbers. A batch commits
whole or not at all, so a killed run leaves no gap and no half invoice; a second run,
at the same time or later, skips what is done (``invoices.regular_key`` is unique).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub import invoicing
from backend_stub.catalogue import Catalogue
from backend_stub.periods import Period, Subscription, period_for
from backend_stub.services import documents, ledger
from backend_stub.storage import models as m
from backend_stub.storage.repo import chunks, load_subscriptions

INVOICE_SERIES = "F"
CREDIT_SERIES = "K"
FIRST_NUMBER = {INVOICE_SERIES: 100001, CREDIT_SERIES: 900001}


@dataclass
class BillRunResult:
    period: str
    invoices: int = 0
    skipped: int = 0
    accounts: int = 0
    numbers: list[str] = field(default_factory=list)
    gross_ore: int = 0

    def as_dict(self) -> dict[str, Any]:
        first = self.numbers[0] if self.numbers else None
        last = self.numbers[-1] if self.numbers else None
        return {"period": self.period, "accounts": self.accounts, "invoices": self.invoices,
                "skipped": self.skipped, "first_number": first, "last_number": last, "gross_ore": self.gross_ore}


def ensure_series(conn: Connection, series: str) -> None:
    """Create a number series if missing (safe when several bill runs start at once)."""
    if conn.execute(select(m.InvoiceSeries.series).where(m.InvoiceSeries.series == series)).first() is not None:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(m.InvoiceSeries).values(series=series, next_number=FIRST_NUMBER.get(series, 1))
                 .on_conflict_do_nothing(index_elements=["series"]))


def take_numbers(conn: Connection, series: str, count: int) -> list[str]:
    """Take ``count`` consecutive numbers of ``series`` inside the caller's transaction."""
    q = select(m.InvoiceSeries.next_number).where(m.InvoiceSeries.series == series)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    start = conn.execute(q).scalar_one()
    if count:
        conn.execute(update(m.InvoiceSeries).where(m.InvoiceSeries.series == series)
                     .values(next_number=start + count))
    return [str(start + i) for i in range(count)]


def lock_series(conn: Connection, series: str) -> None:
    """Serialise issuers of ``series`` (a no-op on SQLite, whose writer lock already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(m.InvoiceSeries.next_number).where(m.InvoiceSeries.series == series).with_for_update())


def _regular_key(customer_id: int, period: Period) -> str:
    return f"{customer_id}:{period.start.isoformat()}"


def run_bill_run(engine: Engine, catalogue: Catalogue, label: str, *, invoice_date: date | None = None,
                 batch_size: int = 250, stop_after_batches: int | None = None) -> BillRunResult:
    """Invoice period ``label`` (YYYY-MM) for all accounts; idempotent.

    ``stop_after_batches`` simulates a crash half-way (tests of the rerun).
    """
    result = BillRunResult(period=label)
    base_period = period_for(label)
    with engine.begin() as conn:
        ensure_series(conn, INVOICE_SERIES)
        ensure_series(conn, CREDIT_SERIES)
    with engine.connect() as conn:
        customers = {r.id: r for r in conn.execute(select(m.Customer))}
        done = set(conn.execute(select(m.Invoice.customer_id).where(
            m.Invoice.kind == "invoice", m.Invoice.period_start >= base_period.start,
            m.Invoice.period_start <= base_period.end)).scalars())
        active = set(conn.execute(
            select(m.Subscription.customer_id).join(m.PlanSegment, m.PlanSegment.subscription_id == m.Subscription.id)
            .where(m.PlanSegment.start_date <= base_period.end + timedelta(days=31),
                   or_(m.PlanSegment.end_date.is_(None), m.PlanSegment.end_date >= base_period.start))
        ).scalars())
        with_usage = set(conn.execute(select(m.UsageEvent.customer_id).where(
            m.UsageEvent.invoice_id.is_(None), m.UsageEvent.period_start <= base_period.start).distinct()).scalars())
    candidates = sorted((active | with_usage) - done)
    result.accounts = len(candidates)
    batches = 0
    for part in chunks(candidates, batch_size):
        with engine.begin() as conn:
            _bill_batch(conn, catalogue, customers, list(part), label, invoice_date, result)
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches:
            break
    return result


def _bill_batch(conn: Connection, catalogue: Catalogue, customers: dict[int, Any], customer_ids: list[int],
                label: str, invoice_date: date | None, result: BillRunResult) -> None:
    lock_series(conn, INVOICE_SERIES)
    periods = {cid: period_for(label, customers[cid].cycle_day) for cid in customer_ids}
    keys = {cid: _regular_key(cid, periods[cid]) for cid in customer_ids}
    taken = set(conn.execute(select(m.Invoice.regular_key).where(m.Invoice.regular_key.in_(list(keys.values()))))
                .scalars())
    todo = [cid for cid in customer_ids if keys[cid] not in taken]
    result.skipped += len(customer_ids) - len(todo)
    if not todo:
        return
    subs_by_customer: dict[int, list[Subscription]] = defaultdict(list)
    for sub in load_subscriptions(conn, customer_ids=todo):
        subs_by_customer[sub.customer_id].append(sub)
    grants: dict[int, list[invoicing.DiscountGrant]] = defaultdict(list)
    for g in conn.execute(select(m.DiscountGrant).where(m.DiscountGrant.customer_id.in_(todo))):
        grants[g.customer_id].append(invoicing.DiscountGrant(g.discount_id, g.start_period, g.subscription_id))

    # Claim the usage each invoice bills, then aggregate exactly what was claimed.
    # One statement for the batch (executemany: pipelined on PostgreSQL), not a round trip per account.
    invoice_ids = {cid: str(uuid.uuid4()) for cid in todo}
    conn.execute(update(m.UsageEvent).where(
        m.UsageEvent.customer_id == bindparam("cid"), m.UsageEvent.invoice_id.is_(None),
        m.UsageEvent.period_start <= bindparam("pstart")).values(invoice_id=bindparam("inv")),
        [{"cid": cid, "pstart": periods[cid].start, "inv": invoice_ids[cid]} for cid in todo])
    aggregates: dict[str, list[invoicing.UsageAggregate]] = defaultdict(list)
    u = m.UsageEvent
    q = (select(u.invoice_id, u.subscription_id, u.period_start, u.rate_key, u.offpeak,
                func.sum(u.charged_units), func.sum(u.charge_exact - u.fee_exact - u.surcharge_exact),
                func.sum(func.coalesce((u.fee_exact > 0).cast(m.Integer), 0)), func.sum(u.fee_exact),
                func.sum(u.surcharge_units), func.sum(u.surcharge_exact))
         .where(u.customer_id.in_(todo), u.invoice_id.in_(list(invoice_ids.values())))
         .group_by(u.invoice_id, u.subscription_id, u.period_start, u.rate_key, u.offpeak))
    for r in conn.execute(q):
        aggregates[r[0]].append(invoicing.UsageAggregate(
            r[1], r[2], r[3], bool(r[4]), int(r[5] or 0), int(r[6] or 0), int(r[7] or 0), int(r[8] or 0),
            int(r[9] or 0), int(r[10] or 0)))

    drafts = []
    for cid in todo:
        period = periods[cid]
        subs = subs_by_customer.get(cid, [])
        draft = invoicing.build_invoice(catalogue, cid, subs, period, aggregates.get(invoice_ids[cid], []),
                                        grants.get(cid, []))
        if not draft.lines:
            continue
        drafts.append((cid, draft))
    numbers = take_numbers(conn, INVOICE_SERIES, len(drafts))
    now = datetime.now(UTC)
    issued_ids = []
    invoice_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for (cid, draft), number in zip(drafts, numbers, strict=False):
        period = draft.period
        inv_date = invoice_date or (period.end + timedelta(days=1))
        issued = invoicing.issue(draft, number, inv_date, catalogue.operator.payment_terms_days)
        doc = documents.invoice_document(catalogue, customers[cid], subs_by_customer.get(cid, []), issued)
        inv_id = invoice_ids[cid]
        invoice_rows.append(_invoice_row(inv_id, issued, doc, series=INVOICE_SERIES,
                                         regular_key=_regular_key(cid, period), now=now))
        line_rows += _line_rows(inv_id, issued)
        event_rows.append(dict(
            invoice_id=inv_id, at=now, actor="system", kind="created",
            text=f"Fakturan skapades: {documents.format_kr(issued.amount_due_ore)} att betala "
                 f"senast {issued.due_date.isoformat()}.",
            data={"amount_due_ore": issued.amount_due_ore}))
        issued_ids.append((inv_id, cid))
        result.invoices += 1
        result.numbers.append(number)
        result.gross_ore += issued.gross_ore
    # The batch's invoices, lines and timeline entries: three executemany statements.
    if invoice_rows:
        conn.execute(insert(m.Invoice), invoice_rows)
    if line_rows:
        conn.execute(insert(m.InvoiceLine), line_rows)
    if event_rows:
        conn.execute(insert(m.InvoiceEvent), event_rows)
    # Accounts that got no invoice (nothing to bill) release their (empty) usage claim.
    billed = {cid for cid, _ in drafts}
    unclaimed = [invoice_ids[cid] for cid in todo if cid not in billed]
    if unclaimed:
        conn.execute(update(m.UsageEvent).where(m.UsageEvent.invoice_id.in_(unclaimed)).values(invoice_id=None))
    # Only an account with an earlier invoice can have a credit balance to use (the ledger
    # looks at two invoices or more); ask for those in one query instead of one per account.
    several = set()
    for part in chunks([cid for _, cid in issued_ids]):
        several.update(conn.execute(
            select(m.Invoice.customer_id).where(m.Invoice.customer_id.in_(part), m.Invoice.kind == "invoice")
            .group_by(m.Invoice.customer_id).having(func.count() > 1)).scalars())
    for inv_id, cid in issued_ids:
        if cid in several:
            ledger.apply_credit_balance(conn, cid, inv_id, now)


def store_invoice(conn: Connection, inv_id: str, issued: invoicing.InvoiceDraft, doc: dict[str, Any], *,
                  series: str, regular_key: str | None, now: datetime, credits_invoice_id: str | None = None) -> None:
    """Insert an issued invoice (or credit note) with its lines."""
    conn.execute(insert(m.Invoice).values(**_invoice_row(inv_id, issued, doc, series=series, regular_key=regular_key,
                                                         now=now, credits_invoice_id=credits_invoice_id)))
    if issued.lines:
        conn.execute(insert(m.InvoiceLine), _line_rows(inv_id, issued))


def _invoice_row(inv_id: str, issued: invoicing.InvoiceDraft, doc: dict[str, Any], *, series: str,
                 regular_key: str | None, now: datetime, credits_invoice_id: str | None = None) -> dict[str, Any]:
    return dict(
        id=inv_id, number=issued.number, series=series, kind=issued.kind, customer_id=issued.customer_id,
        period_start=issued.period.start, period_end=issued.period.end, invoice_date=issued.invoice_date,
        due_date=issued.due_date, ocr=issued.ocr, net_ore=issued.net_ore, vat_ore=issued.vat_ore,
        gross_ore=issued.gross_ore, rounding_ore=issued.rounding_ore, amount_due_ore=issued.amount_due_ore,
        credits_invoice_id=credits_invoice_id, regular_key=regular_key, document=doc, created_at=now)


def _line_rows(inv_id: str, issued: invoicing.InvoiceDraft) -> list[dict[str, Any]]:
    return [
        {"invoice_id": inv_id, "position": i, "description": ln.description[:300],
         "quantity": invoicing._dec_str(ln.quantity), "unit": ln.unit,
         "unit_price": None if ln.unit_price is None else str(ln.unit_price), "vat_rate": str(ln.vat_rate),
         "amount_ore": ln.amount_ore, "kind": ln.kind, "subscription_id": ln.subscription_id,
         "rate_key": ln.rate_key, "period_label": ln.period_label}
        for i, ln in enumerate(issued.lines, start=1)
    ]

