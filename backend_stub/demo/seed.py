"""Seeding a demo database: customers, their usage and charges, then either the year lived day by day
through the services (``demo_year``, the ``seed`` and ``demo`` commands) or, for small test fixtures, the
months billed and most invoices paid at once.
"""

from __future__ import annotations

import io
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend_stub.demo import demo_data, demo_year
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing.billrun import run_bill_run
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m


def seed(
    core,
    customers: int,
    months: int,
    *,
    today: date | None = None,
    cdr_out: str | None = None,
    seed_value: int = 1,
    quiet: bool = False,
    live: bool = False,
) -> dict[str, Any]:
    """A believable demo operator: customers, M months of usage, and with ``live`` (the ``seed`` and
    ``demo`` commands) the year lived day by day through the services (``demo_year``). Without it
    (small fixtures of other tests) the months are billed and most invoices marked paid at once."""
    today = today or core.today()  # the seeded year ends at the core clock's today
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    rows = demo_data.generate_customers(customers, seed=seed_value, today=today, months=months)
    cust = import_customers(core.engine, core.catalogue, [(i + 2, r) for i, r in enumerate(rows)])
    say(f"customers: {cust.customers}, subscriptions: {cust.subscriptions}")
    buf = io.StringIO()
    n = demo_data.write_cdr_csv(buf, demo_data.generate_cdrs(rows, months=months, today=today, seed=seed_value))
    if cdr_out:
        Path(cdr_out).write_text(buf.getvalue(), encoding="utf-8")
    buf.seek(0)
    imported = UsageImporter(core.engine, core.catalogue, parallel=True).import_rows(read_cdr_csv(buf), "seed")
    say(f"usage records: {n}: rated {imported.rated}, rejected {imported.rejected}")
    say(
        "charges: {instalments} phones on instalment, {addons} add-ons, {charges} one-off charges".format(
            **demo_data.seed_charges(core, today=today, months=months)
        )
    )
    if not live:
        return _seed_static(core, today, months, seed_value, say) | {
            "customers": cust.customers,
            "subscriptions": cust.subscriptions,
            "cdrs": n,
            "rated": imported.rated,
            "rejected": imported.rejected,
        }
    year = demo_year.live_the_year(core, today=today, months=months, seed=seed_value, say=say)
    counts = year.counts
    say(
        f"the year {year.start.isoformat()} … {year.end.isoformat()}: {counts.get('invoices', 0)} invoices, "
        f"{counts.get('opened', 0)} opened, {counts.get('bgmax_files', 0)} BgMax files, "
        f"{counts.get('unmatched', 0)} unmatched, {counts.get('reminder_1', 0)} reminders, "
        f"{counts.get('collection', 0)} to collection, {counts.get('credit_notes', 0)} credit notes"
    )
    say("invoices by state (a few customers to sign in as):")
    for state, count in year.states.items():
        say(f"  {state:<14} {count:>5}   e.g. {', '.join(year.examples[state])}")
    return {
        "customers": cust.customers,
        "subscriptions": cust.subscriptions,
        "cdrs": n,
        "rated": imported.rated,
        "rejected": imported.rejected,
        "invoices": counts.get("invoices", 0),
        "paid": year.states.get("paid", 0) + year.states.get("paid_card", 0) + year.states.get("paid_autogiro", 0),
        "states": year.states,
    }


def _seed_static(core, today: date, months: int, seed_value: int, say) -> dict[str, Any]:
    """Bill the months and record most invoices as paid at once (the fixture of tests that need a quiet ledger)."""

    rng = random.Random(seed_value)
    invoices = 0
    for first, _last in demo_data.usage_months(today, months):
        invoices += run_bill_run(
            core.engine, core.catalogue, f"{first.year:04d}-{first.month:02d}", today=today
        ).invoices
    with core.engine.begin() as conn:
        rows_inv = list(conn.execute(select(m.Invoice).where(m.Invoice.kind == "invoice").order_by(m.Invoice.number)))
        states = ledger.invoice_states(conn, rows_inv, today)
        paid = 0
        for inv in rows_inv:
            if states[inv.id].balance_ore <= 0:
                continue
            due_passed = inv.due_date < today
            # Most pay on time; a few are overdue; the newest invoices are mostly still open.
            if (due_passed and rng.random() < 0.93) or (not due_passed and rng.random() < 0.35):
                pay_day = min(today, inv.due_date - timedelta(days=rng.randint(0, 12)))
                ledger.record_payment(
                    conn,
                    invoice_id=inv.id,
                    reference=f"seed-{inv.number}",
                    method="bankgiro",
                    amount_ore=states[inv.id].balance_ore,
                    customer_id=inv.customer_id,
                    ocr=inv.ocr,
                    received_at=datetime(pay_day.year, pay_day.month, pay_day.day, 12, tzinfo=UTC),
                )
                paid += 1
    say(f"invoices: {invoices}, paid: {paid}")
    return {"invoices": invoices, "paid": paid}
