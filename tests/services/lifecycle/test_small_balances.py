"""Small balances (rules §5): below the minimum never reminded; past due, carried to the next invoice or
written off, with a timeline event on the old invoice and the right bookkeeping."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from backend_stub.core import Core
from backend_stub.formats.sie import Trans
from backend_stub.services.billing import billrun, invoices
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.lifecycle import dunning
from backend_stub.services.lifecycle.bookkeeping import verifications
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from tests.conftest import FIXTURES
from tests.services.billing.test_credit_rounding import _line, issue_invoice, pay

MINIMUM = LifecycleConfig().dunning.small_balance_ore  # 10 kr by default


def test_small_balances_are_not_dunned_then_carried_or_written_off(core: Core, tmp_path) -> None:
    assert MINIMUM == 1_000
    cfg = LifecycleConfig(print_dir=tmp_path / "p", collection_dir=tmp_path / "c")
    # K1 (active subscription) owes 5,00 of 219,00 due 2026-12-01; K3 (ended 30 Sep) owes 9,00 of 100,00.
    k1 = issue_invoice(core, [_line("Rörlig", 21_900, "fee")], customer_number="K1")
    pay(core, k1, 21_400, "bank-k1")
    header = (FIXTURES / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    ended = io.StringIO(
        f"{header}\nK3,S9,Cecilia Ek,c@example.se,,Gatan 1,111 22,Stockholm,email,+46701112233,"
        "mobil-bas,2025-01-01,2026-09-30,true,,,1\n"
    )
    assert not import_customers(core.engine, core.catalogue, read_customers_csv(ended)).errors
    k2 = issue_invoice(core, [_line("Bas", 10_000, "fee")], customer_number="K3")
    pay(core, k2, 9_100, "bank-k2")
    # K1 also has an invoice not yet due on the bill run day (due 2026-12-20): never carried.
    later = issue_invoice(
        core, [_line("Tillägg", 400, "one_off")], customer_number="K1", invoice_date=date(2026, 11, 20)
    )

    # Dunning far past the due date: no reminder, no fee, no interest on a balance below the minimum.
    result = dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 31))
    assert (result.reminder_1, result.fees_ore, result.interest_ore) == (0, 0, 0)
    assert invoices.get_invoice(core.engine, k1, today=date(2026, 12, 31))["balance_ore"] == 500

    run = billrun.run_bill_run(core.engine, core.catalogue, "2026-11", today=date(2026, 12, 5))
    assert (run.carried, run.written_off) == (1, 1)
    old = invoices.get_invoice(core.engine, k1, today=date(2026, 12, 5))
    assert (old["status"], old["balance_ore"], old["paid_ore"]) == ("carried", 0, 21_400)
    assert old["timeline"][-1]["kind"] == "carried"
    [new] = [d for d in invoices.invoices_for_period(core.engine, "2026-11") if d["customer_number"] == "K1"]
    carried = [ln for ln in new["lines"] if ln["kind"] == "carried"]
    assert [(ln["description"], ln["amount_ore"], ln["vat_rate"]) for ln in carried] == [
        (f"Ej betalt från faktura {k1}", 500, "0")
    ]
    assert new["vat_ore"] == sum(v["vat_ore"] for v in new["vat"] if Decimal(v["rate"]) > 0)  # outside VAT
    gone = invoices.get_invoice(core.engine, k2, today=date(2026, 12, 5))
    assert (gone["status"], gone["balance_ore"]) == ("written_off", 0)
    assert gone["timeline"][-1]["kind"] == "written_off"
    assert invoices.get_invoice(core.engine, later, today=date(2026, 12, 5))["balance_ore"] == 400  # not due: kept

    # Bookkeeping: the carried 5,00 moves inside receivables (no revenue); the 9,00 is a customer loss.
    vers = verifications(core.engine, cfg, date(2026, 1, 1), date(2027, 12, 31))
    [f] = [v for v in vers if v.series == "F" and v.text == f"Faktura {new['number']}"]
    assert Trans("1510", -500) in f.trans and Trans("1510", new["gross_ore"]) in f.trans
    [a] = [v for v in vers if v.series == "A"]
    assert a.trans == [Trans("6351", 900), Trans("1510", -900)]
    # A second bill run carries nothing twice.
    again = billrun.run_bill_run(core.engine, core.catalogue, "2026-11", today=date(2026, 12, 5))
    assert (again.carried, again.written_off) == (0, 0)
