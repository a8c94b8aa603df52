"""BgMax: Bankgirot's published example file, broken files with clear errors, import and the unmatched queue.

The example is Bankgirot's own ("bankgiroinbetalningar_exempelfil_avtal-om-ocr-kontroll_checksiffra_langd_sv.txt",
published with the BgMax technical manual; see shared/data/bgmax/README.md).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from backend_stub.core import Core
from backend_stub.formats.bgmax import BgMaxError, parse_bgmax
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.lifecycle import ledger, payments
from backend_stub.storage.models import billing as m
from tests.lifecycle_support import bill_october

EXAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "bgmax" / "example-ocr-checksiffra-langd.txt"


def example_lines() -> list[str]:
    return EXAMPLE.read_text(encoding="utf-8").splitlines()


def test_the_published_example_parses_with_its_totals() -> None:
    f = parse_bgmax(EXAMPLE.read_bytes())
    assert (f.version, f.test, f.created_at.isoformat()) == ("01", False, "2004-05-25T17:30:35.010331")
    assert [(d.currency, d.amount_ore, d.payment_count, d.deposit_serial) for d in f.deposits] == [
        ("SEK", 190000, 3, "00074"),
        ("SEK", 800000, 4, "00075"),
        ("EUR", 400000, 2, "00076"),
    ]
    assert (f.payment_records, f.deduction_records, f.extra_reference_records) == (8, 1, 9)
    first = f.deposits[0].payments
    assert (first[0].reference, first[0].amount_ore, first[0].reference_code) == ("655969", 100000, "2")
    assert (first[0].name, first[0].address, first[0].postal_code, first[0].city) == (
        "Kalles Plåt AB",
        "Storgatan 2",
        "12345",
        "Storåker",
    )
    assert first[0].organisation_number == "005500001234" and first[0].payer_bankgiro == "0003783511"
    # the deduction (21) counts negative; the deposit is payments minus deductions
    assert (first[1].record_type, first[1].amount_ore, first[1].deduction_code) == ("21", -50000, "0")
    # a payment with several references, one of them on the line with TAB characters (line 17)
    assert first[2].references == ["657866", "658765", "657767", "657965"]
    assert first[2].information == ["Betalning med extra refnr 657965"]
    assert f.warnings == ["line 17: TAB characters read as spaces to 8-column tab stops"]
    assert f.deposits[0].bank_account == "00000000000000000005841000001009823"
    assert f.deposits[0].payment_date == date(2004, 5, 25)


def _broken(change) -> list[str]:
    lines = example_lines()
    change(lines)
    with pytest.raises(BgMaxError) as exc:
        parse_bgmax("\n".join(lines))
    return exc.value.errors


def test_wrong_deposit_total_is_an_error_naming_the_line() -> None:
    def bump(lines: list[str]) -> None:  # the first payment says 1 000,01 kr
        lines[2] = lines[2][:37] + "000000000000100001" + lines[2][55:]

    errors = _broken(bump)
    assert errors == [
        "line 23: deposit amount 190000 öre differs from the sum of its payments and deductions, 190001 öre"
    ]


def test_wrong_end_counts_unknown_record_bad_amount_and_a_cut_file() -> None:
    def end(lines: list[str]) -> None:
        lines[-1] = "70" + "00000009" + lines[-1][10:]

    assert _broken(end) == ["line 66: the end record says 9 payment records (20), the file has 8"]

    def unknown(lines: list[str]) -> None:
        lines[5] = "99" + lines[5][2:]

    assert _broken(unknown) == ["line 6: unknown record type '99'"]

    def letters(lines: list[str]) -> None:
        lines[2] = lines[2][:40] + "12X4" + lines[2][44:]

    errors = _broken(letters)
    assert errors[0].startswith("line 3: amount (positions 38-55) must be digits")

    def cut(lines: list[str]) -> None:
        del lines[40:]

    assert _broken(cut) == [
        "line 40: the deposit opened on line 24 has no deposit record (15)",
        "line 40: the file has no end record (70); it may be cut short",
    ]

    def orphan(lines: list[str]) -> None:
        lines.insert(1, "26Someone" + " " * 71)

    assert "line 2: record 26 must follow a payment (20) or deduction (21) record" in _broken(orphan)

    with pytest.raises(BgMaxError, match="line 1: a BgMax file starts with record 01"):
        parse_bgmax("hello\n")
    with pytest.raises(BgMaxError, match="empty"):
        parse_bgmax(b"")


def test_iso_8859_1_file_is_read() -> None:
    f = parse_bgmax(EXAMPLE.read_text(encoding="utf-8").encode("iso-8859-1"))
    assert f.deposits[0].payments[0].city == "Storåker"


def test_import_matches_on_ocr_splits_overpays_and_queues_the_rest(core: Core) -> None:
    invs = bill_october(core)
    k1, k2 = invs["K1"], invs["K2"]
    # give the fixture invoices two of the example's OCR references
    with core.engine.begin() as conn:
        conn.execute(update(m.Invoice).where(m.Invoice.id == k1.id).values(ocr="655969"))
        conn.execute(update(m.Invoice).where(m.Invoice.id == k2.id).values(ocr="658260"))
    res = payments.import_bgmax(core.engine, EXAMPLE.read_bytes(), "example.txt")
    assert (res.payments, res.matched, res.unmatched, res.duplicate, res.foreign_currency) == (9, 2, 7, 0, 2)
    # K1: 1 000 kr against its amount: paid, the rest is credit balance
    d1 = get_invoice(core.engine, k1.id)
    assert d1["status"] == "paid" and d1["balance_ore"] == k1.amount_due_ore - 100000
    with core.engine.connect() as conn:
        assert ledger.customer_credit_balance(conn, k1.customer_id) == 100000 - k1.amount_due_ore
    # K2: 5 000 kr naming 658260 + two unknown references: K2's balance is paid, the rest waits for an agent
    d2 = get_invoice(core.engine, k2.id)
    assert d2["status"] == "paid" and d2["balance_ore"] == 0
    queue = payments.list_unmatched(core.engine)
    by_ref = {i["reference"]: i for i in queue["items"]}
    rest = [i for i in queue["items"] if i["reference"].endswith(":rest")]
    assert len(rest) == 1 and rest[0]["amount_ore"] == 500000 - k2.amount_due_ore
    assert rest[0]["references"] == ["658260", "658369", "658468"] and rest[0]["payer"]["name"] == "Kalles Plåt AB"
    assert sum(1 for i in queue["items"] if i["kind"] == "bank_payment" and i["currency"] == "EUR") == 2
    assert any(i["amount_ore"] == -50000 for i in by_ref.values())  # the deduction, never guessed
    # nothing lost: every SEK öre of the file is in payments
    with core.engine.connect() as conn:
        recorded = conn.execute(select(func.sum(m.Payment.amount_ore))).scalar_one()
    assert recorded == 190000 + 800000
    # importing the same file again records nothing
    again = payments.import_bgmax(core.engine, EXAMPLE.read_bytes(), "example-again.txt")
    assert (again.payments, again.duplicate, again.matched, again.unmatched) == (9, 9, 0, 0)
    with core.engine.connect() as conn:
        assert conn.execute(select(func.sum(m.Payment.amount_ore))).scalar_one() == recorded

    # an agent allocates the rest to K1; a second allocation is refused
    out = payments.allocate_payment(core.engine, rest[0]["id"], k1.id, actor="agent:a1")
    assert out["amount_ore"] == rest[0]["amount_ore"]
    with pytest.raises(payments.AllocationError, match="not in the unmatched queue"):
        payments.allocate_payment(core.engine, rest[0]["id"], k1.id, actor="agent:a1")
    tl = get_invoice(core.engine, k1.id, lang="en")["timeline"]
    assert tl[-1]["kind"] == "payment_allocated" and "allocated to this invoice by an agent" in tl[-1]["text"]
    # and refunds K1's credit balance
    with core.engine.connect() as conn:
        credit = ledger.customer_credit_balance(conn, k1.customer_id)
    with pytest.raises(payments.AllocationError, match="credit balance is"):
        payments.refund_credit(core.engine, k1.customer_id, credit + 1, actor="agent:a1", reference="r1")
    assert payments.refund_credit(core.engine, k1.customer_id, credit, actor="agent:a1", reference="r1")["refunded_ore"]
    assert payments.refund_credit(core.engine, k1.customer_id, credit, actor="agent:a1", reference="r1")["duplicate"]
    with core.engine.connect() as conn:
        assert ledger.customer_credit_balance(conn, k1.customer_id) == 0
    # the EUR payment is booked by an agent at the SEK amount the bank credited
    eur = next(i for i in queue["items"] if i["kind"] == "bank_payment")
    payments.allocate_bank_payment(core.engine, eur["id"], k2.id, 3400000, actor="agent:a1")
    assert get_invoice(core.engine, k2.id)["balance_ore"] == -3400000


def test_a_broken_file_records_nothing(core: Core) -> None:
    bill_october(core)
    lines = example_lines()
    lines[-1] = "70" + "00000007" + lines[-1][10:]
    with pytest.raises(BgMaxError):
        payments.import_bgmax(core.engine, "\n".join(lines).encode(), "broken.txt")
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Payment)).scalar_one() == 0
