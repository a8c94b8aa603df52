"""Storage and services on SQLite and PostgreSQL: import, suspense, re-rating, bill run, credit notes."""

from __future__ import annotations

import io
import random
import threading

from sqlalchemy import func, select

from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing import billrun, credit_notes, invoices
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES

HEADER = "record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country\n"


def load_customers(core) -> None:
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        result = import_customers(core.engine, core.catalogue, read_customers_csv(fh))
    assert result.errors == []
    assert (result.customers, result.subscriptions) == (2, 3)


def import_text(core, text: str, source: str = "test.csv"):
    return UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(io.StringIO(text)), source)


def charges(core) -> dict[str, int]:
    with core.engine.connect() as conn:
        return {
            r.record_id: r.charge_exact for r in conn.execute(select(m.UsageEvent.record_id, m.UsageEvent.charge_exact))
        }


def test_import_counts_add_up_and_duplicates_are_no_ops(core):
    load_customers(core)
    text = (FIXTURES / "cdrs.csv").read_text()
    bad = (
        "b-1,+46701234567,voice,2026-10-03T14:22:05+02:00,-5,,+46812345678,\n"
        "b-2,+46700000000,sms,2026-10-03T14:25:00+02:00,,,+46739876543,\n"
        "b-3,+46701234567,voice,not-a-time,10,,+46812345678,\n"
        "b-4,+46701234567,voice,2026-10-03T14:22:05+02:00,10,,+999,\n"
        "c-0001,+46701234567,voice,2026-10-03T14:22:05+02:00,125,,+46812345678,\n"
    )
    first = import_text(core, text + bad)
    assert (first.read, first.rated, first.duplicate, first.rejected) == (14, 9, 1, 4)
    assert first.read == first.rated + first.duplicate + first.rejected
    reasons = {e["record_id"]: (e["line"], e["field"]) for e in first.errors}
    assert reasons["b-1"] == (11, "duration_s")
    assert reasons["b-2"] == (12, "msisdn")
    assert reasons["b-3"] == (13, "started_at")
    assert reasons["b-4"] == (14, "called_number")
    again = import_text(core, text + bad)
    assert (again.rated, again.duplicate, again.rejected) == (0, 14, 0)
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.UsageEvent)).scalar_one() == 9
        assert conn.execute(select(func.count()).select_from(m.SuspenseRecord)).scalar_one() == 4


def test_suspense_is_kept_and_reprocessed_after_the_cause_is_fixed(core):
    load_customers(core)
    result = import_text(core, HEADER + "x-1,+46705550000,voice,2026-10-03T14:22:05+02:00,61,,+46812345678,\n")
    assert result.rejected == 1 and "unknown MSISDN" in result.errors[0]["reason"]
    retry = UsageImporter(core.engine, core.catalogue).reprocess_suspense()
    assert (retry.read, retry.rated, retry.rejected) == (1, 0, 1)  # still unknown: stays in suspense
    rows = [
        (
            2,
            {
                "customer_number": "K9",
                "subscription_id": "S9",
                "name": "Cecilia Ek",
                "msisdn": "+46705550000",
                "plan": "mobil-5gb",
                "start_date": "2026-01-01",
            },
        )
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    retry = UsageImporter(core.engine, core.catalogue).reprocess_suspense()
    assert (retry.read, retry.rated, retry.rejected) == (1, 1, 0)
    with core.engine.connect() as conn:
        statuses = list(conn.execute(select(m.SuspenseRecord.status)).scalars())
    assert statuses == ["resolved"]  # the same row, kept with its history


def test_arrival_order_does_not_change_charges(core, db_url):
    load_customers(core)
    lines = (FIXTURES / "cdrs.csv").read_text().splitlines()[1:]
    # More events than the 5 GB allowance holds, so the order of consumption matters.
    lines += [
        f"d-{i},+46701234567,data,2026-10-{(i % 28) + 1:02d}T1{i % 10}:00:00+02:00,,{400_000_000 + i},,"
        for i in range(20)
    ]
    random.Random(3).shuffle(lines)
    half = len(lines) // 2
    import_text(core, HEADER + "\n".join(lines[half:]) + "\n")
    second = import_text(core, HEADER + "\n".join(lines[:half]) + "\n")
    assert second.rerated > 0  # earlier events arrived late: the open period was re-rated
    shuffled = charges(core)

    from backend_stub.core import Core
    from backend_stub.storage.db import make_engine

    other_url = db_url.replace("selfcare.db", "ordered.db") if db_url.startswith("sqlite") else None
    if other_url:
        other = Core(make_engine(other_url))
        load_customers(other)
        import_text(other, HEADER + "\n".join(sorted(lines, key=lambda ln: ln.split(",")[3])) + "\n")
        assert charges(other) == shuffled
        other.engine.dispose()
    assert sum(1 for v in shuffled.values() if v > 0) >= 5


def test_bill_run_invoices_every_account_once_with_contiguous_numbers(core):
    load_customers(core)
    import_text(core, (FIXTURES / "cdrs.csv").read_text())
    first = billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    assert first.invoices == 2 and first.numbers == ["100001", "100002"]
    again = billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    assert again.invoices == 0
    docs = invoices.invoices_for_period(core.engine, "2026-10")
    assert [d["number"] for d in docs] == ["100001", "100002"]
    for doc in docs:
        assert sum(ln["amount_ore"] for ln in doc["lines"]) == doc["gross_ore"]
        assert doc["amount_due_ore"] == doc["gross_ore"] + doc["rounding_ore"]
        assert doc["amount_due_ore"] % 100 == 0  # öresavrundning to whole kronor
        assert doc["invoice_date"] == "2026-11-01" and doc["due_date"] == "2026-12-01"
    k2 = next(d for d in docs if d["customer_number"] == "K2")
    kinds = [ln["kind"] for ln in k2["lines"]]
    # Plan change on 15 Oct: two prorated fee lines (14 and 17 days of 31), broadband fee and its discount.
    fees = [ln for ln in k2["lines"] if ln["kind"] == "fee"]
    assert [f["amount_ore"] for f in fees] == [4471, 16397, 44900]  # 99×14/31 = 44.71, 299×17/31 = 163.97, 449
    assert "discount" in kinds
    assert next(ln for ln in k2["lines"] if ln["kind"] == "discount")["amount_ore"] == -44900
    with core.engine.connect() as conn:
        unbilled = conn.execute(
            select(func.count()).select_from(m.UsageEvent).where(m.UsageEvent.invoice_id.is_(None))
        ).scalar_one()
    assert unbilled == 0


def test_killed_bill_run_resumes_without_gaps_or_duplicates(core):
    rows = [
        (
            i + 2,
            {
                "customer_number": f"K{i:03d}",
                "subscription_id": f"S{i:03d}",
                "name": f"Kund {i}",
                "msisdn": f"+4670100{i:04d}",
                "plan": "mobil-5gb",
                "start_date": "2026-01-01",
            },
        )
        for i in range(12)
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    partial = billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=5, stop_after_batches=1)
    assert partial.invoices == 5
    rest = billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=5)
    assert rest.invoices == 7
    with core.engine.connect() as conn:
        numbers = sorted(int(n) for n in conn.execute(select(m.Invoice.number)).scalars())
    assert numbers == list(range(100001, 100013))


def test_concurrent_bill_runs_share_the_work_without_duplicates(core):
    rows = [
        (
            i + 2,
            {
                "customer_number": f"K{i:03d}",
                "subscription_id": f"S{i:03d}",
                "name": f"Kund {i}",
                "msisdn": f"+4670200{i:04d}",
                "plan": "mobil-20gb",
                "start_date": "2026-01-01",
            },
        )
        for i in range(40)
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    results = []
    errors = []

    def run():
        try:
            results.append(billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.invoices for r in results) == 40
    with core.engine.connect() as conn:
        numbers = sorted(int(n) for n in conn.execute(select(m.Invoice.number)).scalars())
        per_customer = conn.execute(select(m.Invoice.customer_id, func.count()).group_by(m.Invoice.customer_id)).all()
    assert numbers == list(range(100001, 100041))
    assert all(count == 1 for _cid, count in per_customer)


def test_late_events_go_on_the_next_invoice_with_what_was_left_of_the_allowance(core):
    load_customers(core)
    # 4.9 GB used in October, invoiced; then a late 0.3 GB October session arrives.
    import_text(core, HEADER + "a-1,+46701234567,data,2026-10-05T10:00:00+02:00,,4900000000,,\n")
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    late = import_text(core, HEADER + "a-2,+46701234567,data,2026-10-30T10:00:00+01:00,,300000000,,\n")
    assert late.rated == 1
    with core.engine.connect() as conn:
        ev = conn.execute(select(m.UsageEvent).where(m.UsageEvent.record_id == "a-2")).one()
    assert ev.late and ev.included_units == 100_000_000 and ev.charged_units == 200_000_000
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11")
    nov = invoices.invoices_for_period(core.engine, "2026-11")
    k1 = next(d for d in nov if d["customer_number"] == "K1")
    late_lines = [ln for ln in k1["lines"] if ln["kind"] == "late_usage"]
    assert len(late_lines) == 1 and late_lines[0]["period"] == "2026-10"
    assert late_lines[0]["amount_ore"] == 580  # 0.2 GB at 29.00 kr/GB = 5.80 kr
    assert "2026-10" in late_lines[0]["description"]


def test_credit_note_changes_balance_and_timeline_not_the_invoice(core):
    load_customers(core)
    import_text(core, (FIXTURES / "cdrs.csv").read_text())
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    doc = invoices.invoices_for_period(core.engine, "2026-10")[0]
    note = credit_notes.create_credit_note(
        core.engine,
        core.catalogue,
        doc["id"],
        credit_notes.CreditRequest(reason="Fel taxa", amount_ore=5000, actor="agent:1"),
    )
    assert note["kind"] == "credit_note" and note["number"] == "900001" and note["credits_invoice"] == doc["number"]
    assert note["gross_ore"] == -5000 and note["vat"][0]["vat_ore"] == -1000
    after = invoices.get_invoice(core.engine, doc["id"])
    assert after["amount_due_ore"] == doc["amount_due_ore"]  # the issued invoice never changes
    assert after["balance_ore"] == doc["amount_due_ore"] - 5000
    assert after["timeline"][-1]["kind"] == "corrected"
    assert "Nytt belopp" in after["timeline"][-1]["text"]
    full = credit_notes.create_credit_note(
        core.engine,
        core.catalogue,
        doc["id"],
        credit_notes.CreditRequest(reason="Resten", amount_ore=after["balance_ore"]),
    )
    assert full["number"] == "900002"
    assert invoices.get_invoice(core.engine, doc["id"])["status"] == "credited"


def test_payments_are_idempotent_and_overpayment_becomes_credit_used_next_time(core):
    load_customers(core)
    billrun.run_bill_run(core.engine, core.catalogue, "2026-09")
    sept = invoices.invoices_for_period(core.engine, "2026-09")
    k1 = next(d for d in sept if d["customer_number"] == "K1")
    with core.engine.begin() as conn:
        assert ledger.record_payment(
            conn, invoice_id=k1["id"], reference="bank-1", method="bankgiro", amount_ore=k1["amount_due_ore"] + 5000
        )
        assert not ledger.record_payment(
            conn, invoice_id=k1["id"], reference="bank-1", method="bankgiro", amount_ore=k1["amount_due_ore"] + 5000
        )
    assert invoices.get_invoice(core.engine, k1["id"])["balance_ore"] == -5000
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    octo = next(d for d in invoices.invoices_for_period(core.engine, "2026-10") if d["customer_number"] == "K1")
    assert octo["balance_ore"] == octo["amount_due_ore"] - 5000
    assert invoices.get_invoice(core.engine, k1["id"])["balance_ore"] == 0
    timeline = invoices.get_invoice(core.engine, octo["id"])["timeline"]
    assert any(e["kind"] == "credit_applied" for e in timeline)


def test_parallel_rating_gives_the_same_result_as_serial(core, monkeypatch, tmp_path):
    """Large CLI imports rate in a forked child; the stored result must be identical."""
    from backend_stub.services.billing import usage as usage_module

    load_customers(core)
    lines = [
        f"p-{i},+4670{'1234567' if i % 2 else '9876543'},data,2026-10-{(i % 28) + 1:02d}T12:{i % 60:02d}:00+02:00,,"
        f"{(i * 7919) % 900_000_000},,"
        for i in range(300)
    ]
    lines += [f"p-bad-{i},+46700000000,sms,2026-10-02T12:00:00+02:00,,,+46739876543," for i in range(3)]
    text = HEADER + "\n".join(lines) + "\n"
    monkeypatch.setattr(usage_module, "PARALLEL_MIN_EVENTS", 10)
    importer = UsageImporter(core.engine, core.catalogue, parallel=True)
    result = importer.import_rows(read_cdr_csv(io.StringIO(text)), "parallel.csv")
    assert (result.read, result.rated, result.rejected) == (303, 300, 3)
    parallel = charges(core)

    from backend_stub.core import Core
    from backend_stub.storage.db import make_engine

    other = Core(make_engine(f"sqlite:///{tmp_path / 'serial.db'}"))
    load_customers(other)
    UsageImporter(other.engine, other.catalogue).import_rows(read_cdr_csv(io.StringIO(text)), "serial.csv")
    assert charges(other) == parallel
    other.engine.dispose()
