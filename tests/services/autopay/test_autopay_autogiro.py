"""Autogiro end to end on SQLite and PostgreSQL: mandate out, Bankgirot's answers in, the draw, the
retry and the fallback (timeline checked at each step), dunning on hold, idempotent imports.

The bank's answers are Bankgirot's example files (tests/fixtures/autogiro) where they fit, and
otherwise files written the way Bankgirot writes them (``formats.autogiro.write_*``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from backend_stub.domain import banking
from backend_stub.formats import autogiro as ag
from backend_stub.services.autopay import autogiro_files, mandates
from backend_stub.services.billing import invoices
from backend_stub.services.lifecycle import dunning, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.autopay import AutogiroMandate, AutopayDraw
from tests.conftest import FIXTURES
from tests.lifecycle_support import bill_october

BG = "50501055"  # the catalogue operator's bankgiro 5050-1055
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DUE = date(2026, 12, 1)  # bill_october's due date (a Tuesday)


@pytest.fixture
def cfg(tmp_path) -> LifecycleConfig:
    base = LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "collection")
    return replace(base, autopay=replace(base.autopay, bankgirot_customer_number="471117"))


def _kinds(core, invoice_id: str) -> list[str]:
    return [e["kind"] for e in invoices.get_invoice(core.engine, invoice_id, today=DUE)["timeline"]]


def _doc(core, invoice_id: str, today: date) -> dict:
    return invoices.get_invoice(core.engine, invoice_id, today=today)


def _advice(payer: str, info: str, comment: str, account: str = "8327009384750001") -> bytes:
    return ag.write_mandate_advice(
        ag.MandateAdviceFile(
            date(2026, 11, 23),
            "471117",
            BG,
            [ag.MandateAdvice(BG, payer, account, "197001011233", info, comment, date(2026, 11, 23))],
        )
    )


def _spec(written: datetime, results: list[tuple[str, int, date, str]]) -> bytes:
    section = ag.PaymentSection(
        "15",
        "83270093847500010",
        results[0][2],
        "00001",
        0,
        0,
        [
            ag.PaymentResult("82", when, "0", "", payer, amount, BG, "REF", status)
            for payer, amount, when, status in results
        ],
    )
    return ag.write_payment_spec(ag.PaymentSpecFile(written, "471117", BG, [section]))


def _approved_customer(core, cfg, rows) -> tuple[str, object]:
    """K1 pays by autogiro: mandate sent and approved. Returns (payer number, K1's invoice)."""
    cid = rows["K1"].customer_id
    pm = mandates.set_autogiro(core.engine, cid, "8327", "9384750001", "197001011233", now=NOW)
    assert (pm["method"], pm["status"], pm["autogiro"]["mandate_status"]) == ("autogiro", "pending", "pending")
    out = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, date(2026, 11, 20))
    assert out.counts == {"mandates": 1, "cancellations": 0}
    sent = ag.parse(out.files[-1]["content"].encode(ag.ENCODING))
    assert sent.customer_number == "471117" and sent.bankgiro == "0050501055"
    mandate = sent.mandates[0]
    assert (mandate.action, mandate.clearing, mandate.account, mandate.personal_number) == (
        "create",
        "8327",
        "9384750001",
        "197001011233",
    )
    payer = mandate.payer_number.lstrip("0")
    res = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, _advice(payer, "04", "32"), "medavi.txt")
    assert res.counts["approved"] == 1
    pm = mandates.payment_method(core.engine, cid)
    assert (pm["status"], pm["autogiro"]["mandate_status"], pm["autogiro"]["account"]) == (
        "active",
        "approved",
        "•••• 0001",
    )
    return payer, rows["K1"]


def _order(core, cfg, on: date) -> list[ag.PaymentOrder]:
    out = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, on)
    files = [f for f in out.files if f["kind"] == "payments"]
    return ag.parse(files[-1]["content"].encode(ag.ENCODING)).payments if files else []


def test_bank_account_rules_of_bankernas_kontonummer():
    assert banking.check_account("8327-9", "938 475 000-1") == banking.BankAccount("8327", "9384750001", "Swedbank")
    assert banking.check_account("5000", "1000004").bank == "SEB"  # type 1, comment 1 (modulus 11)
    assert banking.check_account("6000", "100000002").bank == "Handelsbanken"  # type 2, 9 digits
    assert banking.check_account("3300", "1212121212").bank == "Nordea personkonto"  # type 2, modulus 10
    for clearing, account, field_ in [
        ("0100", "1234567", "clearing"),
        ("83", "1", "clearing"),
        ("5000", "1000005", "account"),
        ("5000", "123", "account"),
        ("6000", "100000003", "account"),
        ("3300", "1212121213", "account"),
        ("8327", "12345678901", "account"),
        ("8327-1", "1", "clearing"),
    ]:
        with pytest.raises(banking.AutopayError) as exc:
            banking.check_account(clearing, account)
        assert str(exc.value).startswith(field_ + ":"), (clearing, account, exc.value)
    today = date(2026, 11, 20)
    assert banking.check_personal_number("19700101-1233", today=today) == "197001011233"
    assert banking.check_personal_number("700101-1233", today=today) == "197001011233"  # the century from today
    assert banking.check_personal_number("556012-5790", today=today) == "005560125790"  # an organisation number
    with pytest.raises(banking.AutopayError, match="^personal_number:"):
        banking.check_personal_number("197001011234", today=today)


def test_banking_days_skip_weekends_and_swedish_bank_holidays():
    assert banking.next_banking_day(date(2026, 12, 24)) == date(2026, 12, 28)  # Christmas Eve to Monday
    assert banking.add_banking_days(date(2026, 12, 30), 1) == date(2027, 1, 4)  # New Year's Eve, Day, weekend
    assert not banking.is_banking_day(date(2026, 4, 3)) and not banking.is_banking_day(date(2026, 4, 6))  # Easter
    assert not banking.is_banking_day(date(2026, 6, 19))  # Midsummer Eve
    assert banking.is_banking_day(DUE)


def test_mandate_approved_invoice_drawn_on_due_date_paid_once(core, cfg):
    rows = bill_october(core)
    payer, inv = _approved_customer(core, cfg, rows)
    doc = _doc(core, inv.id, date(2026, 11, 21))
    assert doc["autopay"] == {"method": "autogiro", "status": "scheduled", "draw_date": "2026-12-01", "paid_at": None}
    assert _order(core, cfg, date(2026, 11, 20)) == []  # not within the lead days yet
    orders = _order(core, cfg, date(2026, 11, 27))
    assert [(o.payer_number.lstrip("0"), o.amount_ore, o.payment_date, o.reference) for o in orders] == [
        (payer, inv.amount_due_ore, DUE, inv.ocr)
    ]
    assert _order(core, cfg, date(2026, 11, 27)) == orders  # the same day again: nothing new, the same file
    assert _kinds(core, inv.id)[-1] == "autopay_ordered"
    assert _doc(core, inv.id, date(2026, 11, 28))["autopay"]["status"] == "pending"
    # no reminders while the draw is pending; the manual payer K2 gets them
    result = dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 12))
    assert result.overdue == 1 and "overdue" not in _kinds(core, inv.id)
    assert "overdue" in _kinds(core, rows["K2"].id)
    spec = _spec(datetime(2026, 12, 1, 19, 30), [(payer, inv.amount_due_ore, DUE, "0")])
    res = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, spec, "betspec.txt")
    assert (res.counts["paid"], res.counts["paid_ore"]) == (1, inv.amount_due_ore)
    doc = _doc(core, inv.id, date(2026, 12, 2))
    assert doc["status"] == "paid" and doc["balance_ore"] == 0
    assert doc["payments"][-1]["method"] == "autogiro" and doc["timeline"][-1]["kind"] == "payment_received"
    assert doc["autopay"]["status"] == "paid" and doc["autopay"]["paid_at"].startswith("2026-12-01")
    # the same file again, and the same record in another file: nothing changes
    again = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, spec, "betspec-copy.txt")
    assert again.counts == {"kind": "payment_spec", "duplicate_file": 1}
    other = _spec(datetime(2026, 12, 2, 6, 0), [(payer, inv.amount_due_ore, DUE, "0")])
    assert (
        autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, other, "b2.txt").counts["duplicate_records"]
        == 1
    )
    with core.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(m.Payment).where(m.Payment.invoice_id == inv.id)).scalar_one()
            == 1
        )


def test_failed_draw_is_retried_once_then_falls_back_with_the_timeline_at_each_step(core, cfg):
    rows = bill_october(core)
    payer, inv = _approved_customer(core, cfg, rows)
    _order(core, cfg, date(2026, 11, 27))
    # 1. no cover: a new attempt three banking days later
    spec = _spec(datetime(2026, 12, 1, 19, 30), [(payer, inv.amount_due_ore, DUE, "1")])
    res = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, spec, "spec1.txt", today=DUE)
    assert (res.counts["failed"], res.counts["retrying"]) == (1, 1)
    doc = _doc(core, inv.id, DUE)
    assert doc["timeline"][-1]["kind"] == "autopay_failed"
    assert doc["timeline"][-1]["text"] == (
        "Autogirodragningen 1 december 2026 gick inte igenom (täckning saknades "
        "på kontot). Vi försöker igen 4 december 2026."
    )
    assert doc["timeline"][-1]["texts"]["en"].endswith("We try again on 4 December 2026.")
    assert doc["autopay"] == {"method": "autogiro", "status": "retrying", "draw_date": "2026-12-04", "paid_at": None}
    dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 3))
    assert "overdue" not in _kinds(core, inv.id)  # still held
    # 2. the new attempt goes out in the next payment order file
    orders = _order(core, cfg, date(2026, 12, 2))
    assert [(o.payment_date, o.amount_ore) for o in orders] == [(date(2026, 12, 4), inv.amount_due_ore)]
    assert _kinds(core, inv.id)[-1] == "autopay_ordered"
    assert _doc(core, inv.id, date(2026, 12, 3))["autopay"]["status"] == "pending"
    # 3. no cover again: the retries are used up, the invoice falls back to manual payment
    spec2 = _spec(datetime(2026, 12, 4, 19, 30), [(payer, inv.amount_due_ore, date(2026, 12, 4), "1")])
    res = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, spec2, "spec2.txt", today=date(2026, 12, 4))
    assert res.counts["fallback"] == 1 and res.counts["messages"] == 1
    kinds = _kinds(core, inv.id)
    assert kinds[-2:] == ["autopay_failed", "autopay_fallback"]
    doc = _doc(core, inv.id, date(2026, 12, 4))
    assert "Vi försöker igen" not in doc["timeline"][-2]["text"]
    assert doc["timeline"][-1]["text"].startswith("Den automatiska betalningen fungerade inte. Betala ")
    assert doc["autopay"]["status"] == "failed" and doc["balance_ore"] == inv.amount_due_ore
    mail = messaging.list_outbox(core.engine, invoice_id=inv.id)
    assert mail[0]["key"] == f"autopay-fallback:{inv.id}" and inv.ocr in mail[0]["text"]
    # 4. dunning goes on as for any unpaid invoice
    dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 5))
    assert "overdue" in _kinds(core, inv.id)
    assert mandates.payment_method(core.engine, inv.customer_id)["status"] == "active"  # the mandate still holds


def test_rejected_and_withdrawn_mandates_reach_the_subscriber(core, cfg):
    rows = bill_october(core)
    k2 = rows["K2"].customer_id
    mandates.set_autogiro(core.engine, k2, "5000", "1000004", "197001011233", now=NOW)
    out = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, date(2026, 11, 20))
    payer = ag.parse(out.files[0]["content"].encode(ag.ENCODING)).mandates[0].payer_number.lstrip("0")
    res = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, _advice(payer, "04", "23"), "a.txt")
    assert res.counts["rejected"] == 1 and res.counts["messages"] == 1
    pm = mandates.payment_method(core.engine, k2)
    assert (pm["status"], pm["autogiro"]["mandate_status"]) == ("failed", "rejected")
    assert (
        pm["notice"] == "Banken godkände inte autogiromedgivandet (fel kontonummer). Betala fakturorna själv "
        "tills vidare."
    )
    sms = messaging.list_outbox(core.engine, channel="sms")
    assert "fel kontonummer" in sms[0]["text"]
    # approved, then withdrawn by the payer's bank
    payer, _inv = _approved_customer(core, cfg, rows)
    autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, _advice(payer, "46", "02"), "b.txt")
    pm = mandates.payment_method(core.engine, rows["K1"].customer_id, lang="en")
    assert (pm["status"], pm["autogiro"]["mandate_status"]) == ("failed", "withdrawn")
    assert pm["notice"].startswith("The autogiro mandate has ended")
    assert _order(core, cfg, date(2026, 11, 27)) == []  # no draws on a withdrawn mandate


def test_changing_to_manual_cancels_the_mandate_in_the_next_file(core, cfg):
    rows = bill_october(core)
    payer, inv = _approved_customer(core, cfg, rows)
    pm = mandates.set_manual(core.engine, inv.customer_id, now=NOW)
    assert (pm["method"], pm["status"], pm["autogiro"]) == ("manual", "none", None)
    out = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, date(2026, 11, 24))
    assert out.counts == {"mandates": 0, "cancellations": 1}
    sent = ag.parse(out.files[-1]["content"].encode(ag.ENCODING))
    assert [(r.action, r.payer_number.lstrip("0")) for r in sent.mandates] == [("cancel", payer)]
    assert _doc(core, inv.id, date(2026, 11, 24))["autopay"] is None
    assert _order(core, cfg, date(2026, 11, 27)) == []


def test_without_a_personal_number_the_mandate_waits_with_a_notice(core, cfg):
    rows = bill_october(core)
    cid = rows["K1"].customer_id
    pm = mandates.set_autogiro(core.engine, cid, "8327", "9384750001", now=NOW)
    assert pm["status"] == "pending" and "personnummer" in pm["notice"]
    assert autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, date(2026, 11, 20)).files == []
    pm = mandates.set_autogiro(core.engine, cid, "8327", "9384750001", "197001011233", now=NOW)
    assert "Medgivandet skickas" in pm["notice"]
    out = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, date(2026, 11, 20))
    assert out.counts["mandates"] == 1 and out.counts["cancellations"] == 0  # the unsent one is simply dropped


def _example(name: str) -> bytes:
    return (FIXTURES / "autogiro" / name).read_bytes()


def _example_cfg(cfg: LifecycleConfig) -> LifecycleConfig:
    return replace(cfg, autopay=replace(cfg.autopay, payee_bankgiro="9912346"))


def test_bankgirots_example_mandate_advice_applied(core, cfg):
    rows = bill_october(core)
    cfg = _example_cfg(cfg)
    k1 = rows["K1"].customer_id
    with core.engine.begin() as conn:
        for payer in ("103", "102", "2222101"):
            conn.execute(
                insert(AutogiroMandate).values(
                    customer_id=k1,
                    payer_number=payer,
                    clearing="5001",
                    account="1000020",
                    personal_number="196803050000",
                    status="approved" if payer == "2222101" else "pending",
                    requested_at=NOW,
                    request_file_id=1,
                )
            )
    res = autogiro_files.import_autogiro(
        core.engine, core.catalogue, cfg, _example("medgivandeavisering.txt"), "ex.txt"
    )
    with core.engine.connect() as conn:
        status = dict(conn.execute(select(AutogiroMandate.payer_number, AutogiroMandate.status)).all())
    # 103 is approved (04/32) and then cancelled at the payee's request (03/33) in the same file
    assert status == {"103": "withdrawn", "102": "rejected", "2222101": "withdrawn"}
    assert (res.counts["approved"], res.counts["withdrawn"], res.counts["rejected"]) == (1, 3, 1)
    assert res.counts["unknown"] == 5  # the other payers in the example are not ours
    assert (
        autogiro_files.import_autogiro(
            core.engine, core.catalogue, cfg, _example("medgivandeavisering.txt"), "again"
        ).counts["duplicate_file"]
        == 1
    )


def test_bankgirots_example_payment_specification_and_rejections_applied(core, cfg):
    rows = bill_october(core)
    cfg = _example_cfg(cfg)
    inv = rows["K1"]
    drawn = date(2009, 11, 10)
    with core.engine.begin() as conn:
        for attempt, payer in enumerate(("101", "106", "107", "2222101", "3333", "4444"), start=1):
            conn.execute(
                insert(AutopayDraw).values(
                    invoice_id=inv.id,
                    customer_id=inv.customer_id,
                    method="autogiro",
                    attempt=attempt,
                    draw_date=drawn if attempt <= 4 else date(2008, 6, 11),
                    status="pending",
                    payer_number=payer,
                    amount_ore={"3333": 7500, "4444": 25000}.get(payer, 300_000),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    res = autogiro_files.import_autogiro(
        core.engine, core.catalogue, cfg, _example("betalningsspecifikation.txt"), "spec.txt", today=drawn
    )
    assert (res.counts["paid"], res.counts["failed"], res.counts["renewed"]) == (1, 2, 1)
    with core.engine.connect() as conn:
        by_payer = {d.payer_number: (d.status, d.result_code) for d in conn.execute(select(AutopayDraw))}
    assert by_payer["101"] == ("paid", "0")
    assert by_payer["106"] == ("failed", "1") and by_payer["107"] == ("failed", "2")
    assert by_payer["2222101"] == ("pending", "9")  # Bankgirot tries again
    rej = autogiro_files.import_autogiro(
        core.engine, core.catalogue, cfg, _example("avvisade_betalningsuppdrag.txt"), "rej.txt", today=date(2008, 6, 11)
    )
    assert rej.counts["rejected_orders"] == 2 and rej.counts["unknown"] == 1
    with core.engine.connect() as conn:
        by_payer = {d.payer_number: (d.status, d.result_code) for d in conn.execute(select(AutopayDraw))}
    assert by_payer["3333"] == ("failed", "02") and by_payer["4444"] == ("failed", "06")
    assert _kinds(core, inv.id).count("autopay_fallback") >= 1


def test_a_file_for_another_bankgiro_or_a_broken_file_changes_nothing(core, cfg):
    bill_october(core)
    with pytest.raises(banking.AutopayError, match="bankgiro 9912346"):
        autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, _example("medgivandeavisering.txt"), "x")
    broken = _example("medgivandeavisering.txt").replace(b"092008061199000000010", b"092008061199000000011")
    with pytest.raises(ag.AutogiroError, match="line 12"):
        autogiro_files.import_autogiro(core.engine, core.catalogue, _example_cfg(cfg), broken, "x")
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AutogiroMandate)).scalar_one() == 0
