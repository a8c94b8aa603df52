"""One batch of the bill run: one transaction that invoices a few hundred accounts (rules §4–5).

The batch locks its series row first, so numbers are consecutive and taken by one batch at a
time; skips accounts whose invoice of the period exists (``invoices.regular_key`` is unique, so
a rerun or a second run at the same time bills nothing twice); claims the usage, charges, add-ons
and instalment months it bills; and stores the invoices, their lines and their timeline entries
in bulk. It commits whole or not at all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ARRAY, Connection, Date, String, Table, bindparam, func, select, update

from backend_stub import clock
from backend_stub.domain import invoicing, texts
from backend_stub.domain.catalogue import Catalogue, Discount
from backend_stub.domain.periods import Period, Subscription, period_for
from backend_stub.services.billing import billrun_extras, documents, usage_totals
from backend_stub.services.billing.billrun_extras import ALL_PENDING, Extras, Pending
from backend_stub.services.billing.invoice_rows import invoice_values, line_values
from backend_stub.services.billing.numbering import INVOICE_SERIES, lock_series, take_numbers
from backend_stub.services.billing.small_balances import SmallBalances, close_small_balance
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.base import Base
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import RoamingContinue
from backend_stub.storage.repo import chunks, insert_rows, load_subscriptions
from selfcare_common.money_format import format_kr


@dataclass
class BillRunResult:
    period: str
    invoices: int = 0
    skipped: int = 0
    accounts: int = 0
    numbers: list[str] = field(default_factory=list)
    gross_ore: int = 0
    carried: int = 0  # small balances carried to an invoice of this run (rules §5)
    written_off: int = 0  # small balances written off: no next invoice
    billed: set[int] = field(default_factory=set)  # accounts invoiced by this run

    def as_dict(self) -> dict[str, Any]:
        first = self.numbers[0] if self.numbers else None
        last = self.numbers[-1] if self.numbers else None
        return {
            "period": self.period,
            "accounts": self.accounts,
            "invoices": self.invoices,
            "skipped": self.skipped,
            "first_number": first,
            "last_number": last,
            "gross_ore": self.gross_ore,
            "carried": self.carried,
            "written_off": self.written_off,
        }


def _table(model: type[Base]) -> Table:
    """A mapped class's table: SQLAlchemy types ``__table__`` as any FromClause; ours are all Tables."""
    return cast(Table, model.__table__)


def grant_of_row(row: Any) -> invoicing.DiscountGrant:
    """The domain grant of a ``discount_grants`` row: catalogue terms, or its own."""
    terms = None
    if row.applies_to is not None:
        terms = Discount(
            id=row.discount_id,
            name=row.name or row.discount_id,
            percent=None if row.percent is None else Decimal(row.percent),
            amount_ore=row.amount_ore,
            applies_to=row.applies_to,
            periods=row.periods or 1,
        )
    return invoicing.DiscountGrant(row.discount_id, row.start_period, row.subscription_id, terms, row.plan_id)


def regular_key(customer_id: int, period: Period) -> str:
    """The key of an account's regular invoice of a period: unique, so each is made once."""
    return f"{customer_id}:{period.start.isoformat()}"


@dataclass
class _Claimed:
    """The accounts a batch bills, with what it loaded and claimed for them."""

    todo: list[int]
    periods: dict[int, Period]
    invoice_ids: dict[int, str]  # chosen before the claim: the usage is claimed onto them
    subs: dict[int, list[Subscription]]
    grants: dict[int, list[invoicing.DiscountGrant]]
    aggregates: dict[str, list[invoicing.UsageAggregate]]  # per invoice: the lines' usage sums
    usage_of: dict[str, list[tuple[Any, ...]]]  # per invoice: the usage summary frozen in its document
    extras: dict[int, Extras]


@dataclass
class _Issued:
    """The rows of a batch's invoices, inserted together after the loop that issues them."""

    invoices: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    ids: list[tuple[str, int]] = field(default_factory=list)  # (invoice id, account)
    claims: list[tuple[Extras, str]] = field(default_factory=list)
    carried: list[tuple[str, str, int, str, datetime]] = field(default_factory=list)


def bill_batch(
    conn: Connection,
    catalogue: Catalogue,
    customers: dict[int, Any],
    customer_ids: list[int],
    label: str,
    invoice_date: date | None,
    result: BillRunResult,
    pending: Pending | None = None,
    small: SmallBalances | None = None,
) -> None:
    """Invoice ``customer_ids`` for period ``label`` in the transaction of ``conn``; counts go to ``result``."""
    small = small or {}
    lock_series(conn, INVOICE_SERIES)
    periods = {cid: period_for(label, customers[cid].cycle_day) for cid in customer_ids}
    todo = _not_yet_invoiced(conn, customer_ids, periods)
    result.skipped += len(customer_ids) - len(todo)
    if not todo:
        return
    claimed = _load_and_claim(conn, catalogue, todo, periods, label, pending or ALL_PENDING)
    drafts = _drafts(catalogue, claimed, small)
    numbers = take_numbers(conn, INVOICE_SERIES, len(drafts))
    now = clock.now()
    issued = _issue(catalogue, customers, claimed, drafts, numbers, invoice_date, small, now, result)
    _store(conn, issued, result)
    # Accounts that got no invoice (nothing to bill) release their (empty) usage claim.
    billed = {cid for cid, _ in drafts}
    unclaimed = [claimed.invoice_ids[cid] for cid in todo if cid not in billed]
    if unclaimed:
        conn.execute(update(m.UsageEvent).where(m.UsageEvent.invoice_id.in_(unclaimed)).values(invoice_id=None))
    _apply_credit_balances(conn, issued.ids, now)


def _not_yet_invoiced(conn: Connection, customer_ids: list[int], periods: dict[int, Period]) -> list[int]:
    """The run-once guard: the accounts without their regular invoice of the period yet."""
    keys = {cid: regular_key(cid, periods[cid]) for cid in customer_ids}
    taken = set(
        conn.execute(select(m.Invoice.regular_key).where(m.Invoice.regular_key.in_(list(keys.values())))).scalars()
    )
    return [cid for cid in customer_ids if keys[cid] not in taken]


def _load_and_claim(
    conn: Connection, catalogue: Catalogue, todo: list[int], periods: dict[int, Period], label: str, pending: Pending
) -> _Claimed:
    """The accounts' subscriptions and discounts; their usage claimed and summed; their extras, locked."""
    subs_by_customer: dict[int, list[Subscription]] = defaultdict(list)
    for sub in load_subscriptions(conn, customer_ids=todo):
        subs_by_customer[sub.customer_id].append(sub)
    grants: dict[int, list[invoicing.DiscountGrant]] = defaultdict(list)
    for g in conn.execute(select(m.DiscountGrant).where(m.DiscountGrant.customer_id.in_(todo))):
        grants[g.customer_id].append(grant_of_row(g))

    # Claim the usage each invoice bills, then aggregate exactly what was claimed: one pass over the
    # claimed events gives both the lines' sums and the usage summary's (per service: events, seconds,
    # bytes), so the summary costs no second scan.
    invoice_ids = {cid: str(uuid.uuid4()) for cid in todo}
    aggregates: dict[str, list[invoicing.UsageAggregate]] = defaultdict(list)
    usage_of: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in _claim_usage(conn, todo, periods, invoice_ids):
        inv_id = invoice_ids[r[0]]
        aggregates[inv_id].append(
            invoicing.UsageAggregate(
                r[1],
                r[2],
                r[3],
                bool(r[4]),
                int(r[5] or 0),
                int(r[6] or 0),
                int(r[7] or 0),
                int(r[8] or 0),
                int(r[9] or 0),
                int(r[10] or 0),
            )
        )
        usage_of[inv_id].append((inv_id, r[2], int(r[1]), r[11], int(r[12] or 0), int(r[13] or 0), int(r[14] or 0)))
    extras = billrun_extras.load_extras(conn, todo, periods, label, pending, catalogue)
    return _Claimed(todo, periods, invoice_ids, subs_by_customer, grants, aggregates, usage_of, extras)


def _drafts(catalogue: Catalogue, claimed: _Claimed, small: SmallBalances) -> list[tuple[int, invoicing.InvoiceDraft]]:
    """Each account's draft, in account order; an account with nothing to bill has none."""
    drafts = []
    for cid in claimed.todo:
        draft = invoice_draft(
            catalogue,
            cid,
            claimed.subs.get(cid, []),
            claimed.periods[cid],
            claimed.aggregates.get(claimed.invoice_ids[cid], []),
            claimed.grants.get(cid, []),
            claimed.extras.get(cid),
            small.get(cid, []),
        )
        if draft is not None:
            drafts.append((cid, draft))
    return drafts


def _issue(
    catalogue: Catalogue,
    customers: dict[int, Any],
    claimed: _Claimed,
    drafts: list[tuple[int, invoicing.InvoiceDraft]],
    numbers: list[str],
    invoice_date: date | None,
    small: SmallBalances,
    now: datetime,
    result: BillRunResult,
) -> _Issued:
    """Number and date each draft, and make the rows of its invoice, lines and ``created`` entry."""
    out = _Issued()
    moments: dict[date, datetime] = {}  # the business time of each invoice day, once per batch
    for (cid, draft), number in zip(drafts, numbers, strict=False):
        period = draft.period
        inv_date = invoice_date or (period.end + timedelta(days=1))
        created_at = moments.get(inv_date) or moments.setdefault(inv_date, clock.moment_on(inv_date))
        issued = invoicing.issue(draft, number, inv_date, catalogue.operator.payment_terms_days)
        assert issued.due_date is not None  # issue() dates it
        subs = claimed.subs.get(cid, [])
        doc = documents.invoice_document(catalogue, customers[cid], subs, issued)
        inv_id = claimed.invoice_ids[cid]
        doc["usage_totals"] = usage_totals.usage_totals(catalogue, subs, period, claimed.usage_of.get(inv_id, []))
        out.invoices.append(
            invoice_values(inv_id, issued, doc, series=INVOICE_SERIES, regular_key=regular_key(cid, period), now=now)
        )
        out.lines += line_values(inv_id, issued, doc["lines"])
        out.events.append(
            dict(
                invoice_id=inv_id,
                at=created_at,
                actor="system",
                kind="created",
                text=f"Fakturan skapades: {format_kr(issued.amount_due_ore)} att betala "
                f"senast {texts.day(issued.due_date)}.",
                data={"amount_due_ore": issued.amount_due_ore},
            )
        )
        out.ids.append((inv_id, cid))
        result.billed.add(cid)
        for old_id, old_number, amount in small.get(cid, []):  # carried onto this invoice
            out.carried.append((old_id, old_number, amount, number, created_at))
        if cid in claimed.extras:
            out.claims.append((claimed.extras[cid], inv_id))
        result.invoices += 1
        result.numbers.append(number)
        result.gross_ore += issued.gross_ore
    return out


def _store(conn: Connection, issued: _Issued, result: BillRunResult) -> None:
    """The batch's invoices, lines and timeline entries: three bulk inserts (COPY on PostgreSQL); the
    extras billed, claimed with their invoice; small balances carried, on the new invoice's day."""
    insert_rows(conn, _table(m.Invoice), issued.invoices)
    insert_rows(conn, _table(m.InvoiceLine), issued.lines)
    events = issued.events + _roaming_continue_events(conn, issued.invoices)
    for extra, inv_id in issued.claims:
        events += billrun_extras.claim_extras(conn, extra, inv_id)
    insert_rows(conn, _table(m.InvoiceEvent), events)
    for old_id, old_number, amount, new_number, carried_at in issued.carried:
        close_small_balance(conn, old_id, old_number, amount, "carried", new_number, carried_at)
        result.carried += 1


def _roaming_continue_events(conn: Connection, invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A timeline entry on each new invoice for a "continue data abroad" chosen in its period (docs/alerts.md):
    why data outside the EU/EEA is charged past the spending limit. One probe when nobody chose it."""
    if not invoices or not conn.execute(select(select(RoamingContinue.id).limit(1).exists())).scalar():
        return []
    by_key = {(row["customer_id"], row["period_start"]): row["id"] for row in invoices}
    r, s = RoamingContinue, m.Subscription
    out: list[dict[str, Any]] = []
    for part in chunks(sorted({cid for cid, _start in by_key})):
        q = (
            select(s.customer_id, s.msisdn, r.period_start, r.chosen_at)
            .join(s, s.id == r.subscription_id)
            .where(s.customer_id.in_(part))
        )
        for cid, msisdn, pstart, chosen_at in conn.execute(q):
            inv_id = by_key.get((cid, pstart))
            if inv_id is None:
                continue
            at = datetime.fromtimestamp(int(chosen_at), UTC)
            data = {"msisdn": msisdn or "", "chosen_at": at.isoformat()}
            text = texts.render("roaming_continued", data, "sv", "")
            out.append(dict(invoice_id=inv_id, at=at, actor="customer", kind="roaming_continued", text=text, data=data))
    return out


def _apply_credit_balances(conn: Connection, issued_ids: list[tuple[str, int]], now: datetime) -> None:
    """A credit balance of an account goes onto its new invoice.

    Only an account with an earlier invoice can have a credit balance to use (the ledger
    looks at two invoices or more); ask for those in one query instead of one per account.
    """
    several: set[int] = set()
    for part in chunks([cid for _, cid in issued_ids]):
        several.update(
            conn.execute(
                select(m.Invoice.customer_id)
                .where(m.Invoice.customer_id.in_(part), m.Invoice.kind == "invoice")
                .group_by(m.Invoice.customer_id)
                .having(func.count() > 1)
            ).scalars()
        )
    for inv_id, cid in issued_ids:
        if cid in several:
            ledger.apply_credit_balance(conn, cid, inv_id, now)


def invoice_draft(
    catalogue: Catalogue,
    customer_id: int,
    subs: list[Subscription],
    period: Period,
    aggregates: list[invoicing.UsageAggregate],
    grants: list[invoicing.DiscountGrant],
    extra: Extras | None,
    small: list[tuple[str, str, int]],
) -> invoicing.InvoiceDraft | None:
    """One account's invoice of ``period`` from what the bill run loaded (pure); None when it bills nothing.

    The bill run issues it; the forecast (``services.billing.forecast``) shows it before the bill run.
    """
    if extra is None:
        draft = invoicing.build_invoice(catalogue, customer_id, subs, period, aggregates, grants)
    else:
        draft = invoicing.build_invoice(
            catalogue,
            customer_id,
            subs,
            period,
            aggregates,
            grants,
            [c for _, c in extra.charges],
            addons=[a for _, a in extra.addons],
            instalments=extra.instalments,
        )
        if extra.instalments:
            summary = billrun_extras.instalment_summary(extra.instalments)
            draft = replace(draft, meta={**draft.meta, "instalments": summary})
    if not draft.lines:
        return None
    carried = [invoicing.CarriedBalance(number, amount) for _id, number, amount in small]
    return invoicing.with_carried(draft, carried, ore_rounding=catalogue.operator.ore_rounding)


def unbilled_usage(conn: Connection, customer_id: int, period: Period) -> list[invoicing.UsageAggregate]:
    """The usage the account's invoice of ``period`` would bill, aggregated as ``bill_batch`` does, read-only.

    Not yet invoiced events of the period and of earlier ones (late events); nothing is claimed.
    """
    u = m.UsageEvent
    q = (
        select(
            u.subscription_id,
            u.period_start,
            u.rate_key,
            u.offpeak,
            func.sum(u.charged_units),
            func.sum(u.charge_exact - u.fee_exact - u.surcharge_exact),
            func.sum(func.coalesce((u.fee_exact > 0).cast(m.Integer), 0)),
            func.sum(u.fee_exact),
            func.sum(u.surcharge_units),
            func.sum(u.surcharge_exact),
        )
        .where(u.customer_id == customer_id, u.invoice_id.is_(None), u.period_start <= period.start)
        .group_by(u.subscription_id, u.period_start, u.rate_key, u.offpeak, u.service)
    )
    return [
        invoicing.UsageAggregate(
            r[0],
            r[1],
            r[2],
            bool(r[3]),
            int(r[4] or 0),
            int(r[5] or 0),
            int(r[6] or 0),
            int(r[7] or 0),
            int(r[8] or 0),
            int(r[9] or 0),
        )
        for r in conn.execute(q)
    ]


def discount_grants(conn: Connection, customer_id: int) -> list[invoicing.DiscountGrant]:
    """The account's discount grants as the bill run reads them."""
    return [
        grant_of_row(g) for g in conn.execute(select(m.DiscountGrant).where(m.DiscountGrant.customer_id == customer_id))
    ]


def _usage_sums(c: Any) -> tuple[Any, ...]:
    """The claimed usage summed per account, subscription, period, rate, band and service (columns ``c``):
    what the lines bill (units, usage, connection fees, fair-use surcharge) and what the summary shows."""
    return (
        c.customer_id,
        c.subscription_id,
        c.period_start,
        c.rate_key,
        c.offpeak,
        func.sum(c.charged_units),
        func.sum(c.charge_exact - c.fee_exact - c.surcharge_exact),
        func.sum(func.coalesce((c.fee_exact > 0).cast(m.Integer), 0)),
        func.sum(c.fee_exact),
        func.sum(c.surcharge_units),
        func.sum(c.surcharge_exact),
        c.service,
        func.count(),
        func.sum(c.duration_s),
        func.sum(c.volume_bytes),
    )


def _usage_groups(c: Any) -> tuple[Any, ...]:
    return c.customer_id, c.subscription_id, c.period_start, c.rate_key, c.offpeak, c.service


def _claim_usage(conn: Connection, todo: list[int], periods: dict[int, Period], invoice_ids: dict[int, str]) -> Any:
    """Set each account's unbilled usage up to its period (late events included) on its invoice, and
    return the sums of what was claimed (``_usage_sums``, ordered by account, subscription, …).

    PostgreSQL: one statement, the UPDATE's RETURNING summed in the database (no second pass over the
    usage). SQLite: the claim is one ``executemany``, then one aggregate query over the claimed rows.
    """
    u = _table(m.UsageEvent)
    if conn.dialect.name == "postgresql":
        claim = (
            func.unnest(
                bindparam("cids", type_=ARRAY(m.Integer)),
                bindparam("pstarts", type_=ARRAY(Date)),
                bindparam("invs", type_=ARRAY(String)),
            )
            .table_valued("cid", "pstart", "inv")
            .render_derived(name="claim")
        )  # one row per account
        claimed = (
            update(u)
            .values(invoice_id=claim.c.inv)
            # The accounts' id range as well: on a freshly imported table without statistics the
            # planner would otherwise scan the whole table for every batch, not read its index.
            .where(
                u.c.customer_id.between(min(todo), max(todo)),
                u.c.customer_id == claim.c.cid,
                u.c.invoice_id.is_(None),
                u.c.period_start <= claim.c.pstart,
            )
            .returning(
                u.c.customer_id,
                u.c.subscription_id,
                u.c.period_start,
                u.c.rate_key,
                u.c.offpeak,
                u.c.charged_units,
                u.c.charge_exact,
                u.c.fee_exact,
                u.c.surcharge_units,
                u.c.surcharge_exact,
                u.c.service,
                u.c.duration_s,
                u.c.volume_bytes,
            )
            .cte("claimed")
        )
        return conn.execute(
            select(*_usage_sums(claimed.c)).group_by(*_usage_groups(claimed.c)).order_by(*_usage_groups(claimed.c)),
            {"cids": todo, "pstarts": [periods[cid].start for cid in todo], "invs": [invoice_ids[cid] for cid in todo]},
        )
    # One statement for the batch (executemany), not a round trip per account.
    conn.execute(
        update(u)
        .where(u.c.customer_id == bindparam("cid"), u.c.invoice_id.is_(None), u.c.period_start <= bindparam("pstart"))
        .values(invoice_id=bindparam("inv")),
        [{"cid": cid, "pstart": periods[cid].start, "inv": invoice_ids[cid]} for cid in todo],
    )
    return conn.execute(
        select(*_usage_sums(u.c))
        .where(u.c.customer_id.in_(todo), u.c.invoice_id.in_(list(invoice_ids.values())))
        .group_by(*_usage_groups(u.c))
        .order_by(*_usage_groups(u.c))
    )
