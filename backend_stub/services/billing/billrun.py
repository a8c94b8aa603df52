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
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Connection, Date, Engine, String, bindparam, func, insert, or_, select, update

from backend_stub import clock
from backend_stub.domain import invoicing, texts
from backend_stub.domain.catalogue import Catalogue, Discount
from backend_stub.domain.errors import Conflict, Invalid
from backend_stub.domain.periods import Period, Subscription, bill_run_period_problem, month_label, period_for
from backend_stub.domain.rating import STOCKHOLM
from backend_stub.services.billing import documents, usage_totals
from backend_stub.services.billing.invoice_rows import invoice_values, line_values
from backend_stub.services.billing.numbering import (
    CREDIT_SERIES,
    INVOICE_SERIES,
    ensure_series,
    lock_series,
    take_numbers,
)
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import AddonPurchase, Instalment, InstalmentBill, OneOffCharge
from backend_stub.storage.repo import chunks, insert_rows, load_subscriptions
from selfcare_common.money_format import format_kr


class OpenPeriod(Conflict, ValueError):
    """A bill run of a period that has not ended yet for some account (invoices are in arrears, rules §4).

    A ``Conflict`` (409 in the API) and still a ``ValueError``: the CLI reports it with the other bad input."""

    def __init__(self, label: str, period_end: date, today: date):
        self.label, self.period_end, self.today = label, period_end, today
        super().__init__(
            f"period {label} has not ended: it ends {period_end.isoformat()} and today is "
            f"{today.isoformat()}; bill it from {(period_end + timedelta(days=1)).isoformat()} "
            f"(or allow an open period explicitly)"
        )


class PeriodOutOfRange(Invalid):
    """A bill run of a period nothing can be billed for: before the operator's first subscription, usage
    or charge (or 2000-01), or after next month. About the field ``period``."""

    def __init__(self, label: str, why: str):
        self.label = label
        super().__init__("period", why)

    def __reduce__(self) -> tuple[type[PeriodOutOfRange], tuple[str, str]]:  # type: ignore[override]
        return (type(self), (self.label, self.message))


def first_billable_period(conn: Connection) -> str | None:
    """The month of the operator's first subscription, add-on, instalment or one-off charge (``YYYY-MM``),
    or None when there is nothing yet: no bill run has anything of its own before it. (Usage is rated
    only inside a subscription's days, so it never starts before the first subscription.)"""
    days = [
        conn.execute(select(func.min(column))).scalar()
        for column in (m.PlanSegment.start_date, AddonPurchase.period_start)
    ]
    labels = [month_label(d) for d in days if d is not None]
    created = conn.execute(select(func.min(OneOffCharge.created_at))).scalar()
    if created is not None:
        labels.append(month_label(clock.stockholm_date(created)))
    instalment = conn.execute(select(func.min(Instalment.start_period))).scalar()
    if instalment:
        labels.append(str(instalment))
    return min(labels) if labels else None


def check_period(engine: Engine, label: str, today: date) -> None:
    """Raise :class:`PeriodOutOfRange` unless a bill run may invoice ``label`` on ``today``."""
    period_for(label)  # the shape: a month like 2026-10
    with engine.connect() as conn:
        first = first_billable_period(conn)
    why = bill_run_period_problem(label, today, first or "")
    if why:
        raise PeriodOutOfRange(label, why)


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


def _regular_key(customer_id: int, period: Period) -> str:
    return f"{customer_id}:{period.start.isoformat()}"


@dataclass
class _Pending:
    """Which kinds of charges wait for an invoice at all (a batch skips the queries of the others)."""

    charges: bool = False
    addons: bool = False
    instalments: bool = False


def _pending_customers(conn: Connection, base_period: Period, label: str) -> tuple[set[int], _Pending]:
    """Accounts with a one-off charge, an add-on or an instalment month to bill, even without a plan."""
    charges = set(
        conn.execute(select(OneOffCharge.customer_id).where(OneOffCharge.invoice_id.is_(None)).distinct()).scalars()
    )
    addons = set(
        conn.execute(
            select(AddonPurchase.customer_id)
            .where(AddonPurchase.invoice_id.is_(None), AddonPurchase.period_start <= base_period.end)
            .distinct()
        ).scalars()
    )
    instalments = set(
        conn.execute(
            select(Instalment.customer_id)
            .where(
                or_(
                    (Instalment.status == "active") & (Instalment.start_period <= label),
                    (Instalment.status == "paid_off") & Instalment.payoff_invoice_id.is_(None),
                )
            )
            .distinct()
        ).scalars()
    )
    found = charges | addons | instalments
    return found, _Pending(bool(charges), bool(addons), bool(instalments))


def run_bill_run(
    engine: Engine,
    catalogue: Catalogue,
    label: str,
    *,
    invoice_date: date | None = None,
    batch_size: int = 250,
    stop_after_batches: int | None = None,
    today: date | None = None,
    allow_open_period: bool = False,
    small_balance_ore: int = 1000,
) -> BillRunResult:
    """Invoice period ``label`` (YYYY-MM) for all accounts; idempotent.

    Refused with ``PeriodOutOfRange`` for a period before the first one with anything to bill or after
    next month (:func:`check_period`), and with ``OpenPeriod`` while the period has not ended for every
    account (by ``today``, default the core clock's) unless ``allow_open_period``. Past-due balances below
    ``small_balance_ore`` are carried to the account's invoice of this run, or written off when
    the run makes none for it (rules §5).
    ``stop_after_batches`` simulates a crash half-way (tests of the rerun).
    """
    result = BillRunResult(period=label)
    base_period = period_for(label)
    today = today or clock.today()
    check_period(engine, label, today)
    if not allow_open_period:
        with engine.connect() as conn:
            cycle_days = set(conn.execute(select(m.Customer.cycle_day).distinct()).scalars())
        period_end = max([period_for(label, cd).end for cd in cycle_days if cd] + [base_period.end])
        if today <= period_end:
            raise OpenPeriod(label, period_end, today)
    with engine.begin() as conn:
        ensure_series(conn, INVOICE_SERIES)
        ensure_series(conn, CREDIT_SERIES)
    with engine.connect() as conn:
        customers = {r.id: r for r in conn.execute(select(m.Customer))}
        done = set(
            conn.execute(
                select(m.Invoice.customer_id).where(
                    m.Invoice.kind == "invoice",
                    m.Invoice.period_start >= base_period.start,
                    m.Invoice.period_start <= base_period.end,
                )
            ).scalars()
        )
        active = set(
            conn.execute(
                select(m.Subscription.customer_id)
                .join(m.PlanSegment, m.PlanSegment.subscription_id == m.Subscription.id)
                .where(
                    m.PlanSegment.start_date <= base_period.end + timedelta(days=31),
                    or_(m.PlanSegment.end_date.is_(None), m.PlanSegment.end_date >= base_period.start),
                )
            ).scalars()
        )
        with_usage = set(
            conn.execute(
                select(m.UsageEvent.customer_id)
                .where(m.UsageEvent.invoice_id.is_(None), m.UsageEvent.period_start <= base_period.start)
                .distinct()
            ).scalars()
        )
        with_charges, pending = _pending_customers(conn, base_period, label)
        small = small_balances(conn, today, small_balance_ore)
    candidates = sorted((active | with_usage | with_charges) - done)
    result.accounts = len(candidates)
    batches = 0
    for part in chunks(candidates, batch_size):
        with engine.begin() as conn:
            _bill_batch(conn, catalogue, customers, list(part), label, invoice_date, result, pending, small)
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches:
            return result
    # Small balances of accounts that got no invoice in this run and have none for the period: no next
    # invoice to carry them to, so they are written off (an account invoiced earlier keeps them for the next).
    orphans = {cid: rows for cid, rows in small.items() if cid not in done and cid not in result.billed}
    if orphans:
        with engine.begin() as conn:
            now = clock.moment_on(today)  # the bill run's business day
            for rows in orphans.values():
                for inv_id, number, amount in rows:
                    _close_small_balance(conn, inv_id, number, amount, "written_off", None, now)
                    result.written_off += 1
    return result


def small_balances(
    conn: Connection, today: date, minimum_ore: int, customer_ids: list[int] | None = None
) -> dict[int, list[tuple[str, str, int]]]:
    """Past-due invoices with 0 < balance < ``minimum_ore`` per customer: (id, number, balance), oldest first.

    Balances not yet due are never carried (rules §5). ``customer_ids`` limits it to those accounts.
    """
    q = select(m.Invoice).where(m.Invoice.kind == "invoice", m.Invoice.amount_due_ore > 0, m.Invoice.due_date < today)
    if customer_ids is not None:
        q = q.where(m.Invoice.customer_id.in_(customer_ids))
    rows = list(conn.execute(q.order_by(m.Invoice.invoice_date, m.Invoice.number)))
    out: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    states = ledger.invoice_states(conn, rows, today)
    for inv in rows:
        st = states[inv.id]
        if 0 < st.balance_ore < minimum_ore and st.status not in ledger.CLOSING_EVENTS:
            out[inv.customer_id].append((inv.id, inv.number, st.balance_ore))
    return out


def _close_small_balance(
    conn: Connection, inv_id: str, number: str, amount: int, how: str, to_number: str | None, now: datetime
) -> None:
    """Close a small balance on its invoice: carried to invoice ``to_number``, or written off (rules §5)."""
    conn.execute(
        insert(m.Payment).values(
            reference=f"{how}:{inv_id}",
            method=how,
            invoice_id=inv_id,
            customer_id=None,
            amount_ore=amount,
            received_at=now,
            status="matched",
        )
    )
    if how == "carried":
        text = f"Obetalt belopp {format_kr(amount)} flyttat till faktura {to_number}."
    else:
        text = f"Obetalt belopp {format_kr(amount)} avskrivet (ingen ny faktura att föra det till)."
    ledger.add_event(conn, inv_id, how, text, at=now, data={"amount_ore": amount, "to_invoice": to_number})


def _bill_batch(
    conn: Connection,
    catalogue: Catalogue,
    customers: dict[int, Any],
    customer_ids: list[int],
    label: str,
    invoice_date: date | None,
    result: BillRunResult,
    pending: _Pending | None = None,
    small: dict[int, list[tuple[str, str, int]]] | None = None,
) -> None:
    lock_series(conn, INVOICE_SERIES)
    periods = {cid: period_for(label, customers[cid].cycle_day) for cid in customer_ids}
    keys = {cid: _regular_key(cid, periods[cid]) for cid in customer_ids}
    taken = set(
        conn.execute(select(m.Invoice.regular_key).where(m.Invoice.regular_key.in_(list(keys.values())))).scalars()
    )
    todo = [cid for cid in customer_ids if keys[cid] not in taken]
    result.skipped += len(customer_ids) - len(todo)
    if not todo:
        return
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
    usage_of: dict[str, list] = defaultdict(list)  # the usage summary frozen in each document
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

    extras = _load_extras(conn, todo, periods, label, pending or _Pending(True, True, True), catalogue)
    drafts = []
    for cid in todo:
        draft = invoice_draft(
            catalogue,
            cid,
            subs_by_customer.get(cid, []),
            periods[cid],
            aggregates.get(invoice_ids[cid], []),
            grants.get(cid, []),
            extras.get(cid),
            (small or {}).get(cid, []),
        )
        if draft is not None:
            drafts.append((cid, draft))
    numbers = take_numbers(conn, INVOICE_SERIES, len(drafts))
    now = clock.now()
    issued_ids = []
    invoice_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    claims: list[tuple[_Extras, str]] = []
    carried_rows: list[tuple[str, str, int, str, datetime]] = []
    moments: dict[date, datetime] = {}  # the business time of each invoice day, once per batch
    for (cid, draft), number in zip(drafts, numbers, strict=False):
        period = draft.period
        inv_date = invoice_date or (period.end + timedelta(days=1))
        created_at = moments.get(inv_date) or moments.setdefault(inv_date, clock.moment_on(inv_date))
        issued = invoicing.issue(draft, number, inv_date, catalogue.operator.payment_terms_days)
        doc = documents.invoice_document(catalogue, customers[cid], subs_by_customer.get(cid, []), issued)
        inv_id = invoice_ids[cid]
        doc["usage_totals"] = usage_totals.usage_totals(
            catalogue, subs_by_customer.get(cid, []), period, usage_of.get(inv_id, [])
        )
        invoice_rows.append(
            invoice_values(inv_id, issued, doc, series=INVOICE_SERIES, regular_key=_regular_key(cid, period), now=now)
        )
        line_rows += line_values(inv_id, issued, doc["lines"])
        event_rows.append(
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
        issued_ids.append((inv_id, cid))
        result.billed.add(cid)
        for old_id, old_number, amount in (small or {}).get(cid, []):  # carried onto this invoice
            carried_rows.append((old_id, old_number, amount, number, created_at))
        if cid in extras:
            claims.append((extras[cid], inv_id))
        result.invoices += 1
        result.numbers.append(number)
        result.gross_ore += issued.gross_ore
    # The batch's invoices, lines and timeline entries: three bulk inserts (COPY on PostgreSQL).
    insert_rows(conn, m.Invoice.__table__, invoice_rows)
    insert_rows(conn, m.InvoiceLine.__table__, line_rows)
    for extra, inv_id in claims:  # charges, add-ons and instalment months billed: claimed with their invoice
        event_rows += _claim_extras(conn, extra, inv_id)
    insert_rows(conn, m.InvoiceEvent.__table__, event_rows)
    for old_id, old_number, amount, new_number, carried_at in carried_rows:  # on the new invoice's day
        _close_small_balance(conn, old_id, old_number, amount, "carried", new_number, carried_at)
        result.carried += 1
    # Accounts that got no invoice (nothing to bill) release their (empty) usage claim.
    billed = {cid for cid, _ in drafts}
    unclaimed = [invoice_ids[cid] for cid in todo if cid not in billed]
    if unclaimed:
        conn.execute(update(m.UsageEvent).where(m.UsageEvent.invoice_id.in_(unclaimed)).values(invoice_id=None))
    # Only an account with an earlier invoice can have a credit balance to use (the ledger
    # looks at two invoices or more); ask for those in one query instead of one per account.
    several = set()
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
    extra: _Extras | None,
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
            draft = replace(draft, meta={**draft.meta, "instalments": _instalment_summary(extra.instalments)})
    if not draft.lines:
        return None
    carried = [invoicing.CarriedBalance(number, amount) for _id, number, amount in small]
    return invoicing.with_carried(draft, carried, ore_rounding=catalogue.operator.ore_rounding)


def unbilled_usage(conn: Connection, customer_id: int, period: Period) -> list[invoicing.UsageAggregate]:
    """The usage the account's invoice of ``period`` would bill, aggregated as ``_bill_batch`` does, read-only.

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


def pending_extras(conn: Connection, catalogue: Catalogue, customer_id: int, period: Period) -> _Extras | None:
    """The one-off charges, add-ons and instalment months the account's invoice of ``period`` would bill.

    Read-only (no row locks): what ``_bill_batch`` loads, for a look ahead.
    """
    return _load_extras(
        conn, [customer_id], {customer_id: period}, period.label, _Pending(True, True, True), catalogue, lock=False
    ).get(customer_id)


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
    u = m.UsageEvent.__table__
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


@dataclass
class _Extras:
    """One account's one-off charges, add-on purchases and instalment months for this invoice."""

    charges: list[tuple[Any, invoicing.OneOffCharge]] = field(default_factory=list)
    addons: list[tuple[Any, invoicing.AddonCharge]] = field(default_factory=list)
    instalments: list[tuple[invoicing.InstalmentPlan, list[invoicing.InstalmentCharge]]] = field(default_factory=list)
    instalment_rows: dict[int, Any] = field(default_factory=dict)


def _locked(conn: Connection, q):
    """Rows this batch will claim are locked on PostgreSQL (a charge deleted meanwhile waits, then finds it billed)."""
    return q.with_for_update() if conn.dialect.name == "postgresql" else q


def _load_extras(
    conn: Connection,
    todo: list[int],
    periods: dict[int, Period],
    label: str,
    pending: _Pending,
    catalogue: Catalogue | None = None,
    *,
    lock: bool = True,
) -> dict[int, _Extras]:
    """What each account's invoice bills besides fees and usage; no query for a kind nobody has pending.

    ``lock`` False reads without row locks (the forecast, which claims nothing).
    """
    extras: dict[int, _Extras] = {}
    maybe_locked = _locked if lock else (lambda _conn, q: q)
    if pending.charges:
        for part in chunks(todo):
            for r in conn.execute(
                maybe_locked(
                    conn,
                    select(OneOffCharge)
                    .where(OneOffCharge.customer_id.in_(part), OneOffCharge.invoice_id.is_(None))
                    .order_by(OneOffCharge.id),
                )
            ):
                extras.setdefault(r.customer_id, _Extras()).charges.append(
                    (r, invoicing.OneOffCharge(r.description, r.amount_ore, Decimal(r.vat_rate), r.subscription_id))
                )
    if pending.addons:
        for part in chunks(todo):
            for r in conn.execute(
                maybe_locked(
                    conn,
                    select(AddonPurchase)
                    .where(AddonPurchase.customer_id.in_(part), AddonPurchase.invoice_id.is_(None))
                    .order_by(AddonPurchase.id),
                )
            ):
                if r.period_start > periods[r.customer_id].start:
                    continue  # bought in a later period: that period's invoice
                bought = r.bought_at if r.bought_at.tzinfo else r.bought_at.replace(tzinfo=UTC)
                addon = catalogue.addons.get(r.addon_id) if catalogue else None
                # The name as bought; English from the catalogue while the add-on is still in it.
                name_en = addon.name_en if addon and addon.name == r.name else ""
                extras.setdefault(r.customer_id, _Extras()).addons.append(
                    (
                        r,
                        invoicing.AddonCharge(
                            r.addon_id,
                            r.name,
                            r.price_ore,
                            Decimal(r.vat_rate),
                            _local_day(bought),
                            r.subscription_id,
                            name_en,
                        ),
                    )
                )
    if pending.instalments:
        for part in chunks(todo):
            for r in conn.execute(
                maybe_locked(
                    conn,
                    select(Instalment)
                    .where(
                        Instalment.customer_id.in_(part),
                        Instalment.status != "closed",
                        Instalment.payoff_invoice_id.is_(None),
                    )
                    .order_by(Instalment.id),
                )
            ):
                plan = instalment_plan(r, catalogue)
                charges = invoicing.instalment_charges(plan, label)
                if charges:
                    extra = extras.setdefault(r.customer_id, _Extras())
                    extra.instalments.append((plan, charges))
                    extra.instalment_rows[r.id] = r
    return extras


def _local_day(at: datetime) -> date:
    return at.astimezone(STOCKHOLM).date()


def instalment_plan(row: Any, catalogue: Catalogue | None = None) -> invoicing.InstalmentPlan:
    """The domain value of an ``instalments`` row (the device's English name from ``catalogue``)."""
    device = catalogue.devices.get(row.device_id) if catalogue else None
    return invoicing.InstalmentPlan(
        id=row.id,
        device_name=row.device_name,
        months=row.months,
        total_ore=row.total_ore,
        monthly_ore=row.monthly_ore,
        vat_rate=Decimal(row.vat_rate),
        start_period=row.start_period,
        months_billed=row.months_billed,
        paid_ore=row.paid_ore,
        payoff=row.status == "paid_off",
        subscription_id=row.subscription_id,
        device_name_en=device.name_en if device and device.name == row.device_name else "",
    )


def _instalment_summary(
    items: list[tuple[invoicing.InstalmentPlan, list[invoicing.InstalmentCharge]]],
) -> list[dict[str, Any]]:
    """Per instalment on the invoice: device, months billed, paid and left after it (the document's section)."""
    out = []
    for plan, charges in items:
        last = charges[-1]
        out.append(
            {
                "instalment_id": plan.id,
                "device_name": plan.device_name,
                **(
                    {"device_name_en": plan.device_name_en} if plan.device_name_en not in ("", plan.device_name) else {}
                ),
                "months": plan.months,
                "first_month": charges[0].first_month,
                "last_month": last.last_month,
                "amount_ore": sum(c.amount_ore for c in charges),
                "total_ore": plan.total_ore,
                "paid_ore": last.paid_after_ore,
                "remaining_ore": last.left_after_ore,
                "months_left": plan.months - last.last_month,
                "payoff": last.kind == "payoff",
                "subscription_id": plan.subscription_id,
            }
        )
    return out


def _claim_extras(conn: Connection, extra: _Extras, inv_id: str) -> list[dict[str, Any]]:
    """Mark what the invoice ``inv_id`` bills as billed (in its transaction); its timeline entries."""
    events: list[dict[str, Any]] = []
    if extra.charges:
        conn.execute(
            update(OneOffCharge)
            .where(OneOffCharge.id == bindparam("cid_"), OneOffCharge.invoice_id.is_(None))
            .values(invoice_id=inv_id, status="invoiced"),
            [{"cid_": r.id} for r, _ in extra.charges],
        )
        for r, _ in extra.charges:
            data = {"charge_id": r.id, "description": r.description, "amount_ore": r.amount_ore}
            events.append(
                dict(
                    invoice_id=inv_id,
                    at=r.created_at,
                    actor="system",
                    kind="charge_added",
                    text=texts.render("charge_added", data, "sv", r.description),
                    data=data,
                )
            )
    if extra.addons:
        conn.execute(
            update(AddonPurchase)
            .where(AddonPurchase.id == bindparam("pid_"), AddonPurchase.invoice_id.is_(None))
            .values(invoice_id=inv_id, status="invoiced"),
            [{"pid_": r.id} for r, _ in extra.addons],
        )
        for r, a in extra.addons:
            data = {
                "purchase_id": r.id,
                "name": r.name,
                "amount_ore": r.price_ore,
                "bought_on": a.bought_on.isoformat(),
                **({"name_en": a.name_en} if a.name_en else {}),
            }
            events.append(
                dict(
                    invoice_id=inv_id,
                    at=r.bought_at,
                    actor="system",
                    kind="addon_purchased",
                    text=texts.render("addon_purchased", data, "sv", r.name),
                    data=data,
                )
            )
    if extra.instalments:
        bills = []
        for plan, charges in extra.instalments:
            row = extra.instalment_rows[plan.id]
            last = charges[-1]
            payoff = last.kind == "payoff"
            values: dict[str, Any] = {"months_billed": last.last_month, "paid_ore": last.paid_after_ore}
            if payoff:
                values["payoff_invoice_id"] = inv_id
            elif last.last_month >= plan.months:
                values["status"] = "closed"
            conn.execute(update(Instalment).where(Instalment.id == plan.id).values(**values))
            bills += [
                {
                    "instalment_id": plan.id,
                    "invoice_id": inv_id,
                    "first_month": c.first_month,
                    "last_month": c.last_month,
                    "amount_ore": c.amount_ore,
                    "kind": c.kind,
                }
                for c in charges
            ]
            if payoff:
                data = {
                    "instalment_id": plan.id,
                    "device_name": plan.device_name,
                    "amount_ore": last.amount_ore,
                    **({"device_name_en": plan.device_name_en} if plan.device_name_en else {}),
                }
                events.append(
                    dict(
                        invoice_id=inv_id,
                        at=row.payoff_requested_at or clock.now(),
                        actor="system",
                        kind="instalment_payoff",
                        data=data,
                        text=texts.render("instalment_payoff", data, "sv", plan.device_name),
                    )
                )
        conn.execute(insert(InstalmentBill), bills)
    return events
