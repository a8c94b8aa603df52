"""Rules §7: one invoice's whole timeline, in business-time order, in Swedish and English, with its documents.

Invoice K1 (due 1 December 2026) is created, sent, opened, passes its due date, gets reminder 1
with the 60 kr fee, is partly credited, is asked about and answered, is partly paid, gets
reminder 2, goes to collection and is finally paid. Several events are recorded after later ones
(a link open noted late, a bank file that arrives days after its bank date); the timeline still
reads in the order things happened. Every date in every text is written out.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.core import Core
from backend_stub.domain import texts
from backend_stub.services.access.tokens import Role, issue_token
from backend_stub.services.billing import credit_notes, invoice_rows, invoices
from backend_stub.services.lifecycle import dunning, ledger
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.support import threads
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import EventDocument
from selfcare_common.money_format import format_kr
from tests.conftest import token_for
from tests.lifecycle_support import bill_october

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def frozen():
    with clock.use(clock.FrozenClock("2026-11-01T06:00:00+01:00")) as frozen_clock:
        yield frozen_clock


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


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages).replace("\xa0", " ")


def _money(ore: int) -> str:
    return format_kr(ore).replace("\xa0", " ")


def _walk(core: Core, frozen: clock.FrozenClock, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    invs = bill_october(core)  # created at 06:00 on 1 November 2026 (the frozen clock)
    inv = invs["K1"]
    _pay(core, invs["K2"].id, invs["K2"].amount_due_ore, date(2026, 11, 20), "k2-paid")  # only K1 is dunned
    cfg = LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "inkasso")
    engine = core.engine
    # The dunning runs of 2 and 11 December come first ...
    dunning.run_dunning(engine, cfg, today=date(2026, 12, 2))
    dunning.run_dunning(engine, cfg, today=date(2026, 12, 11))
    # ... then the send and the first open of the link are recorded, late, with their own times.
    with engine.begin() as conn:
        ledger.add_event(
            conn,
            inv.id,
            "sent",
            "Skickad",
            at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
            data={"channel": "email", "to": "anna@example.se", "key": f"invoice:{inv.id}:email", "fallback": False},
        )
        ledger.add_event(
            conn,
            inv.id,
            "opened",
            "Fakturan öppnades.",
            actor="customer",
            at=datetime(2026, 11, 3, 17, 30, tzinfo=UTC),
            data={"via": "link"},
        )
    # A question on 16 December and its answer are recorded before the credit note of 12 December ...
    customer = threads.Author("customer", "Anna Andersson", "customer:K1")
    threads.post_message(
        engine, inv.id, customer, "Varför är fakturan så hög?", now=datetime(2026, 12, 16, 9, 0, tzinfo=UTC)
    )
    threads.post_message(
        engine,
        inv.id,
        threads.Author("agent", "Bo", "agent:bo"),
        "Vi krediterar 50 kr.",
        now=datetime(2026, 12, 16, 13, 0, tzinfo=UTC),
    )
    frozen.set(datetime(2026, 12, 12, 10, 0, tzinfo=UTC))
    credit_notes.create_credit_note(
        engine,
        core.catalogue,
        inv.id,
        credit_notes.CreditRequest(reason="Fel avgift", amount_ore=5000, actor="agent:bo"),
    )
    # ... and the bank file with the payment of 15 December arrives after all of them.
    _pay(core, inv.id, 10000, date(2026, 12, 15), "bg-1")
    dunning.run_dunning(engine, cfg, today=date(2026, 12, 25))
    dunning.run_dunning(engine, cfg, today=date(2027, 1, 15))
    final = invoices.get_invoice(engine, inv.id, today=date(2027, 1, 20))["balance_ore"]
    _pay(core, inv.id, final, date(2027, 1, 20), "bg-2")
    return inv, invoices.get_invoice(engine, inv.id, today=date(2027, 1, 21))


def test_the_timeline_reads_in_business_time_in_both_languages(core: Core, frozen, tmp_path: Path) -> None:
    inv, doc = _walk(core, frozen, tmp_path)
    events = doc["timeline"]
    assert [e["kind"] for e in events] == [
        "created",
        "sent",
        "opened",
        "overdue",
        "reminder_sent",
        "corrected",
        "payment_received",
        "message",
        "reply",
        "reminder_sent",
        "collection",
        "payment_received",
    ]
    times = [_at(e["at"]) for e in events]
    assert times == sorted(times)
    assert [e["id"] for e in events] != sorted(e["id"] for e in events)  # recorded in another order
    # date-only events sit at the start of their Stockholm day
    overdue = events[3]
    assert overdue["date_only"] and _at(overdue["at"]) == clock.start_of_day(date(2026, 12, 2))
    assert not events[1]["date_only"]

    amount = inv.amount_due_ore
    sv = [e["texts"]["sv"] for e in events]
    en = [e["texts"]["en"] for e in events]
    assert sv[0] == f"Fakturan skapades: {format_kr(amount)} att betala senast 1 december 2026."
    assert en[0] == f"Invoice created: {format_kr(amount, 'en')} to pay by 1 December 2026."
    assert sv[1] == "Skickad med e-post till anna@example.se."
    assert en[1] == "Sent by e-mail to anna@example.se."
    assert (sv[2], en[2]) == ("Fakturan öppnades från sin länk.", "The invoice was opened from its link.")
    assert sv[3] == "Förfallodagen (1 december 2026) passerade utan full betalning."
    assert en[3] == "The due date (1 December 2026) passed without full payment."
    assert sv[4] == "Påminnelse 1 skickad med påminnelseavgift 60,00\u00a0kr."
    assert en[4] == "Reminder 1 sent with a reminder fee of 60.00\u00a0kr."
    note = events[5]["data"]["credit_note"]
    assert (
        sv[5] == f"Kreditfaktura {note} på 50,00\u00a0kr: fakturan ändrades. Nytt belopp är {format_kr(amount - 5000)}."
    )
    assert en[5] == (
        f"Credit note {note} of 50.00\u00a0kr: the invoice was changed. "
        f"The new amount is {format_kr(amount - 5000, 'en')}."
    )
    assert sv[6].startswith("Betalning mottagen via bankgiro: 100,00\u00a0kr. Kvar att betala: ")
    assert en[6].startswith("Payment received by bank giro: 100.00\u00a0kr. Left to pay: ") and en[6].endswith(
        "\u00a0kr."
    )
    assert sv[7] == "Fråga till kundtjänst från Anna Andersson: Varför är fakturan så hög?"
    assert en[7] == "Question to customer service from Anna Andersson: Varför är fakturan så hög?"
    assert (sv[8], en[8]) == (
        "Svar från kundtjänst (Bo): Vi krediterar 50 kr.",
        "Answer from customer service (Bo): Vi krediterar 50 kr.",
    )
    assert (sv[9], en[9]) == ("Påminnelse 2 skickad (ingen avgift).", "Reminder 2 sent (no fee).")
    handed = events[10]["data"]["balance_ore"]
    assert sv[10] == f"Lämnad till inkasso 15 januari 2027 ({format_kr(handed)} obetalt)."
    assert en[10] == f"Handed to the collection agency 15 January 2027 ({format_kr(handed, 'en')} unpaid)."
    assert sv[11].endswith("Kvar att betala: 0,00\u00a0kr.") and en[11].endswith("Left to pay: 0.00\u00a0kr.")
    for text in sv + en:
        assert not ISO_DATE.search(text), text
    # who did it
    assert [events[i]["actor"] for i in (2, 4, 5, 7, 8)] == [
        "customer",
        "dunning",
        "agent:bo",
        "customer:K1",
        "agent:bo",
    ]
    # documents: the reminders, the credit note and the collection notice carry one
    with_docs = {e["kind"]: e["document"]["kind"] for e in events if e["document"]}
    assert with_docs == {"reminder_sent": "reminder", "corrected": "credit_note", "collection": "collection_notice"}
    assert events[4]["document"]["path"] == f"/invoices/{inv.id}/documents/{events[4]['id']}"


def test_timeline_documents_are_pdfs_behind_the_invoice_access_rules(core: Core, auth, frozen, tmp_path: Path) -> None:
    inv, doc = _walk(core, frozen, tmp_path)
    k2 = invoices.list_invoices(core.engine, kind="invoice")["items"]
    other = next(i for i in k2 if i["id"] != inv.id)
    reminder1, credit, collection = (
        next(e for e in doc["timeline"] if e["kind"] == k) for k in ("reminder_sent", "corrected", "collection")
    )
    owner = token_for(auth, "subscriber", customer_id=inv.customer_id)
    stranger = token_for(auth, "subscriber", customer_id=invoice_rows.invoice_customer_id(core.engine, other["id"]))
    link = {
        "Authorization": "Bearer "
        + issue_token(
            auth,
            subject=f"link:{inv.id}",
            role=Role.SUBSCRIBER,
            customer_id=inv.customer_id,
            invoice_id=inv.id,
            ttl=timedelta(minutes=10),
        )
    }
    other_link = {
        "Authorization": "Bearer "
        + issue_token(
            auth,
            subject="link:x",
            role=Role.SUBSCRIBER,
            customer_id=inv.customer_id,
            invoice_id=other["id"],
            ttl=timedelta(minutes=10),
        )
    }
    agent = token_for(auth, "agent")
    with TestClient(create_app(core, auth=auth)) as api:
        path = reminder1["document"]["path"]
        assert api.get(path).status_code == 401
        assert api.get(path, headers=stranger).status_code == 404
        assert api.get(path, headers=other_link).status_code == 404
        assert api.get(f"/invoices/{inv.id}/documents/{doc['timeline'][0]['id']}", headers=owner).status_code == 404
        assert api.get(f"/invoices/{other['id']}/documents/{reminder1['id']}", headers=agent).status_code == 404

        r = api.get(path, headers=owner)
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert f"paminnelse-{inv.number}.pdf" in r.headers["content-disposition"]
        text = _pdf_text(r.content)
        # what was open on 11 December: the invoice, the 60 kr fee and ten days of interest (nothing paid yet)
        with core.engine.connect() as conn:
            from backend_stub.services.lifecycle.payments import invoice_allocation

            row = conn.execute(select(m.Invoice).where(m.Invoice.id == inv.id)).one()
            on_day = invoice_allocation(conn, row, upto=date(2026, 12, 11))
        assert on_day.fees_open == 6000 and on_day.principal_open == inv.amount_due_ore
        for needle in (
            "Påminnelse 1",
            inv.number,
            inv.ocr,
            "11 december 2026",
            "1 december 2026",
            "Påminnelseavgift",
            _money(6000),
            _money(inv.amount_due_ore),
            _money(on_day.balance),
            doc["buyer"]["name"],
        ):
            assert needle in text, needle
        assert api.get(path, headers=link).content == r.content  # the link session reaches its own invoice
        assert api.get(path, headers=agent).status_code == 200
        en = _pdf_text(api.get(path + "?lang=en", headers=owner).content)
        assert "Reminder 1" in en and "11 December 2026" in en and inv.ocr in en

        cn = api.get(credit["document"]["path"], headers=link)
        assert cn.status_code == 200
        cn_text = _pdf_text(cn.content)
        assert "Kreditfaktura" in cn_text and credit["data"]["credit_note"] in cn_text and "50,00 kr" in cn_text

        notice = api.get(collection["document"]["path"], headers=owner)
        assert notice.status_code == 200
        notice_text = _pdf_text(notice.content)
        assert "Meddelande om inkasso" in notice_text and "15 januari 2027" in notice_text
        assert _money(collection["data"]["balance_ore"]) in notice_text

        # rendered once, then kept: asking again serves the same bytes from the database
        assert api.get(collection["document"]["path"], headers=agent).content == notice.content
        api_doc = api.get(f"/invoices/{inv.id}?lang=en", headers=owner).json()
        assert api_doc["timeline"][3]["text"] == "The due date (1 December 2026) passed without full payment."
    with core.engine.connect() as conn:
        kept = conn.execute(
            select(EventDocument.kind, EventDocument.lang, func.count()).group_by(
                EventDocument.kind, EventDocument.lang
            )
        ).all()
    assert sorted(kept) == [
        ("collection_notice", "sv", 1),
        ("credit_note", "sv", 1),
        ("reminder", "en", 1),
        ("reminder", "sv", 1),
    ]


def test_recording_events_renders_no_document(core: Core, frozen, tmp_path: Path) -> None:
    _walk(core, frozen, tmp_path)
    with core.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EventDocument)).scalar_one() == 0


@pytest.mark.parametrize(
    ("kind", "data", "sv", "en"),
    [
        (
            "respite",
            {"days": 7, "next_date": "2026-12-18", "date": "2026-12-04"},
            "Anstånd beviljat: 7 dagar till. Påminnelserna flyttas (nästa steg 18 december 2026).",
            "Respite granted: 7 more days. Reminders move accordingly (next step 18 December 2026).",
        ),
        (
            "offer_accepted",
            {
                "msisdn": "+46701234567",
                "old_plan": "Bas",
                "new_plan": "Max",
                "effective_date": "2027-01-01",
                "terms_sv": "",
                "terms_en": "",
            },
            "Erbjudande antaget: +46701234567 byter från Bas till Max den 1 januari 2027.",
            "Offer accepted: +46701234567 changes from Bas to Max on 1 January 2027.",
        ),
        (
            "payment_received",
            {"amount_ore": 24900, "remaining_ore": 0, "method": "card"},
            "Betalning mottagen via kort: 249,00\u00a0kr. Kvar att betala: 0,00\u00a0kr.",
            "Payment received by card: 249.00\u00a0kr. Left to pay: 0.00\u00a0kr.",
        ),
        (
            "created",
            {"credits_invoice": "100234", "reason": "Fel avgift", "credited_ore": 5000},
            "Kreditfaktura till faktura 100234 skapad: 50,00\u00a0kr. Fel avgift",
            "Credit note for invoice 100234 created: 50.00\u00a0kr. Fel avgift",
        ),
    ],
)
def test_every_kind_has_both_languages(kind: str, data: dict, sv: str, en: str) -> None:
    assert texts.render(kind, data, "sv", "stored") == sv
    assert texts.render(kind, data, "en", "stored") == en


def test_money_and_dates_are_written_with_babel() -> None:
    assert format_kr(124900) == "1\u00a0249,00\u00a0kr" and format_kr(-5000) == "-50,00\u00a0kr"
    assert format_kr(124900, "en") == "1,249.00\u00a0kr"
    assert (texts.day("2026-12-01"), texts.day(date(2026, 12, 1), "en")) == ("1 december 2026", "1 December 2026")
