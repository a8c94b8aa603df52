"""Time travel: one invoice walked through due, overdue, reminders, partial payment, collection, final payment."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend_stub.core import Core
from backend_stub.domain.dunning import reminder_fee
from backend_stub.domain.lifecycle_terms import DunningTerms
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.lifecycle import dunning, ledger, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge, OutboxMessage
from tests.lifecycle_support import bill_october, set_customer

DUE = date(2026, 12, 1)
RATE = Decimal("9.75")  # reference rate 1.75 % (from 2026-01-01) + 8 percentage points


def _interest(principal: int, days: int) -> int:
    return int((Decimal(principal) * RATE / 100 / 365 * days).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _counts(core: Core) -> tuple[int, int, int, int]:
    with core.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(m.InvoiceEvent)).scalar_one(),
            conn.execute(select(func.count()).select_from(InvoiceCharge)).scalar_one(),
            conn.execute(select(func.count()).select_from(OutboxMessage)).scalar_one(),
            conn.execute(select(func.count()).select_from(m.Payment)).scalar_one(),
        )


def _pay(core: Core, inv_id: str, amount: int, on: date, ref: str) -> None:
    with core.engine.begin() as conn:
        assert ledger.record_payment(
            conn,
            invoice_id=inv_id,
            reference=ref,
            method="bankgiro",
            amount_ore=amount,
            received_at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
        )


@pytest.mark.parametrize(
    ("terms_fee", "agreed", "charged", "fee"),
    [
        (6000, True, False, 6000),  # agreed, none charged yet: the terms' fee with reminder 1
        (4500, True, False, 4500),
        (9000, True, False, 6000),  # never above the cap (60 kr by law)
        (6000, False, False, 0),  # the customer's terms did not agree to a fee
        (6000, True, True, 0),  # at most once per invoice
        (0, True, False, 0),  # terms without a fee
    ],
)
def test_reminder_fee_rule(terms_fee: int, agreed: bool, charged: bool, fee: int) -> None:
    terms = DunningTerms(reminder_fee_ore=terms_fee)
    assert reminder_fee(terms, fee_agreed=agreed, fee_charged=charged) == fee


def test_walk_an_invoice_through_dunning(core: Core, tmp_path: Path) -> None:
    invs = bill_october(core)
    inv = invs["K1"]
    assert inv.due_date == DUE
    amount = inv.amount_due_ore
    _pay(core, invs["K2"].id, invs["K2"].amount_due_ore, date(2026, 11, 20), "k2-paid")  # only K1 is dunned
    cfg = LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "inkasso")

    def run(day: date) -> dunning.DunningResult:
        return dunning.run_dunning(core.engine, cfg, today=day)

    def doc(day: date) -> dict:
        return get_invoice(core.engine, inv.id, today=day)

    # due date: nothing happens yet; the next steps are announced
    assert run(DUE).as_dict()["overdue"] == 0
    assert doc(DUE)["status"] == "unpaid"
    steps = dunning.next_steps(core.engine, cfg, inv.id, today=DUE, lang="en")["steps"]
    assert [s["action"] for s in steps] == ["overdue", "reminder_1", "reminder_2", "collection"]
    assert steps[1] == {
        "date": "2026-12-11",
        "action": "reminder_1",
        "fee_ore": 6000,
        "text": "If unpaid on 11 December 2026, a reminder with a 60.00\u00a0kr fee is sent.",
    }
    assert dunning.next_steps(core.engine, cfg, inv.id, today=DUE)["steps"][1]["text"] == (
        "Om fakturan är obetald 11 december 2026 skickas en påminnelse med 60,00\u00a0kr i avgift."
    )

    # the day after: overdue, one day of interest
    r = run(date(2026, 12, 2))
    assert (r.overdue, r.interest_ore, r.reminder_1) == (1, _interest(amount, 1), 0)
    d = doc(date(2026, 12, 2))
    assert d["status"] == "overdue" and d["balance_ore"] == amount + _interest(amount, 1)
    assert d["timeline"][-1]["kind"] == "overdue"

    # day 10 after due: reminder 1 with the 60 kr fee, e-mailed
    r = run(date(2026, 12, 11))
    assert (r.reminder_1, r.fees_ore, r.messages) == (1, 6000, 1)
    d = doc(date(2026, 12, 11))
    assert d["status"] == "reminded"
    assert d["balance_ore"] == amount + 6000 + _interest(amount, 10)
    assert "Påminnelse 1 skickad med påminnelseavgift 60,00" in d["timeline"][-1]["text"]
    sent = messaging.list_outbox(core.engine, to="anna@example.se")
    assert sent[0]["subject"] == f"Påminnelse 1: faktura {inv.number}" and "60,00" in sent[0]["text"]

    # the same day again: nothing changes
    before = _counts(core)
    again = run(date(2026, 12, 11))
    assert (again.overdue, again.interest, again.reminder_1, again.fees, again.messages) == (0, 0, 0, 0, 0)
    assert _counts(core) == before

    # partial payment of 100 kr on 15 December: fee first, then interest, then the invoice
    interest_14 = _interest(amount, 13)  # 2 to 14 December
    run(date(2026, 12, 14))
    _pay(core, inv.id, 10000, date(2026, 12, 15), "bg-1")
    d = doc(date(2026, 12, 15))
    assert d["balance_ore"] == amount + 6000 + interest_14 - 10000
    principal_left = amount - (10000 - 6000 - interest_14)
    with core.engine.connect() as conn:
        from backend_stub.services.lifecycle.payments import invoice_allocation

        alloc = invoice_allocation(conn, conn.execute(select(m.Invoice).where(m.Invoice.id == inv.id)).one())
    assert (alloc.fees_open, alloc.interest_open, alloc.principal_open) == (0, 0, principal_left)
    assert d["status"] == "reminded"

    # reminder 2 (no fee) on day 24, interest now on the smaller principal
    r = run(date(2026, 12, 25))
    assert (r.reminder_2, r.fees) == (1, 0)
    # collection on day 45
    assert run(date(2027, 1, 14)).collection == 0
    r = run(date(2027, 1, 15))
    assert r.collection == 1 and r.collection_file
    d = doc(date(2027, 1, 15))
    assert d["status"] == "in_collection"
    with open(r.collection_file, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["invoice_number"] for row in rows] == [inv.number]
    assert int(rows[0]["balance_ore"]) == d["balance_ore"] and rows[0]["customer_number"] == "K1"
    # respite is refused in collection
    with pytest.raises(dunning.RespiteRefused, match="in collection"):
        dunning.request_respite(core.engine, cfg, inv.id, 7, actor="customer", today=date(2027, 1, 16))

    # the final payment pays everything: the process stops
    final = doc(date(2027, 1, 20))["balance_ore"]
    run(date(2027, 1, 20))
    final = doc(date(2027, 1, 20))["balance_ore"]
    _pay(core, inv.id, final, date(2027, 1, 20), "bg-2")
    d = doc(date(2027, 1, 21))
    assert (d["status"], d["balance_ore"]) == ("paid", 0)
    before = _counts(core)
    r = run(date(2027, 2, 1))
    assert (r.interest, r.reminder_1, r.reminder_2, r.collection) == (0, 0, 0, 0)
    assert _counts(core) == before
    kinds = [e["kind"] for e in d["timeline"]]
    for k in ("created", "overdue", "reminder_sent", "payment_received", "collection"):
        assert k in kinds
    assert all(e["texts"]["en"] and e["texts"]["sv"] for e in d["timeline"])
    # every charge is in the balance: invoiced + fees + interest - paid = 0
    with core.engine.connect() as conn:
        charged = conn.execute(
            select(func.sum(InvoiceCharge.amount_ore)).where(InvoiceCharge.invoice_id == inv.id)
        ).scalar_one()
    assert amount + charged == 10000 + final


def test_no_fee_without_agreement_and_respite_moves_the_steps(core: Core, tmp_path: Path) -> None:
    invs = bill_october(core)
    set_customer(core, "K2", reminder_fee_agreed=False)
    inv = invs["K2"]
    _pay(core, invs["K1"].id, invs["K1"].amount_due_ore, date(2026, 11, 20), "k1-paid")  # only K2 is dunned
    cfg = LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "inkasso")
    out = dunning.request_respite(core.engine, cfg, inv.id, 7, actor="customer", today=date(2026, 11, 20))
    assert out["respite"] == {"allowed": False, "max_days": 14, "reason": "already granted", "granted_days": 7}
    assert [s["date"] for s in out["steps"] if s["action"] == "reminder_1"] == ["2026-12-18"]
    with pytest.raises(dunning.RespiteRefused, match="already granted"):
        dunning.request_respite(core.engine, cfg, inv.id, 3, actor="customer", today=date(2026, 11, 21))
    assert dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 11)).reminder_1 == 0
    r = dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 18))
    assert (r.reminder_1, r.fees) == (1, 0)
    d = get_invoice(core.engine, inv.id, today=date(2026, 12, 18), lang="en")
    assert "Reminder 1 sent (no fee)." in [e["text"] for e in d["timeline"]]
    assert any(e["kind"] == "respite" and e["text"].startswith("Respite granted: 7 more days") for e in d["timeline"])
    sms = messaging.list_outbox(core.engine, channel="sms")
    assert sms and sms[0]["text"].startswith("Påminnelse 1")


def test_bad_respite_days_are_refused(core: Core) -> None:
    invs = bill_october(core)
    with pytest.raises(dunning.RespiteRefused, match="days: must be 1 to 14"):
        dunning.request_respite(core.engine, LifecycleConfig(), invs["K1"].id, 30, actor="x", today=date(2026, 11, 5))
