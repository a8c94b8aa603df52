"""The invoice page's drill-down: what a subscriber reads under a line adds up to that line."""

from __future__ import annotations

import re

from selfcare.pages.invoice.state import InvoiceState
from tests.app.conftest import drain, run, substate
from tests.app.test_states import _ids, _signed_in


def _ore(text: str) -> int:
    """ "1 234,56 kr" / "−0,02 kr" / "Ingår" → öre (what the page shows, read back)."""
    if not re.search(r"\d", text):
        return 0  # "Ingår" / "Included"
    digits = int(re.sub(r"\D", "", text))
    return -digits if text.strip().startswith(("−", "-")) else digits


def test_the_records_shown_under_every_line_add_up_to_it(client):
    checked = 0
    for customer_id in (1, 2, 3, 4):
        root, _session = _signed_in(customer_id)
        inv = substate(root, InvoiceState)
        for own in _ids(client, customer_id):
            run(drain(InvoiceState.open_invoice.fn(inv, own)))
            for line in (ln for ln in inv.lines if ln["drill"]):
                run(drain(InvoiceState.open_line.fn(inv, int(line["position"]))))
                while len(inv.drill_rows) < inv.drill_total:
                    before = len(inv.drill_rows)
                    run(drain(InvoiceState.more_drill.fn(inv)))
                    assert len(inv.drill_rows) > before
                assert inv.drill_open and inv.drill_rows, line
                shown = sum(_ore(r["cost"]) for r in inv.drill_rows) + _ore(inv.drill_rounding)
                assert inv.drill_amount == line["amount"]
                assert shown == _ore(line["amount"]), (line, inv.drill_rounding)
                if line["description"].startswith("Öppningsavgift"):
                    assert inv.drill_note and {r["cost"] for r in inv.drill_rows} == {line["unit_price"]}
                checked += 1
    assert checked, "the test data needs usage lines"


def test_english_drill_down_adds_up_too(client):
    root, session = _signed_in(1)
    session.lang = "en"
    inv = substate(root, InvoiceState)
    for own in _ids(client, 1):
        run(drain(InvoiceState.open_invoice.fn(inv, own)))
        for line in (ln for ln in inv.lines if ln["drill"]):
            run(drain(InvoiceState.open_line.fn(inv, int(line["position"]))))
            if len(inv.drill_rows) == inv.drill_total:
                assert "." in line["amount"] and inv.drill_amount == line["amount"]  # English figures
                total = sum(_ore(r["cost"]) for r in inv.drill_rows) + _ore(inv.drill_rounding)
                assert total == _ore(line["amount"])
                return
