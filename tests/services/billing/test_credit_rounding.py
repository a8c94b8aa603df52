"""Credit notes carry their own öresavrundning (rules §1); partly_paid means money was received."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend_stub.core import Core
from backend_stub.domain import invoicing
from backend_stub.domain.periods import period_for
from backend_stub.services.billing import credit_notes, documents, invoice_rows, invoices, numbering
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.lifecycle import dunning, ledger
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES

VAT25 = Decimal("0.25")


def _line(text: str, amount_ore: int, kind: str = "usage") -> invoicing.Line:
    return invoicing.Line(text, Decimal(1), "st", None, VAT25, amount_ore, kind)


def issue_invoice(
    core: Core, lines: list[invoicing.Line], *, customer_number: str = "K1", invoice_date: date = date(2026, 11, 1)
) -> str:
    """Store an issued invoice of ``lines`` for a fixture customer; returns its number."""
    with core.engine.connect() as conn:
        fresh = conn.execute(select(m.Customer.id)).first() is None
    if fresh:
        with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
            assert not import_customers(core.engine, core.catalogue, read_customers_csv(fh)).errors
    catalogue = core.catalogue  # read outside the write transaction (SQLite: one writer)
    with core.engine.begin() as conn:
        customer = conn.execute(select(m.Customer).where(m.Customer.customer_number == customer_number)).one()
        numbering.ensure_series(conn, numbering.INVOICE_SERIES)
        draft = invoicing.draft_from_lines(customer.id, period_for("2026-10"), lines, kind="invoice", ore_rounding=True)
        number = numbering.take_numbers(conn, numbering.INVOICE_SERIES, 1)[0]
        issued = invoicing.issue(draft, number, invoice_date, 30)
        doc = documents.invoice_document(catalogue, customer, [], issued)
        invoice_rows.store_invoice(
            conn,
            str(uuid.uuid4()),
            issued,
            doc,
            series=numbering.INVOICE_SERIES,
            regular_key=None,
            now=datetime.combine(invoice_date, datetime.min.time(), UTC),
        )
    return number


def pay(core: Core, number: str, amount_ore: int, reference: str) -> None:
    with core.engine.begin() as conn:
        inv = invoice_rows.get_invoice_row(conn, number)
        ledger.record_payment(
            conn,
            invoice_id=inv.id,
            reference=reference,
            method="bankgiro",
            amount_ore=amount_ore,
            received_at=datetime(2026, 11, 20, tzinfo=UTC),
        )


def test_credited_line_leaves_whole_kronor_and_no_reminder_after_paying_them(core: Core, tmp_path) -> None:
    # Invoice 199,00 + 19,80 = 218,80, öresavrundning +0,20 → 219,00 to pay.
    number = issue_invoice(core, [_line("Rörlig", 19_900, "fee"), _line("Surf", 1_980)])
    # Credit line 2 (19,80): the credit note rounds to −20,00 (its own öresavrundning −0,20).
    cn = credit_notes.create_credit_note(
        core.engine, core.catalogue, number, credit_notes.CreditRequest(reason="Fel", line_positions=[2])
    )
    assert (cn["gross_ore"], cn["rounding_ore"], cn["amount_due_ore"]) == (-1_980, -20, -2_000)
    inv = invoices.get_invoice(core.engine, number, today=date(2026, 11, 10))
    assert (inv["balance_ore"], inv["status"]) == (19_900, "unpaid")  # nothing paid: not partly_paid
    pay(core, number, 19_900, "bank-1")  # the customer pays the 199 kr asked for
    inv = invoices.get_invoice(core.engine, number, today=date(2026, 12, 20))
    assert (inv["balance_ore"], inv["status"]) == (0, "paid")
    result = dunning.run_dunning(
        core.engine, LifecycleConfig(print_dir=tmp_path / "p", collection_dir=tmp_path / "c"), today=date(2026, 12, 20)
    )
    assert (result.reminder_1, result.fees_ore) == (0, 0)


def test_partly_paid_only_when_money_was_received(core: Core) -> None:
    number = issue_invoice(core, [_line("Rörlig", 10_000, "fee")])
    credit_notes.create_credit_note(
        core.engine, core.catalogue, number, credit_notes.CreditRequest(reason="x", amount_ore=2_000)
    )
    assert invoices.get_invoice(core.engine, number, today=date(2026, 11, 2))["status"] == "unpaid"
    pay(core, number, 1_000, "bank-2")
    assert invoices.get_invoice(core.engine, number, today=date(2026, 11, 2))["status"] == "partly_paid"
    credit_notes.create_credit_note(
        core.engine, core.catalogue, number, credit_notes.CreditRequest(reason="y", amount_ore=7_000)
    )
    assert invoices.get_invoice(core.engine, number, today=date(2026, 11, 2))["status"] == "paid"
    other = issue_invoice(core, [_line("Rörlig", 10_000, "fee")])
    credit_notes.create_credit_note(core.engine, core.catalogue, other, credit_notes.CreditRequest(reason="z"))
    assert invoices.get_invoice(core.engine, other, today=date(2026, 11, 2))["status"] == "credited"


credit_or_pay = st.one_of(
    st.tuples(st.just("lines"), st.lists(st.integers(1, 3), min_size=1, max_size=2, unique=True)),
    st.tuples(st.just("amount"), st.integers(1, 40_000)),
    st.tuples(st.just("pay"), st.integers(1, 400).map(lambda kr: kr * 100)),  # payments in whole kronor
)


def test_what_is_left_is_whole_kronor_after_any_credits_and_payments(core: Core) -> None:
    refs = iter(range(10**6))

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(amounts=st.lists(st.integers(1, 30_000), min_size=3, max_size=3), steps=st.lists(credit_or_pay, max_size=6))
    def check(amounts: list[int], steps: list[tuple]) -> None:
        number = issue_invoice(core, [_line(f"Rad {i}", a) for i, a in enumerate(amounts, 1)])
        for kind, arg in steps:
            if kind == "pay":
                pay(core, number, arg, f"prop-{next(refs)}")
                continue
            req = (
                credit_notes.CreditRequest(reason="p", line_positions=arg)
                if kind == "lines"
                else credit_notes.CreditRequest(reason="p", amount_ore=arg)
            )
            try:
                credit_notes.create_credit_note(core.engine, core.catalogue, number, req)
            except ValueError as exc:  # more than is left, or a credit that rounds to nothing
                assert "at most" in str(exc) or "rounds to 0 kr" in str(exc)
            inv = invoices.get_invoice(core.engine, number)
            left = max(inv["balance_ore"], 0)
            assert left % 100 == 0, inv["balance_ore"]
            assert inv["credited_ore"] <= inv["amount_due_ore"]
            if inv["balance_ore"] < 0:  # paid more than is left: the customer's credit balance
                with core.engine.connect() as conn:
                    assert ledger.customer_credit_balance(conn, inv["customer_id"]) >= -inv["balance_ore"]

    check()


def test_full_credit_of_an_invoice_rounded_down_takes_back_its_rounding(core: Core) -> None:
    # 535,20 kr → 535,00 to pay (öresavrundning −0,20): the full credit note is −535,20 + 0,20 = −535,00.
    number = issue_invoice(core, [_line("Mobil 20 GB", 49_900, "fee"), _line("Surf utomlands", 3_620)])
    credit = credit_notes.create_credit_note(
        core.engine, core.catalogue, number, credit_notes.CreditRequest(reason="Uppsagt abonnemang fakturerat")
    )
    assert (credit["gross_ore"], credit["rounding_ore"], credit["amount_due_ore"]) == (-53_520, 20, -53_500)
    doc = invoices.get_invoice(core.engine, number, today=date(2026, 11, 5))
    assert (doc["status"], doc["balance_ore"]) == ("credited", 0)
