"""The bill run with one-off charges, add-on purchases and instalments (SQLite and PostgreSQL).

What an invoice bills is claimed in the invoice's own transaction: a bill run killed between
batches, or failing inside one, and run again bills every charge, purchase and instalment
month exactly once.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime

import pypdf
import pytest
from sqlalchemy import func, select

from backend_stub import clock
from backend_stub.formats.invoice_pdf import render_invoice_pdf
from backend_stub.services.billing import billrun, billrun_extras, invoices
from backend_stub.services.billing.customers import import_customers
from backend_stub.services.charges import addons, instalments, one_offs
from backend_stub.storage.models import billing as m
from backend_stub.storage.models import charges as cm

OCT_14 = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)


def customers(core, n: int, *, end_date: str = "") -> list[int]:
    rows = [
        (
            i + 2,
            {
                "customer_number": f"K{i:03d}",
                "subscription_id": f"S{i:03d}",
                "name": f"Kund {i}",
                "email": f"kund{i}@example.se",
                "msisdn": f"+4670100{i:04d}",
                "plan": "mobil-5gb",
                "start_date": "2026-01-01",
                "end_date": end_date,
            },
        )
        for i in range(n)
    ]
    assert import_customers(core.engine, core.catalogue, rows).errors == []
    with core.engine.connect() as conn:
        return list(conn.execute(select(m.Customer.id).order_by(m.Customer.id)).scalars())


def subscription_of(core, customer_id: int) -> int:
    with core.engine.connect() as conn:
        return conn.execute(select(m.Subscription.id).where(m.Subscription.customer_id == customer_id)).scalar_one()


def give_everything(core, cid: int) -> None:
    """A SIM swap charge, an add-on bought on 14 October and a phone on instalment from October."""
    sid = subscription_of(core, cid)
    one_offs.add_charge(
        core.engine,
        cid,
        description="Byte av SIM-kort",
        amount_ore=9_900,
        reason="tappat kortet",
        actor="agent:anna",
        subscription_id=sid,
    )
    addons.buy_addon(core.engine, core.catalogue, sid, "extra-5gb", now=OCT_14)
    instalments.create_instalment(
        core.engine,
        core.catalogue,
        cid,
        subscription_id=sid,
        device_id="nordphone-12",
        months=24,
        start_period="2026-10",
        actor="agent:anna",
    )


def line_kinds(core, period: str) -> dict[str, list[str]]:
    return {
        d["customer_number"]: [ln["kind"] for ln in d["lines"]]
        for d in invoices.invoices_for_period(core.engine, period)
    }


def check_billed_once(core, ids: list[int]) -> None:
    with core.engine.connect() as conn:
        inv_of = {r.customer_id: r.id for r in conn.execute(select(m.Invoice.customer_id, m.Invoice.id))}
        assert len(inv_of) == len(ids)
        for table in (cm.OneOffCharge, cm.AddonPurchase):
            rows = list(conn.execute(select(table.customer_id, table.invoice_id, table.status)))
            assert len(rows) == len(ids)
            assert all(r.invoice_id == inv_of[r.customer_id] and r.status == "invoiced" for r in rows)
        bills = list(conn.execute(select(cm.InstalmentBill.invoice_id, cm.InstalmentBill.first_month)))
        assert sorted(b.invoice_id for b in bills) == sorted(inv_of.values())
        assert {b.first_month for b in bills} == {1}
        assert set(conn.execute(select(cm.Instalment.months_billed)).scalars()) == {1}
        assert set(conn.execute(select(cm.Instalment.paid_ore)).scalars()) == {33_292}
        numbers = sorted(int(n) for n in conn.execute(select(m.Invoice.number)).scalars())
    assert numbers == list(range(100001, 100001 + len(ids)))
    for kinds in line_kinds(core, "2026-10").values():
        assert sorted(kinds) == ["addon", "fee", "instalment", "one_off"]


def test_killed_bill_run_bills_each_charge_purchase_and_month_once(core):
    ids = customers(core, 12)
    for cid in ids:
        give_everything(core, cid)
    partial = billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=5, stop_after_batches=1)
    assert partial.invoices == 5
    rest = billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=5)
    assert rest.invoices == 7
    again = billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=5)
    assert again.invoices == 0
    check_billed_once(core, ids)


def test_a_batch_that_fails_half_way_leaves_nothing_claimed(core, monkeypatch):
    ids = customers(core, 8)
    for cid in ids:
        give_everything(core, cid)
    real = billrun_extras.claim_extras
    calls = {"n": 0}

    def crash_on_the_sixth(conn, extra, inv_id):
        calls["n"] += 1
        if calls["n"] == 6:  # the second batch, after its invoices were inserted
            raise RuntimeError("power cut")
        return real(conn, extra, inv_id)

    monkeypatch.setattr(billrun_extras, "claim_extras", crash_on_the_sixth)
    with pytest.raises(RuntimeError, match="power cut"):
        billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=4)
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Invoice)).scalar_one() == 4
        pending = conn.execute(
            select(func.count()).select_from(cm.OneOffCharge).where(cm.OneOffCharge.invoice_id.is_(None))
        ).scalar_one()
        assert pending == 4
        assert conn.execute(select(func.count()).select_from(cm.InstalmentBill)).scalar_one() == 4
    monkeypatch.setattr(billrun_extras, "claim_extras", real)
    assert billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=4).invoices == 4
    check_billed_once(core, ids)


def test_concurrent_bill_runs_bill_each_charge_once(core):
    ids = customers(core, 10)
    for cid in ids:
        give_everything(core, cid)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            billrun.run_bill_run(core.engine, core.catalogue, "2026-10", batch_size=3)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check_billed_once(core, ids)


def test_charges_go_on_the_next_invoice_and_purchases_on_their_period(core):
    [cid] = customers(core, 1)
    sid = subscription_of(core, cid)
    # Bought in November, before the October bill run: it belongs to November's invoice.
    addons.buy_addon(core.engine, core.catalogue, sid, "extra-1gb", now=datetime(2026, 11, 3, 9, tzinfo=UTC))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    assert line_kinds(core, "2026-10") == {"K000": ["fee"]}
    # A charge added after October's invoice: on November's.
    one_offs.add_charge(
        core.engine, cid, description="Pappersfaktura", amount_ore=2_900, reason="brev", actor="agent:anna"
    )
    one_offs.add_charge(
        core.engine,
        cid,
        description="Kompensation för avbrott",
        amount_ore=-5_000,
        reason="avbrott 2 dagar",
        actor="agent:anna",
        vat_rate="0.25",
    )
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11")
    [nov] = invoices.invoices_for_period(core.engine, "2026-11")
    assert [(ln["kind"], ln["amount_ore"]) for ln in nov["lines"]] == [
        ("fee", 19_900),
        ("addon", 1_900),
        ("one_off", 2_900),
        ("one_off", -5_000),
    ]
    # 199 + 19 + 29 − 50 = 197,00 kr
    assert nov["gross_ore"] == 19_700 and nov["amount_due_ore"] == 19_700
    full = invoices.get_invoice(core.engine, nov["id"], lang="en")
    texts = [e["text"] for e in full["timeline"]]
    assert "One-off charge: Pappersfaktura, 29.00\u00a0kr." in texts
    assert "Credit: Kompensation för avbrott, -50.00\u00a0kr." in texts
    assert "Add-on bought 3 November 2026: Extra 1 GB this month, 19.00\u00a0kr." in texts
    sv = [e["text"] for e in invoices.get_invoice(core.engine, nov["id"], lang="sv")["timeline"]]
    assert "Tillägg köpt 3 november 2026: Extra 1 GB denna månad, 19,00\u00a0kr." in sv
    listed = one_offs.list_charges(core.engine, cid)["charges"]
    assert {c["status"] for c in listed} == {"invoiced"} and {c["invoice_id"] for c in listed} == {nov["id"]}


def test_ended_subscription_keeps_the_instalment_until_paid_off(core):
    with clock.use(clock.FrozenClock("2026-10-01")) as frozen:
        _ended_subscription_keeps_the_instalment(core, frozen)


def _ended_subscription_keeps_the_instalment(core, frozen):
    [cid] = customers(core, 1, end_date="2026-10-20")
    sid = subscription_of(core, cid)
    instalments.create_instalment(
        core.engine,
        core.catalogue,
        cid,
        subscription_id=sid,
        device_id="fjall-a5",
        months=12,
        start_period="2026-10",
        actor="agent:anna",
    )
    frozen.set(date(2026, 11, 1))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    # 2 490 kr / 12 = 207,50 a month (the last month too).
    assert [k for k in line_kinds(core, "2026-10")["K000"]] == ["fee", "instalment"]
    frozen.set(date(2026, 12, 1))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-11")  # no plan any more: the phone still comes
    [nov] = invoices.invoices_for_period(core.engine, "2026-11")
    assert [(ln["kind"], ln["amount_ore"], ln["msisdn"]) for ln in nov["lines"]] == [
        ("instalment", 20_750, "+46701000000")
    ]
    assert nov["instalments"][0] | {"instalment_id": 0} == {
        "instalment_id": 0,
        "device_name": "Fjäll A5 64 GB",
        "months": 12,
        "first_month": 2,
        "last_month": 2,
        "amount_ore": 20_750,
        "total_ore": 249_000,
        "paid_ore": 41_500,
        "remaining_ore": 207_500,
        "months_left": 10,
        "payoff": False,
        "subscription_id": sid,
    }
    # The PDF shows the month and what is paid and left.
    pdf = render_invoice_pdf(invoices.get_invoice(core.engine, nov["id"]))
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Delbetalning Fjäll A5 64 GB, månad 2 av 12" in text and "kvar 2" in text and "075,00" in text
    [inst] = instalments.list_instalments(core.engine, cid)["instalments"]
    frozen.set(date(2026, 12, 10))
    out = instalments.payoff(core.engine, inst["id"], actor="agent:anna")
    assert (out["status"], out["remaining_ore"], out["payoff_pending"]) == ("paid_off", 207_500, True)
    with pytest.raises(instalments.Conflict, match="status: .* already paid off"):
        instalments.payoff(core.engine, inst["id"], actor="agent:anna")
    frozen.set(date(2027, 1, 1))
    billrun.run_bill_run(core.engine, core.catalogue, "2026-12")
    [dec] = invoices.invoices_for_period(core.engine, "2026-12")
    assert [(ln["kind"], ln["amount_ore"]) for ln in dec["lines"]] == [("instalment", 207_500)]
    assert "Fjäll A5 64 GB slutbetalas i förtid" in invoices.get_invoice(core.engine, dec["id"])["timeline"][0]["text"]
    [inst] = instalments.list_instalments(core.engine, cid)["instalments"]
    assert (inst["paid_ore"], inst["remaining_ore"], inst["months_left"], inst["payoff_pending"]) == (
        249_000,
        0,
        0,
        False,
    )
    billrun.run_bill_run(
        core.engine, core.catalogue, "2027-01", today=date(2027, 2, 1)
    )  # nothing left to bill: no invoice
    assert invoices.invoices_for_period(core.engine, "2027-01") == []


def test_pending_charge_can_be_deleted_an_invoiced_one_cannot(core):
    [cid] = customers(core, 1)
    a = one_offs.add_charge(
        core.engine, cid, description="Fel avgift", amount_ore=4_900, reason="test", actor="agent:anna"
    )
    b = one_offs.add_charge(
        core.engine, cid, description="Byte av SIM-kort", amount_ore=9_900, reason="test", actor="agent:anna"
    )
    one_offs.delete_charge(core.engine, a["id"], actor="agent:anna")
    with pytest.raises(one_offs.NotFound):
        one_offs.delete_charge(core.engine, a["id"], actor="agent:anna")
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10")
    with pytest.raises(one_offs.Conflict, match="already on an invoice"):
        one_offs.delete_charge(core.engine, b["id"], actor="agent:anna")
    [oct_] = invoices.invoices_for_period(core.engine, "2026-10")
    assert [ln["description"] for ln in oct_["lines"]][1:] == ["Byte av SIM-kort"]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"description": " ", "amount_ore": 100, "reason": "r"}, "description"),
        ({"description": "d", "amount_ore": 0, "reason": "r"}, "amount_ore"),
        ({"description": "d", "amount_ore": 100, "reason": ""}, "reason"),
        ({"description": "d", "amount_ore": 100, "reason": "r", "vat_rate": "25"}, "vat_rate"),
        ({"description": "d", "amount_ore": 100, "reason": "r", "subscription_id": 999}, "subscription_id"),
    ],
)
def test_bad_charges_name_the_field(core, kwargs, field):
    [cid] = customers(core, 1)
    with pytest.raises(ValueError, match=f"^{field}:"):
        one_offs.add_charge(core.engine, cid, actor="agent:anna", **kwargs)
    assert one_offs.list_charges(core.engine, cid) == {"charges": []}
