"""Sending after a bill run: e-mail to a loopback SMTP server, SMS outbox, letters, the 48-hour fallback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from backend_stub.core import Core
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.lifecycle import ledger, messaging, sending
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from tests.lifecycle_support import SmtpInbox, bill_october, free_port, set_customer

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    inbox, port = SmtpInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _link(invoice_id: str) -> str:
    return f"https://app.example/i/token-{invoice_id}"


def test_send_by_channel_once_then_letter_fallback(core: Core, smtp, tmp_path: Path) -> None:
    inbox, port = smtp
    invs = bill_october(core)
    cfg = LifecycleConfig(print_dir=tmp_path / "print")
    mail = messaging.MailSettings(host="127.0.0.1", port=port)

    result = sending.send_invoices(core.engine, cfg, mail=mail, link_for=_link, now=NOW)
    assert (result.email, result.sms, result.letter, result.failed) == (1, 1, 0, 0)

    # K1 (e-mail): a real message with text and HTML parts and the invoice's own link
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    k1 = invs["K1"]
    assert msg["To"] == "anna@example.se" and k1.number in msg["Subject"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert _link(k1.id) in text and k1.ocr in text and "1 december 2026" in text
    assert f'href="{_link(k1.id)}"' in msg.get_body(preferencelist=("html",)).get_content()
    # K2 (SMS): in the outbox
    sms = messaging.list_outbox(core.engine, channel="sms")
    assert [s["to"] for s in sms] == ["+46709876543"] and _link(invs["K2"].id) in sms[0]["text"]
    # a "sent" event on each timeline, in both languages
    tl = get_invoice(core.engine, k1.id, lang="en")["timeline"]
    sent = [e for e in tl if e["kind"] == "sent"]
    assert len(sent) == 1 and sent[0]["text"] == "Sent by e-mail to anna@example.se."
    assert sent[0]["texts"]["sv"] == "Skickad med e-post till anna@example.se."

    # a rerun (e.g. after a crash) sends nothing again
    again = sending.send_invoices(core.engine, cfg, mail=mail, link_for=_link, now=NOW + timedelta(hours=1))
    assert (again.email, again.sms, again.letter, again.fallback_letter) == (0, 0, 0, 0)
    assert len(inbox.messages) == 1 and len(messaging.list_outbox(core.engine)) == 2

    # K1 opens the invoice; K2 does not: after 48 hours K2 gets a letter, K1 does not
    with core.engine.begin() as conn:
        ledger.add_event(conn, k1.id, "opened", "Fakturan öppnades.", actor="customer", at=NOW + timedelta(hours=3))
    early = sending.send_invoices(core.engine, cfg, mail=mail, link_for=_link, now=NOW + timedelta(hours=47))
    assert early.fallback_letter == 0
    late = sending.send_invoices(core.engine, cfg, mail=mail, link_for=_link, now=NOW + timedelta(hours=48))
    assert late.fallback_letter == 1
    pdfs = sorted(p.name for p in (tmp_path / "print").iterdir())
    assert pdfs == [f"faktura-{invs['K2'].number}.pdf"]
    pdf_text = PdfReader(tmp_path / "print" / pdfs[0]).pages[0].extract_text()
    assert invs["K2"].number in pdf_text
    tl2 = get_invoice(core.engine, invs["K2"].id)["timeline"]
    assert [e["data"]["channel"] for e in tl2 if e["kind"] == "sent"] == ["sms", "letter"]
    assert "Inte öppnad i tid" in [e for e in tl2 if e["kind"] == "sent"][-1]["text"]
    # and the fallback is not repeated
    assert (
        sending.send_invoices(core.engine, cfg, mail=mail, link_for=_link, now=NOW + timedelta(days=5)).fallback_letter
        == 0
    )


def test_letter_channel_and_smtp_failure_is_retried(core: Core, smtp, tmp_path: Path) -> None:
    inbox, port = smtp
    invs = bill_october(core)
    set_customer(core, "K2", channel="letter")
    set_customer(core, "K1", language="en")
    cfg = LifecycleConfig(print_dir=tmp_path / "print")
    down = messaging.MailSettings(host="127.0.0.1", port=free_port(), timeout_s=2)
    first = sending.send_invoices(core.engine, cfg, mail=down, link_for=_link, now=NOW)
    assert (first.letter, first.failed) == (1, 1) and "invoice" in first.errors[0]
    assert (tmp_path / "print" / f"faktura-{invs['K2'].number}.pdf").exists()
    # the failed e-mail has no "sent" event, so the next run sends it
    assert not [e for e in get_invoice(core.engine, invs["K1"].id)["timeline"] if e["kind"] == "sent"]
    second = sending.send_invoices(
        core.engine, cfg, mail=messaging.MailSettings(host="127.0.0.1", port=port), link_for=_link, now=NOW
    )
    assert (second.email, second.letter, second.failed) == (1, 0, 0)
    assert inbox.messages[0]["Subject"].startswith("Your invoice")
