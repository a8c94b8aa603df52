"""Ledger property: over random sequences of invoices, payments (some repeated), credit notes, fees and interest,
the sum of balances is invoiced - credited - paid + fees + interest, and no payment is lost or counted twice."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.services.billing import credit_notes
from backend_stub.services.lifecycle import dunning, ledger
from backend_stub.services.lifecycle.payments import invoice_allocation
from backend_stub.storage.models import billing as m
from tests.lifecycle_support import bill_october

_counter = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 3), st.integers(-2000, 60000), st.integers(0, 5)),
        st.tuples(st.just("credit"), st.integers(0, 3), st.integers(1, 30000), st.just(0)),
        st.tuples(st.just("fee"), st.integers(0, 3), st.just(6000), st.just(0)),
        st.tuples(st.just("interest"), st.integers(0, 3), st.integers(1, 500), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


def _new_invoices(core: Core, template, amounts: list[int]) -> list[str]:
    ids = []
    with core.engine.begin() as conn:
        for amount in amounts:
            n = next(_counter)
            inv_id = str(uuid.uuid4())
            conn.execute(
                insert(m.Invoice).values(
                    id=inv_id,
                    number=f"P{n:06d}",
                    series="P",
                    kind="invoice",
                    customer_id=template.customer_id,
                    period_start=template.period_start,
                    period_end=template.period_end,
                    invoice_date=template.invoice_date,
                    due_date=template.due_date,
                    ocr=None,
                    net_ore=template.net_ore,
                    vat_ore=template.vat_ore,
                    gross_ore=template.gross_ore,
                    rounding_ore=template.rounding_ore,
                    amount_due_ore=amount,
                    credits_invoice_id=None,
                    regular_key=None,
                    document=template.document,
                    created_at=clock.now(),
                )
            )
            ids.append(inv_id)
    return ids


def test_ledger_sums_hold_over_random_histories(core: Core) -> None:
    template = bill_october(core)["K1"]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(amounts=st.lists(st.integers(100, 100000), min_size=4, max_size=4), history=ops)
    def check(amounts: list[int], history: list[tuple[str, int, int, int]]) -> None:
        ids = _new_invoices(core, template, amounts)
        tag = uuid.uuid4().hex[:8]
        paid = credited = fees = interest = 0
        refs: set[str] = set()
        for op, i, amount, ref in history:
            inv_id = ids[i]
            if op == "pay":
                if amount == 0:
                    continue
                reference = f"{tag}:{ref}"
                with core.engine.begin() as conn:
                    new = ledger.record_payment(
                        conn,
                        invoice_id=inv_id,
                        reference=reference,
                        method="bankgiro",
                        amount_ore=amount,
                        received_at=datetime(2026, 12, 5, tzinfo=UTC),
                    )
                assert new == (reference not in refs)  # a repeated bank reference records nothing
                if new:
                    refs.add(reference)
                    paid += amount
            elif op == "credit":
                try:
                    cn = credit_notes.create_credit_note(
                        core.engine,
                        core.catalogue,
                        inv_id,
                        credit_notes.CreditRequest(reason="prop", amount_ore=amount),
                    )
                    credited += -cn["amount_due_ore"]
                except ValueError as exc:  # above what is left, or below 0,50 kr (rounds to nothing)
                    assert "amount_ore: at most" in str(exc) or "rounds to 0 kr" in str(exc)
            else:
                key = f"fee:{inv_id}" if op == "fee" else f"{tag}:int:{next(_counter)}"
                with core.engine.begin() as conn:
                    added = dunning._charge(
                        conn, inv_id, "reminder_fee" if op == "fee" else "interest", amount, key, date(2026, 12, 11)
                    )
                if added:
                    fees += amount if op == "fee" else 0
                    interest += amount if op == "interest" else 0
        with core.engine.connect() as conn:
            rows = list(conn.execute(select(m.Invoice).where(m.Invoice.id.in_(ids))))
            states = ledger.invoice_states(conn, rows, date(2026, 12, 31))
            total = sum(s.balance_ore for s in states.values())
            assert total == sum(amounts) - credited - paid + fees + interest
            recorded = conn.execute(
                select(func.count(), func.coalesce(func.sum(m.Payment.amount_ore), 0)).where(
                    m.Payment.reference.like(f"{tag}:%")
                )
            ).one()
            assert (recorded[0], recorded[1]) == (len(refs), paid)
            # the statutory allocation accounts for the same balance on every invoice, and fees at most once
            for r in rows:
                alloc = invoice_allocation(conn, r)
                assert alloc.balance == states[r.id].balance_ore
                assert states[r.id].fees_ore in (0, 6000)
                assert (
                    alloc.fees_paid + alloc.interest_paid + alloc.principal_paid <= max(states[r.id].paid_ore, 0)
                    or states[r.id].paid_ore < 0
                )

    check()
