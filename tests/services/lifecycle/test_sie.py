"""SIE 4 export: written, parsed back, every verification and the file balanced, amounts traced to the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from backend_stub import clock
from backend_stub.core import Core
from backend_stub.formats.sie import SieError, Trans, Verification, parse_sie, write_sie
from backend_stub.services.billing import credit_notes
from backend_stub.services.lifecycle import dunning, ledger, payments
from backend_stub.services.lifecycle.bookkeeping import export_sie
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from tests.lifecycle_support import bill_october


def test_export_parses_back_balanced(core: Core, tmp_path: Path) -> None:
    invs = bill_october(core)
    k1, k2 = invs["K1"], invs["K2"]
    cfg = LifecycleConfig(print_dir=tmp_path / "p", collection_dir=tmp_path / "c")
    with clock.use(clock.FrozenClock("2026-11-15")):  # a credit note of the year exported
        credit_notes.create_credit_note(
            core.engine, core.catalogue, k2.id, credit_notes.CreditRequest(reason="Fel pris", amount_ore=5000)
        )
    with core.engine.begin() as conn:
        ledger.record_payment(
            conn,
            invoice_id=k1.id,
            reference="p1",
            method="card",
            amount_ore=10000,
            received_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        ledger.record_payment(
            conn,
            invoice_id=None,
            reference="u1",
            method="bankgiro",
            amount_ore=777,
            received_at=datetime(2026, 11, 21, tzinfo=UTC),
        )
    dunning.run_dunning(core.engine, cfg, today=date(2026, 12, 11))
    q = payments.list_unmatched(core.engine)["items"][0]
    with clock.use(clock.FrozenClock("2026-12-12")):  # an agent books it within the year exported
        payments.allocate_payment(core.engine, q["id"], k1.id, actor="agent:x")

    data = export_sie(core.engine, core.catalogue, cfg, date(2026, 1, 1), date(2026, 12, 31))
    sie = parse_sie(data)
    assert sie.flags["#SIETYP"] == ["4"] and sie.flags["#FORMAT"] == ["PC8"]
    assert sie.flags["#FNAMN"] == ["Nordvik Telecom AB"]
    assert all(v.balanced for v in sie.verifications)
    assert sum(t.amount_ore for v in sie.verifications for t in v.trans) == 0
    series = {}
    for v in sie.verifications:
        series.setdefault(v.series, []).append(v)
    assert len(series["F"]) == 2 and len(series["K"]) == 1 and len(series["M"]) == 1
    assert {v.text for v in series["R"]} >= {f"Påminnelseavgift {k1.number}", f"Dröjsmålsränta {k1.number}"}
    # receivables in the file = what the ledger says is owed (invoiced - credited - paid + fees + interest)
    receivables = sum(t.amount_ore for v in sie.verifications for t in v.trans if t.account == "1510")
    with core.engine.connect() as conn:
        from sqlalchemy import select

        from backend_stub.storage.models import billing as m

        rows = list(conn.execute(select(m.Invoice).where(m.Invoice.kind == "invoice")))
        owed = sum(s.balance_ore for s in ledger.invoice_states(conn, rows, date(2026, 12, 31)).values())
    assert receivables == owed
    # the credit note reverses revenue and VAT: 50 kr incl. 25 % VAT = 40 net + 10 VAT
    kn = series["K"][0]
    assert Trans("1510", -5000) in kn.trans and Trans("2611", 1000) in kn.trans
    # every account used is declared, the unmatched payment passed through 2999 and out again
    used = {t.account for v in sie.verifications for t in v.trans}
    assert used <= set(sie.accounts)
    assert sum(t.amount_ore for v in sie.verifications for t in v.trans if t.account == "2999") == 0
    # nothing outside the range
    assert (
        parse_sie(export_sie(core.engine, core.catalogue, cfg, date(2025, 1, 1), date(2025, 12, 31))).verifications
        == []
    )


def test_unbalanced_verification_is_refused_and_bad_amounts_name_the_line() -> None:
    v = Verification("A", 1, date(2026, 1, 1), "x", [Trans("1510", 100), Trans("3011", -99)])
    with pytest.raises(SieError, match="does not balance"):
        write_sie(
            company="X",
            org_number="1",
            generated=date(2026, 1, 1),
            year_start=date(2026, 1, 1),
            year_end=date(2026, 12, 31),
            accounts={},
            verifications=[v],
        )
    with pytest.raises(SieError, match="line 3"):
        parse_sie(b'#VER A 1 20260101 "x"\n{\n#TRANS 1510 {} 1,00\n}\n')


def test_each_revenue_account_gets_its_own_lines_net() -> None:
    # Fee 199,00 (3011) + usage 0,07 (3012) at 25 %: gross 199,07, VAT 199,07 × 0,2 = 39,814 → 39,81,
    # net 159,26. Own nets: fee 199,00 / 1,25 = 159,20 exactly; usage 0,07 / 1,25 = 0,056. Down to whole
    # öre 159,20 + 0,05 = 159,25; the öre left goes to the largest remainder (usage, 0,6) → 0,06.
    # The old split gave the fee 159,21 and the usage 0,05.
    from backend_stub.services.lifecycle.bookkeeping import invoice_trans

    doc = {
        "gross_ore": 19_907,
        "lines": [
            {"vat_rate": "0.25", "kind": "fee", "amount_ore": 19_900},
            {"vat_rate": "0.25", "kind": "usage", "amount_ore": 7},
        ],
        "vat": [{"rate": "0.25", "net_ore": 15_926, "vat_ore": 3_981, "gross_ore": 19_907}],
    }
    trans = invoice_trans(doc, LifecycleConfig().accounts)
    assert Trans("3011", -15_920) in trans and Trans("3012", -6) in trans
    assert Trans("2611", -3_981) in trans and Trans("1510", 19_907) in trans
    assert sum(t.amount_ore for t in trans) == 0
