"""The invoice page's usage summary: the same words and numbers as the PDF, in both languages."""

from __future__ import annotations

from backend_stub.formats.invoice_pdf import usage_sentence
from selfcare.pages.invoice.state import InvoiceState
from tests.app.conftest import drain, run, subscriber_token, substate
from tests.app.test_states import _ids, _signed_in


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def test_the_page_says_what_the_pdf_says(client):
    checked = 0
    for lang in ("sv", "en"):
        root, session = _signed_in(1)
        session.lang = lang
        inv = substate(root, InvoiceState)
        for own in _ids(client, 1):
            run(drain(InvoiceState.open_invoice.fn(inv, own)))
            doc = run(client.invoice(subscriber_token(1), own, lang))
            if doc["kind"] != "invoice":
                continue
            entries = doc["usage_totals"]
            assert len(inv.usage_summary) == len(entries)
            for row, entry in zip(inv.usage_summary, entries, strict=True):
                sentence, share = usage_sentence(entry, lang)
                assert _plain(row["text"]) == _plain(sentence)
                assert (row["bar"] == "") == (share is None)
                if share is not None:
                    assert int(row["bar"]) == min(100, entry["data_bytes"] * 100 // entry["data_allowance_bytes"])
                checked += 1
    assert checked


def test_a_foreign_invoice_shows_no_summary(client):
    foreign = _ids(client, 2)[0]
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, foreign)))
    assert inv.usage_summary == []
