"""The bill run: invoice one period for every account (rules §4–5); here, which accounts and in what batches.

Crash- and concurrency-safe numbering: accounts are invoiced in batches, each batch one
transaction that first locks its series row (``SELECT … FOR UPDATE`` on PostgreSQL; the
SQLite writer lock taken by ``BEGIN IMMEDIATE``), re-checks which accounts already have
their invoice, claims the usage it bills and takes consecutive numbers. A batch commits
whole or not at all, so a killed run leaves no gap and no half invoice; a second run,
at the same time or later, skips what is done (``invoices.regular_key`` is unique).

One batch is ``billrun_batch``; the charges, add-ons and instalment months it bills are
``billrun_extras``; small balances carried or written off are ``small_balances``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, Engine, func, or_, select

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Conflict, Invalid
from backend_stub.domain.periods import Period, bill_run_period_problem, month_label, period_for
from backend_stub.services.billing.billrun_batch import BillRunResult, bill_batch
from backend_stub.services.billing.billrun_extras import Pending
from backend_stub.services.billing.numbering import CREDIT_SERIES, INVOICE_SERIES, ensure_series
from backend_stub.services.billing.small_balances import SmallBalances, close_small_balance, small_balances
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import AddonPurchase, Instalment, OneOffCharge
from backend_stub.storage.repo import chunks


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

    def __reduce__(self) -> tuple[type[PeriodOutOfRange], tuple[str, str]]:
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


def _pending_customers(conn: Connection, base_period: Period, label: str) -> tuple[set[int], Pending]:
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
    return found, Pending(bool(charges), bool(addons), bool(instalments))


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
        _refuse_open_period(engine, label, base_period, today)
    with engine.begin() as conn:
        ensure_series(conn, INVOICE_SERIES)
        ensure_series(conn, CREDIT_SERIES)
    with engine.connect() as conn:
        customers = {r.id: r for r in conn.execute(select(m.Customer))}
        done = _invoiced_accounts(conn, base_period)
        candidates, pending = _accounts_to_bill(conn, base_period, label)
        small = small_balances(conn, today, small_balance_ore)
    todo = sorted(candidates - done)
    result.accounts = len(todo)
    batches = 0
    for part in chunks(todo, batch_size):
        with engine.begin() as conn:
            bill_batch(conn, catalogue, customers, list(part), label, invoice_date, result, pending, small)
        batches += 1
        if stop_after_batches is not None and batches >= stop_after_batches:
            return result
    _write_off_orphans(engine, small, done, result, today)
    return result


def _refuse_open_period(engine: Engine, label: str, base_period: Period, today: date) -> None:
    """Invoices are in arrears: the period must have ended for every cycle day in use (rules §4)."""
    with engine.connect() as conn:
        cycle_days = set(conn.execute(select(m.Customer.cycle_day).distinct()).scalars())
    period_end = max([period_for(label, cd).end for cd in cycle_days if cd] + [base_period.end])
    if today <= period_end:
        raise OpenPeriod(label, period_end, today)


def _invoiced_accounts(conn: Connection, base_period: Period) -> set[int]:
    """Accounts that already have an invoice of the period: a rerun leaves them be."""
    return set(
        conn.execute(
            select(m.Invoice.customer_id).where(
                m.Invoice.kind == "invoice",
                m.Invoice.period_start >= base_period.start,
                m.Invoice.period_start <= base_period.end,
            )
        ).scalars()
    )


def _accounts_to_bill(conn: Connection, base_period: Period, label: str) -> tuple[set[int], Pending]:
    """Accounts with a plan in (or just after) the period, unbilled usage up to it, or charges pending;
    and which kinds of charges are pending at all."""
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
    return active | with_usage | with_charges, pending


def _write_off_orphans(
    engine: Engine, small: SmallBalances, done: set[int], result: BillRunResult, today: date
) -> None:
    """Small balances of accounts that got no invoice in this run and have none for the period: no next
    invoice to carry them to, so they are written off (an account invoiced earlier keeps them for the next)."""
    orphans = {cid: rows for cid, rows in small.items() if cid not in done and cid not in result.billed}
    if orphans:
        with engine.begin() as conn:
            now = clock.moment_on(today)  # the bill run's business day
            for rows in orphans.values():
                for inv_id, number, amount in rows:
                    close_small_balance(conn, inv_id, number, amount, "written_off", None, now)
                    result.written_off += 1
