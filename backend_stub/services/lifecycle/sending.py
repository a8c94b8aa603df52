"""Sending invoices after a bill run, by the customer's channel, once.

E-mail (HTML and text with the invoice's own link), SMS (through an ``SmsProvider``) or letter
(the PDF into the print-queue folder). An e-mail or SMS not opened within
``letter_fallback_hours`` (48 by default) is followed by a letter. Every send is a ``sent``
event on the invoice's timeline. Each message has a fixed key in the outbox
(``invoice:<id>:<channel>``), so a crashed or repeated run sends nothing twice.
"""

from __future__ import annotations

import html
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from backend_stub import clock
from backend_stub.domain.texts import day, render
from backend_stub.services.access.tokens import AuthSettings
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.lifecycle import ledger, links, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from selfcare_common.money_format import format_kr

LinkBuilder = Callable[[str], str]  # invoice id → the invoice's absolute unique link


@dataclass
class SendResult:
    email: int = 0
    sms: int = 0
    letter: int = 0
    fallback_letter: int = 0
    already_sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "sms": self.sms,
            "letter": self.letter,
            "fallback_letter": self.fallback_letter,
            "already_sent": self.already_sent,
            "failed": self.failed,
            "errors": self.errors,
        }


def default_link_builder(engine: Engine, cfg: LifecycleConfig) -> LinkBuilder:
    """The invoice's unique link from ``services.lifecycle.links`` (the sign-in code's), absolute on ``public_url``."""
    settings = AuthSettings.from_env()
    path_fn = getattr(links, "invoice_link_path", None)

    def build(invoice_id: str) -> str:
        if path_fn is not None:
            path = path_fn(engine, settings, invoice_id)
        else:
            path = links.invoice_link(engine, settings.secret, settings.issuer, invoice_id).path
        return path if path.startswith("http") else cfg.public_url + path

    return build


def invoice_email(doc: dict[str, Any], link: str, lang: str) -> tuple[str, str, str]:
    """Subject, text and HTML of an invoice e-mail."""
    seller = doc["seller"]["name"]
    name = doc["buyer"]["name"]
    amount = doc["amount_due_ore"]
    credit = doc["kind"] == "credit_note"
    ask = _ask(doc, lang)
    if lang == "en":
        subject = f"Your {'credit note' if credit else 'invoice'} {doc['number']} from {seller}"
        lines = [f"Hello {name},", ""]
        if credit:
            lines.append(f"Credit note {doc['number']} of {format_kr(-amount, 'en')} has been issued to you.")
        else:
            lines += [
                f"Your invoice {doc['number']} of {format_kr(amount, 'en')} is due on {day(doc['due_date'], 'en')}.",
                ask
                or f"Pay to bankgiro {doc['seller']['bankgiro']} with OCR reference {doc['ocr']}, or pay on the page.",
            ]
        lines += ["", f"View it here: {link}", "", f"Kind regards, {seller}"]
        button = "View the invoice"
    else:
        subject = f"Din {'kreditfaktura' if credit else 'faktura'} {doc['number']} från {seller}"
        lines = [f"Hej {name}!", ""]
        if credit:
            lines.append(f"Kreditfaktura {doc['number']} på {format_kr(-amount)} har utfärdats till dig.")
        else:
            lines += [
                f"Din faktura {doc['number']} på {format_kr(amount)} ska vara betald senast {day(doc['due_date'])}.",
                ask
                or f"Betala till bankgiro {doc['seller']['bankgiro']} med OCR-nummer {doc['ocr']}, "
                "eller direkt på sidan.",
            ]
        lines += ["", f"Se fakturan här: {link}", "", f"Vänliga hälsningar, {seller}"]
        button = "Visa fakturan"
    text = "\n".join(lines) + "\n"
    body = "".join(f"<p>{html.escape(ln)}</p>" for ln in lines if ln and not ln.startswith(("View it", "Se fakturan")))
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(subject)}</title>'
        f'</head><body>{body}<p><a href="{html.escape(link, quote=True)}">{button}</a></p></body></html>'
    )
    return subject, text, page


def _ask(doc: dict[str, Any], lang: str) -> str:
    """What the message asks of the subscriber when it is not "pay": the one state of the invoice
    (``invoice_state``) says nothing is left to pay, or an automatic draw will pay it."""
    st = doc.get("state") or {}
    en = lang == "en"
    if st.get("status") in ("paid", "credited", "no_payment") or (st and not st.get("to_pay_ore")):
        return (
            "Nothing is left to pay: you need not do anything."
            if en
            else "Inget kvar att betala: du behöver inte göra något."
        )
    autopay = st.get("autopay") or {}
    if autopay.get("status") in ("scheduled", "pending", "retrying") and autopay.get("draw_date"):
        how = {"autogiro": ("by autogiro", "via autogiro"), "card": ("from your card", "från ditt kort")}.get(
            str(autopay.get("method")), ("automatically", "automatiskt")
        )
        when = day(autopay["draw_date"], "en" if en else "sv")
        return f"It is paid {how[0]} on {when}." if en else f"Beloppet dras {how[1]} {when}."
    return ""


def invoice_sms(doc: dict[str, Any], link: str, lang: str) -> str:
    seller = doc["seller"]["name"]
    if doc["kind"] == "credit_note":
        if lang == "en":
            return f"{seller}: credit note {doc['number']} of {format_kr(-doc['amount_due_ore'], 'en')}: {link}"
        return f"{seller}: kreditfaktura {doc['number']} på {format_kr(-doc['amount_due_ore'])}: {link}"
    if lang == "en":
        return (
            f"{seller}: invoice {doc['number']} of {format_kr(doc['amount_due_ore'], 'en')} is due "
            f"{day(doc['due_date'], 'en')}. View and pay: {link}"
        )
    return (
        f"{seller}: faktura {doc['number']} på {format_kr(doc['amount_due_ore'])} förfaller "
        f"{day(doc['due_date'])}. Se och betala: {link}"
    )


def _letter(
    engine: Engine, cfg: LifecycleConfig, doc: dict[str, Any], customer: Any, lang: str, key: str
) -> tuple[bool, str]:
    from backend_stub.formats.invoice_pdf import render_invoice_pdf

    prefix = "kreditfaktura" if doc["kind"] == "credit_note" else "faktura"
    path = messaging.write_print_file(cfg.print_dir, f"{prefix}-{doc['number']}.pdf", render_invoice_pdf(doc, lang))
    return messaging.record_letter(
        engine,
        to=messaging.address_line(customer),
        subject=f"{prefix} {doc['number']}",
        text=str(path),
        key=key,
        invoice_id=doc["id"],
    ), str(path)


def _sent_channels(conn: Connection, invoice_id: str) -> set[str]:
    return {
        e.data.get("channel")
        for e in conn.execute(
            select(m.InvoiceEvent).where(m.InvoiceEvent.invoice_id == invoice_id, m.InvoiceEvent.kind == "sent")
        )
    }


def _note_sent(
    engine: Engine, invoice_id: str, channel: str, to: str, key: str, now: datetime, fallback: bool = False
) -> None:
    with engine.begin() as conn:
        if channel in _sent_channels(conn, invoice_id):
            return
        data = {"channel": channel, "to": to, "key": key, "fallback": fallback}

        ledger.add_event(conn, invoice_id, "sent", render("sent", data, "sv", ""), at=now, data=data)


def send_one(
    engine: Engine,
    cfg: LifecycleConfig,
    invoice_id: str,
    *,
    mail: messaging.MailSettings,
    sms: messaging.SmsProvider,
    link_for: LinkBuilder,
    now: datetime | None = None,
    channel: str | None = None,
    fallback: bool = False,
) -> tuple[str, bool]:
    """Send one invoice by its customer's channel (or ``channel``); returns (channel, sent now)."""
    now = now or clock.now()
    with engine.connect() as conn:
        inv = conn.execute(select(m.Invoice).where(m.Invoice.id == invoice_id)).one()
        customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
    lang = "en" if customer.language == "en" else "sv"
    channel = channel or messaging.channel_of(customer)
    key = f"invoice:{inv.id}:{channel}"
    doc = get_invoice(engine, inv.id, lang=lang)
    if channel == "email":
        subject, text, page = invoice_email(doc, link_for(inv.id), lang)
        to = customer.email
        new = messaging.send_email(
            engine, mail, to=to, subject=subject, text=text, html=page, key=key, invoice_id=inv.id
        )
    elif channel == "sms":
        to = customer.phone
        new = messaging.send_sms(
            engine, sms, to=to, text=invoice_sms(doc, link_for(inv.id), lang), key=key, invoice_id=inv.id
        )
    else:
        to = messaging.address_line(customer)
        doc["link_url"] = link_for(inv.id)  # the letter's PDF leads back to the page too
        new, _path = _letter(engine, cfg, doc, customer, lang, key)
    _note_sent(engine, inv.id, channel, to, key, now, fallback)
    return channel, new


def send_invoices(
    engine: Engine,
    cfg: LifecycleConfig,
    *,
    mail: messaging.MailSettings,
    sms: messaging.SmsProvider | None = None,
    link_for: LinkBuilder,
    now: datetime | None = None,
    period: str | None = None,
) -> SendResult:
    """Send every invoice and credit note not sent yet, then the letter fallbacks that are due."""
    now = now or clock.now()
    sms = sms or messaging.OutboxSmsProvider()
    result = SendResult()
    with engine.connect() as conn:
        sent = {r[0] for r in conn.execute(select(m.InvoiceEvent.invoice_id).where(m.InvoiceEvent.kind == "sent"))}
        q = select(m.Invoice.id, m.Invoice.period_start).order_by(m.Invoice.number)
        todo = [
            r.id
            for r in conn.execute(q)
            if r.id not in sent and (period is None or r.period_start.strftime("%Y-%m") == period)
        ]
    for inv_id in todo:
        try:
            channel, new = send_one(engine, cfg, inv_id, mail=mail, sms=sms, link_for=link_for, now=now)
        except (OSError, smtplib.SMTPException, ValueError, RuntimeError) as exc:
            result.failed += 1
            result.errors.append(f"invoice {inv_id}: {type(exc).__name__}: {exc}")
            continue
        if new:
            setattr(result, channel, getattr(result, channel) + 1)
        else:
            result.already_sent += 1
    for inv_id in due_fallbacks(engine, cfg, now):
        try:
            _, new = send_one(
                engine, cfg, inv_id, mail=mail, sms=sms, link_for=link_for, now=now, channel="letter", fallback=True
            )
        except (OSError, ValueError, RuntimeError) as exc:
            result.failed += 1
            result.errors.append(f"invoice {inv_id} (letter): {type(exc).__name__}: {exc}")
            continue
        result.fallback_letter += 1 if new else 0
        result.already_sent += 0 if new else 1
    return result


def due_fallbacks(engine: Engine, cfg: LifecycleConfig, now: datetime) -> list[str]:
    """Invoices sent by e-mail or SMS at least ``letter_fallback_hours`` ago, not opened, not paid, no letter yet."""
    cutoff = now - timedelta(hours=cfg.letter_fallback_hours)
    with engine.connect() as conn:
        events: dict[str, dict[str, Any]] = {}
        for e in conn.execute(
            select(m.InvoiceEvent.invoice_id, m.InvoiceEvent.kind, m.InvoiceEvent.at, m.InvoiceEvent.data).where(
                m.InvoiceEvent.kind.in_(["sent", "opened"])
            )
        ):
            st = events.setdefault(e.invoice_id, {"opened": False, "letter": False, "digital_at": None})
            if e.kind == "opened":
                st["opened"] = True
            elif e.data.get("channel") == "letter":
                st["letter"] = True
            else:
                at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
                st["digital_at"] = at if st["digital_at"] is None else min(st["digital_at"], at)
        candidates = [
            i
            for i, st in events.items()
            if not st["opened"] and not st["letter"] and st["digital_at"] is not None and st["digital_at"] <= cutoff
        ]
        if not candidates:
            return []
        rows = list(conn.execute(select(m.Invoice).where(m.Invoice.id.in_(candidates), m.Invoice.kind == "invoice")))
        states = ledger.invoice_states(conn, rows, now.date())
    return sorted(r.id for r in rows if states[r.id].balance_ore > 0)
