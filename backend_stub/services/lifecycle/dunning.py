"""Dunning: overdue, late interest, reminders with a fee, collection; what happens next; respite.

``run_dunning`` is safe to run every day (and twice on a day): every step is recorded as an
event or a charge with a fixed key, and a step already taken is never taken again. Per
invoice it takes at most one of reminder 1, reminder 2 and collection per run, and at least
``min_days_between_steps`` apart, so a run after a long pause does not fire every step at once.
Paying (balance ≤ 0) stops the process wherever it stands.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.dunning import (
    STEP_KINDS,
    StepEvent,
    interest_owed,
    reminder_fee,
    respite_status,
    schedule,
    upcoming,
)
from backend_stub.domain.errors import Invalid
from backend_stub.domain.lifecycle_terms import DunningTerms
from backend_stub.domain.texts import day, render
from backend_stub.services.autopay.draws import held_invoice_ids
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.messaging import address_line, write_print_file
from backend_stub.services.lifecycle.payments import invoice_allocation, invoice_items
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge, OutboxMessage
from selfcare_common.csv_export import spreadsheet_writer
from selfcare_common.money_format import format_kr


class RespiteRefused(Invalid):
    """A respite that cannot be given (``days`` out of range, or none possible: ``respite``)."""


@dataclass
class DunningResult:
    today: str
    overdue: int = 0
    interest: int = 0
    interest_ore: int = 0
    reminder_1: int = 0
    reminder_2: int = 0
    fees: int = 0
    fees_ore: int = 0
    collection: int = 0
    messages: int = 0
    failed: int = 0
    collection_file: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _events(conn: Connection, inv_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(m.InvoiceEvent)
            .where(m.InvoiceEvent.invoice_id == inv_id, m.InvoiceEvent.kind.in_(STEP_KINDS))
            .order_by(m.InvoiceEvent.id)
        )
    )


def interest_due(conn: Connection, inv: Any, terms: DunningTerms, today: date) -> tuple[int, Decimal]:
    """Late interest owed on invoice row ``inv`` through ``today`` (``domain.dunning.interest_owed``)."""
    credits, charges, pays = invoice_items(conn, inv)
    return interest_owed(
        inv.amount_due_ore, inv.due_date, credits=credits, charges=charges, payments=pays, terms=terms, today=today
    )


def _at(today: date) -> datetime:
    """Events of a dunning day carry that day's business time (now when run for today, else
    the morning run of that day)."""
    return clock.moment_on(today)


def _charge(
    conn: Connection, inv_id: str, kind: str, amount: int, key: str, today: date, accrued_from: date | None = None
) -> bool:
    if conn.execute(select(InvoiceCharge.id).where(InvoiceCharge.key == key)).first() is not None:
        return False
    conn.execute(
        insert(InvoiceCharge).values(
            invoice_id=inv_id,
            kind=kind,
            amount_ore=amount,
            key=key,
            accrued_from=accrued_from,
            accrued_to=today,
            created_at=_at(today),
        )
    )
    return True


def _event(conn: Connection, inv_id: str, kind: str, data: dict[str, Any], today: date) -> None:
    ledger.add_event(conn, inv_id, kind, render(kind, data, "sv", kind), actor="dunning", at=_at(today), data=data)


def run_dunning(
    engine: Engine,
    cfg: LifecycleConfig,
    *,
    today: date | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> DunningResult:
    """One dunning run for ``today`` (default: today). Idempotent per day."""
    today = today or clock.today()
    terms = cfg.dunning
    result = DunningResult(today=today.isoformat())
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(m.Invoice).where(
                    m.Invoice.kind == "invoice", m.Invoice.amount_due_ore > 0, m.Invoice.due_date < today
                )
            )
        )
        states = ledger.invoice_states(conn, rows, today)

        held = held_invoice_ids(conn, [r.id for r in rows])  # an automatic draw is scheduled or pending
    for inv in rows:
        if states[inv.id].balance_ore <= 0 or inv.id in held:
            continue
        if states[inv.id].balance_ore < terms.small_balance_ore:  # rules §5: carried at the bill run instead
            continue
        try:
            _dun_one(engine, cfg, terms, inv, today, result)
        except IntegrityError:  # a concurrent run took the same step: it is done once, by the other run
            continue
    _send_reminders(engine, cfg, mail or messaging.MailSettings(), sms or messaging.OutboxSmsProvider(), result)
    result.collection_file = _collection_file(engine, cfg, today)
    return result


def _dun_one(
    engine: Engine, cfg: LifecycleConfig, terms: DunningTerms, inv: Any, today: date, result: DunningResult
) -> None:
    """One open invoice on ``today``: noted overdue, late interest accrued to today, then the next step
    when its day has come (reminder 1 with its fee, reminder 2, collection), at most one step a day."""
    with engine.begin() as conn:
        sched = schedule(inv.due_date, _events(conn, inv.id), terms)
        if "overdue" not in sched.done:
            _event(
                conn,
                inv.id,
                "overdue",
                {"date": sched.overdue.isoformat(), "due_date": inv.due_date.isoformat()},
                today,
            )
            result.overdue += 1
        _accrue_interest(conn, inv, terms, today, result)
        state = ledger.invoice_states(conn, [inv], today)[inv.id]
        if state.balance_ore <= 0:
            return
        if "collection" in sched.done:
            return
        last_step = max((d for k, d in sched.done.items() if k.startswith("reminder")), default=None)
        if last_step == today:
            return
        if "reminder_1" not in sched.done:
            if today >= sched.reminder_1:
                _first_reminder(conn, inv, terms, today, result)
            return
        if sched.reminder_2 is not None and "reminder_2" not in sched.done:
            if today >= sched.reminder_2:
                _event(
                    conn,
                    inv.id,
                    "reminder_sent",
                    {"level": 2, "fee_ore": 0, "date": today.isoformat(), "key": f"reminder:{inv.id}:2"},
                    today,
                )
                result.reminder_2 += 1
            return
        if today >= sched.collection:
            _to_collection(conn, inv, terms, state.balance_ore, today)
            result.collection += 1


def _accrue_interest(conn: Connection, inv: Any, terms: DunningTerms, today: date, result: DunningResult) -> None:
    """Late interest owed up to today, less what is charged already, as one more charge (once per day)."""
    owed, _rate = interest_due(conn, inv, terms, today)
    charged = (
        conn.execute(
            select(InvoiceCharge.amount_ore).where(InvoiceCharge.invoice_id == inv.id, InvoiceCharge.kind == "interest")
        )
        .scalars()
        .all()
    )
    increment = owed - sum(charged)
    if increment > 0 and _charge(
        conn,
        inv.id,
        "interest",
        increment,
        f"interest:{inv.id}:{today.isoformat()}",
        today,
        accrued_from=inv.due_date + timedelta(days=1),
    ):
        result.interest += 1
        result.interest_ore += increment


def _first_reminder(conn: Connection, inv: Any, terms: DunningTerms, today: date, result: DunningResult) -> None:
    """Reminder 1, with the reminder fee when the customer agreed to it (charged once per invoice)."""
    customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
    fee = reminder_fee(terms, fee_agreed=customer.reminder_fee_agreed)
    if fee:
        if _charge(conn, inv.id, "reminder_fee", fee, f"fee:{inv.id}", today):
            result.fees += 1
            result.fees_ore += fee
        else:
            fee = 0  # charged before: the charge's key holds it to once per invoice
    _event(
        conn,
        inv.id,
        "reminder_sent",
        {"level": 1, "fee_ore": fee, "date": today.isoformat(), "key": f"reminder:{inv.id}:1"},
        today,
    )
    result.reminder_1 += 1


def _to_collection(conn: Connection, inv: Any, terms: DunningTerms, balance_ore: int, today: date) -> None:
    """Handed to collection, with what is open of the amount, the fees and the interest."""
    alloc = invoice_allocation(conn, inv)
    _event(
        conn,
        inv.id,
        "collection",
        {
            "date": today.isoformat(),
            "balance_ore": balance_ore,
            "principal_ore": alloc.principal_open,
            "fees_ore": alloc.fees_open,
            "interest_ore": alloc.interest_open,
            "rate": str(terms.interest_rate(today)),
        },
        today,
    )


def reminder_text(inv: Any, balance: int, fee: int, level: int, seller: dict[str, Any], lang: str) -> tuple[str, str]:
    if lang == "en":
        subject = f"Reminder {level}: invoice {inv.number}"
        text = (
            f"Our records show that invoice {inv.number}, due on {day(inv.due_date, 'en')}, is not fully paid.\n"
            f"Please pay {format_kr(balance, 'en')} now"
            + (f" (including a reminder fee of {format_kr(fee, 'en')})" if fee else "")
            + f" to bankgiro {seller.get('bankgiro', '')} with OCR reference {inv.ocr}.\n"
            "Late interest runs per the Swedish Interest Act until it is paid.\n"
            "If you have already paid, please disregard this reminder.\n"
        )
    else:
        subject = f"Påminnelse {level}: faktura {inv.number}"
        text = (
            f"Enligt våra noteringar är faktura {inv.number}, som förföll {day(inv.due_date)}, inte betald.\n"
            f"Betala {format_kr(balance)} nu"
            + (f" (varav påminnelseavgift {format_kr(fee)})" if fee else "")
            + f" till bankgiro {seller.get('bankgiro', '')} med OCR-nummer {inv.ocr}.\n"
            "Dröjsmålsränta enligt räntelagen löper tills fakturan är betald.\n"
            "Har du redan betalat kan du bortse från denna påminnelse.\n"
        )
    return subject, text


def _reminder_pdf(subject: str, text: str, address: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for ln in address.split(", "):
        pdf.cell(0, 6, ln.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 8, subject.encode("latin-1", "replace").decode("latin-1"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text.replace("\u00a0", " ").encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def _send_reminders(
    engine: Engine,
    cfg: LifecycleConfig,
    mail: messaging.MailSettings,
    sms: messaging.SmsProvider,
    result: DunningResult,
) -> None:
    """Send every reminder recorded on a timeline whose message is not sent yet (also after a crash)."""
    with engine.connect() as conn:
        done = {
            k
            for (k,) in conn.execute(
                select(OutboxMessage.key).where(
                    OutboxMessage.key.like("reminder:%"), OutboxMessage.status.in_(messaging.DONE)
                )
            )
        }
        pending = [
            e
            for e in conn.execute(select(m.InvoiceEvent).where(m.InvoiceEvent.kind == "reminder_sent"))
            if e.data.get("key") and e.data["key"] not in done
        ]
    for e in pending:
        key = e.data["key"]
        with engine.connect() as conn:
            inv = conn.execute(select(m.Invoice).where(m.Invoice.id == e.invoice_id)).one()
            customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
            balance = ledger.invoice_states(conn, [inv])[inv.id].balance_ore
        lang = "en" if customer.language == "en" else "sv"
        subject, text = reminder_text(
            inv,
            balance,
            int(e.data.get("fee_ore", 0)),
            int(e.data.get("level", 1)),
            inv.document.get("seller", {}),
            lang,
        )
        try:
            if customer.channel == "email" and customer.email:
                messaging.send_email(
                    engine, mail, to=customer.email, subject=subject, text=text, key=key, invoice_id=inv.id
                )
            elif customer.channel == "sms" and customer.phone:
                messaging.send_sms(
                    engine,
                    sms,
                    to=customer.phone,
                    text=f"{subject}. {text.splitlines()[1]}",
                    key=key,
                    invoice_id=inv.id,
                )
            else:
                addr = address_line(customer)
                path = write_print_file(
                    cfg.print_dir,
                    f"paminnelse-{e.data.get('level', 1)}-{inv.number}.pdf",
                    _reminder_pdf(subject, text, addr),
                )
                messaging.record_letter(engine, to=addr, subject=subject, text=str(path), key=key, invoice_id=inv.id)
            result.messages += 1
        except Exception as exc:  # noqa: BLE001 (any channel failure: keep going, the next run retries)
            result.failed += 1
            result.errors.append(f"reminder {key}: {type(exc).__name__}: {exc}")


COLLECTION_COLUMNS = (
    "invoice_number",
    "customer_number",
    "name",
    "street",
    "postal_code",
    "city",
    "email",
    "phone",
    "ocr",
    "invoice_date",
    "due_date",
    "principal_ore",
    "fees_ore",
    "interest_ore",
    "balance_ore",
    "interest_rate_percent",
    "handed_over",
)


def _collection_file(engine: Engine, cfg: LifecycleConfig, today: date) -> str | None:
    """The day's handovers as CSV for the collection agency (rewritten identically by a rerun)."""
    with engine.connect() as conn:
        rows = []
        for e in conn.execute(
            select(m.InvoiceEvent).where(m.InvoiceEvent.kind == "collection").order_by(m.InvoiceEvent.id)
        ):
            if e.data.get("date") != today.isoformat():
                continue
            inv = conn.execute(select(m.Invoice).where(m.Invoice.id == e.invoice_id)).one()
            c = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
            d = e.data
            rows.append(
                (
                    inv.number,
                    c.customer_number,
                    c.name,
                    c.street,
                    c.postal_code,
                    c.city,
                    c.email,
                    c.phone,
                    inv.ocr,
                    inv.invoice_date.isoformat(),
                    inv.due_date.isoformat(),
                    d["principal_ore"],
                    d["fees_ore"],
                    d["interest_ore"],
                    d["balance_ore"],
                    d["rate"],
                    d["date"],
                )
            )
    if not rows:
        return None
    buf = io.StringIO()
    w = spreadsheet_writer(buf, lineterminator="\n")  # names and addresses are typed by people: no formulas
    w.writerow(COLLECTION_COLUMNS)
    w.writerows(rows)
    cfg.collection_dir.mkdir(parents=True, exist_ok=True)
    path = cfg.collection_dir / f"inkasso-{today.isoformat()}.csv"
    tmp = path.with_suffix(".part")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return str(path)


def next_steps(
    engine: Engine, cfg: LifecycleConfig, invoice_id: str, *, today: date | None = None, lang: str = "sv"
) -> dict[str, Any]:
    """What happens next to an invoice and when, if it stays unpaid; and whether a respite can be asked for."""
    today = today or clock.today()
    terms = cfg.dunning
    en = lang == "en"
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        state = ledger.invoice_states(conn, [inv], today)[inv.id]
        events = _events(conn, inv.id)
        customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
        fee_charged = conn.execute(
            select(InvoiceCharge.id).where(InvoiceCharge.invoice_id == inv.id, InvoiceCharge.kind == "reminder_fee")
        ).first()
    sched = schedule(inv.due_date, events, terms)
    steps: list[dict[str, Any]] = []
    if inv.kind == "invoice" and state.balance_ore > 0:
        rate = terms.interest_rate(max(today, sched.overdue))
        rate_s = str(rate) if en else str(rate).replace(".", ",")
        if today <= inv.due_date:
            steps.append(
                {
                    "date": sched.overdue.isoformat(),
                    "action": "overdue",
                    "fee_ore": 0,
                    "text": (
                        f"If unpaid on {day(sched.overdue, 'en')}, late interest of {rate_s} % a year runs from the due date."
                        if en
                        else f"Om fakturan är obetald {day(sched.overdue)} löper dröjsmålsränta på {rate_s} % per år "
                        "från förfallodagen."
                    ),
                }
            )
        for step in upcoming(
            sched, terms, today, fee_agreed=customer.reminder_fee_agreed, fee_charged=fee_charged is not None
        ):
            fee, when, action = step.fee_ore, step.day, step.action
            if action == "reminder_1":
                what_en = (
                    f"a reminder with a {format_kr(fee, 'en')} fee is sent" if fee else "a reminder is sent (no fee)"
                )
                what_sv = (
                    f"skickas en påminnelse med {format_kr(fee)} i avgift"
                    if fee
                    else "skickas en påminnelse (ingen avgift)"
                )
            elif action == "reminder_2":
                what_en, what_sv = "a second reminder is sent (no fee)", "skickas en andra påminnelse (ingen avgift)"
            else:
                what_en = "the invoice is handed to a collection agency, which may add its own fees"
                what_sv = "lämnas fakturan till inkasso, som kan ta ut egna avgifter"
            steps.append(
                {
                    "date": when.isoformat(),
                    "action": action,
                    "fee_ore": fee,
                    "text": f"If unpaid on {day(when, 'en')}, {what_en}."
                    if en
                    else f"Om fakturan är obetald {day(when)} {what_sv}.",
                }
            )
    respite = respite_status(inv, state, sched, terms)
    return {
        "invoice_id": inv.id,
        "number": inv.number,
        "status": state.status,
        "balance_ore": state.balance_ore,
        "steps": steps,
        "respite": respite,
    }


def events_of(conn: Connection, inv_ids: list[str]) -> dict[str, list[Any]]:
    """The dunning-step events of several invoices (for ``schedule``), in recording order."""
    out: dict[str, list[Any]] = {i: [] for i in inv_ids}
    for e in conn.execute(
        select(m.InvoiceEvent)
        .where(m.InvoiceEvent.invoice_id.in_(inv_ids), m.InvoiceEvent.kind.in_(STEP_KINDS))
        .order_by(m.InvoiceEvent.id)
    ):
        out[e.invoice_id].append(e)
    return out


def request_respite(
    engine: Engine, cfg: LifecycleConfig, invoice_id: str, days: int, *, actor: str, today: date | None = None
) -> dict[str, Any]:
    """Grant a respite: the dunning steps not yet taken move ``days`` later. Once per invoice, not in collection."""
    today = today or clock.today()
    terms = cfg.dunning
    if not 1 <= days <= terms.respite_max_days:
        raise RespiteRefused("days", f"must be 1 to {terms.respite_max_days}, got {days}")
    with engine.begin() as conn:
        inv = get_invoice_row(conn, invoice_id)
        conn.execute(select(m.Invoice.id).where(m.Invoice.id == inv.id).with_for_update())  # one respite at a time
        state = ledger.invoice_states(conn, [inv], today)[inv.id]
        sched = schedule(inv.due_date, _events(conn, inv.id), terms)
        status = respite_status(inv, state, sched, terms)
        if not status["allowed"]:
            raise RespiteRefused("respite", f"not possible ({status['reason']})")
        moved = schedule(inv.due_date, [*_events(conn, inv.id), StepEvent("respite", {"days": days})], terms)
        upcoming = [
            d
            for k, d in (
                ("reminder_1", moved.reminder_1),
                ("reminder_2", moved.reminder_2),
                ("collection", moved.collection),
            )
            if d is not None and k not in moved.done
        ]
        data = {
            "days": days,
            "next_date": min(upcoming).isoformat() if upcoming else today.isoformat(),
            "date": today.isoformat(),
        }
        ledger.add_event(
            conn, inv.id, "respite", render("respite", data, "sv", "respite"), actor=actor, at=_at(today), data=data
        )
    return next_steps(engine, cfg, inv.id, today=today)
