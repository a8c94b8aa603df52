"""Message threads on invoices between a subscriber and customer service.

One thread per invoice. A subscriber's message puts the thread in the agents' inbox
("waiting", oldest first); an agent's reply answers it and notifies the subscriber by
their channel with the invoice's link. Every message is also on the invoice's timeline.
Text is stored as written and is only ever shown as text (the app never renders it as
HTML or markdown); it is length- and rate-limited.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from sqlalchemy import Connection, Engine, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Invalid
from backend_stub.services.access.signin import RateLimited
from backend_stub.services.access.throttle import Limit, hit, throttle_key
from backend_stub.services.billing import credit_notes, invoice_rows, invoices
from backend_stub.services.lifecycle import ledger
from backend_stub.services.support import audit
from backend_stub.settings import get_settings
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge
from backend_stub.storage.models.support import Message, Thread
from selfcare_common import thread_signal
from selfcare_common.money_format import format_kr

MAX_LENGTH = 2000
CUSTOMER_LIMIT = Limit(10, timedelta(minutes=10))  # messages per customer
EXCERPT = 80


def credit_limit_ore() -> int:
    """Credits above this need a supervisor (``SELFCARE_AGENT_CREDIT_LIMIT_ORE``, default 500 kr)."""
    return get_settings().agent_credit_limit_ore


class NeedsSupervisor(PermissionError):
    pass


@dataclass(frozen=True)
class Author:
    kind: str  # customer, agent
    name: str
    actor: str  # for the timeline and audit: "customer:K100001", "agent:anna"


def clean_text(text: str) -> str:
    """Strip, normalise and check a message: control characters (but newlines and tabs) removed."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").strip()
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    if not text:
        raise Invalid("text", "the message is empty")
    if len(text) > MAX_LENGTH:
        raise Invalid("text", f"at most {MAX_LENGTH} characters (this one has {len(text)})")
    return text


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: None) -> None: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _thread_for(conn: Connection, inv: Any, now: datetime) -> Any:
    row = conn.execute(select(Thread).where(Thread.invoice_id == inv.id)).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(Thread).values(
                        invoice_id=inv.id,
                        customer_id=inv.customer_id,
                        status="answered",
                        updated_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # created by a concurrent first message
        row = conn.execute(select(Thread).where(Thread.invoice_id == inv.id)).one()
    return row


def _message_dict(msg: Any) -> dict[str, Any]:
    return {
        "id": msg.id,
        "author": msg.author,
        "author_name": msg.author_name,
        "text": msg.text,
        "line_position": msg.line_position,
        "created_at": _aware(msg.created_at).isoformat(),
        "read": msg.read_at is not None,
    }


def post_message(
    engine: Engine,
    invoice_id: str,
    author: Author,
    text: str,
    *,
    line_position: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Add a message to the invoice's thread. Raises ``ValueError`` (bad text or line) or ``RateLimited``."""
    now = now or clock.now()
    text = clean_text(text)
    with engine.begin() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
        if line_position is not None and not 1 <= line_position <= len(inv.document["lines"]):
            raise Invalid("line_position", "no such line on the invoice")
        if author.kind == "customer":
            wait = hit(conn, throttle_key("message", str(inv.customer_id)), CUSTOMER_LIMIT, now)
            if wait:
                raise RateLimited(wait)
        thread = _thread_for(conn, inv, now)
        msg_id = conn.execute(
            insert(Message)
            .values(
                thread_id=thread.id,
                author=author.kind,
                author_name=author.name,
                text=text,
                line_position=line_position,
                created_at=now,
            )
            .returning(Message.id)
        ).scalar_one()
        if author.kind == "customer":
            values = {"status": "waiting", "updated_at": now}
            if thread.status != "waiting":
                values["waiting_since"] = now
            conn.execute(update(Thread).where(Thread.id == thread.id).values(**values))
            line = f" (rad {line_position})" if line_position else ""
            ledger.add_event(
                conn,
                inv.id,
                "message",
                f"Fråga till kundtjänst{line}: {_excerpt(text)}",
                actor=author.actor,
                at=now,
                data={
                    "message_id": msg_id,
                    "line_position": line_position,
                    "excerpt": _excerpt(text),
                    "author_name": author.name,
                },
            )
        else:
            conn.execute(
                update(Thread)
                .where(Thread.id == thread.id)
                .values(status="answered", waiting_since=None, updated_at=now)
            )
            ledger.add_event(
                conn,
                inv.id,
                "reply",
                f"Svar från kundtjänst: {_excerpt(text)}",
                actor=author.actor,
                at=now,
                data={"message_id": msg_id, "excerpt": _excerpt(text), "author_name": author.name},
            )
            audit.log(conn, author.actor, "reply", inv.id, {"thread": thread.id, "message": msg_id}, at=now)
        msg = conn.execute(select(Message).where(Message.id == msg_id)).one()
    thread_signal.publish(inv.id, get_settings().redis_url)  # after the commit: the open pages ask for what is new
    return _message_dict(msg) | {"thread_id": thread.id, "invoice_id": inv.id, "customer_id": inv.customer_id}


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def get_thread(
    engine: Engine, invoice_id: str, reader: str, *, after: int | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The invoice's thread and its messages (those after id ``after``, for polling).

    Reading marks the other side's messages read.
    """
    now = now or clock.now()
    other = "agent" if reader == "customer" else "customer"
    # A read-only transaction when there is nothing new to mark read: polling pages never queue for the writer.
    with engine.connect() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
        thread = conn.execute(select(Thread).where(Thread.invoice_id == inv.id)).first()
        if thread is None:
            return {"thread": None, "messages": [], "invoice_id": inv.id, "customer_id": inv.customer_id}
        unread = conn.execute(
            select(Message.id)
            .where(Message.thread_id == thread.id, Message.author == other, Message.read_at.is_(None))
            .limit(1)
        ).first()
        q = select(Message).where(Message.thread_id == thread.id)
        if after is not None:
            q = q.where(Message.id > after)
        if unread is None:
            msgs = conn.execute(q.order_by(Message.id)).all()
    if unread is not None:
        with engine.begin() as conn:
            conn.execute(
                update(Message)
                .where(Message.thread_id == thread.id, Message.author == other, Message.read_at.is_(None))
                .values(read_at=now)
            )
            msgs = conn.execute(q.order_by(Message.id)).all()
        thread_signal.publish(
            inv.id, get_settings().redis_url
        )  # committed: the other side's page shows its messages as read
    return {
        "thread": _thread_dict(thread, now),
        "messages": [_message_dict(x) for x in msgs],
        "invoice_id": inv.id,
        "customer_id": inv.customer_id,
    }


def _thread_dict(t: Any, now: datetime) -> dict[str, Any]:
    since = _aware(t.waiting_since)
    return {
        "id": t.id,
        "invoice_id": t.invoice_id,
        "customer_id": t.customer_id,
        "status": t.status,
        "assigned_to": t.assigned_to,
        "waiting_since": since.isoformat() if since else None,
        "waiting_seconds": int((now - since).total_seconds()) if since else 0,
        "updated_at": _aware(t.updated_at).isoformat(),
    }


def inbox(
    engine: Engine,
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Threads for agents: those waiting for an answer first (longest wait first), then the rest."""
    now = now or clock.now()
    order = case((Thread.status == "waiting", 0), (Thread.status == "answered", 1), else_=2)
    q = (
        select(Thread, m.Invoice.number, m.Customer.name, m.Customer.customer_number)
        .join(m.Invoice, m.Invoice.id == Thread.invoice_id)
        .join(m.Customer, m.Customer.id == Thread.customer_id)
    )
    if status:
        q = q.where(Thread.status == status)
    if assigned_to:
        q = q.where(Thread.assigned_to == assigned_to)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(
            q.order_by(order, Thread.waiting_since, Thread.updated_at.desc()).limit(limit).offset(offset)
        ).all()
        last: dict[int, Any] = {}
        ids = [r.id for r in rows]
        if ids:
            newest = select(func.max(Message.id)).where(Message.thread_id.in_(ids)).group_by(Message.thread_id)
            for newest_msg in conn.execute(select(Message).where(Message.id.in_(newest))):
                last[newest_msg.thread_id] = newest_msg
    items = []
    for r in rows:  # the thread's columns and the invoice number and customer, flat
        d = _thread_dict(r, now)
        msg = last.get(r.id)
        d.update(
            invoice_number=r.number,
            customer_name=r.name,
            customer_number=r.customer_number,
            last_message=_message_dict(msg) | {"text": _excerpt(msg.text)} if msg else None,
        )
        items.append(d)
    return {"total": total, "items": items}


def _thread_row(conn: Connection, thread_id: int) -> Any:
    row = conn.execute(select(Thread).where(Thread.id == thread_id)).first()
    if row is None:
        raise invoice_rows.NotFound(f"thread {thread_id} not found")
    return row


def assign(engine: Engine, thread_id: int, actor: str, username: str | None) -> dict[str, Any]:
    now = clock.now()
    with engine.begin() as conn:
        _thread_row(conn, thread_id)
        conn.execute(update(Thread).where(Thread.id == thread_id).values(assigned_to=username, updated_at=now))
        audit.log(conn, actor, "assign", f"thread:{thread_id}", {"to": username}, at=now)
        return _thread_dict(_thread_row(conn, thread_id), now)


def resolve(engine: Engine, thread_id: int, actor: str) -> dict[str, Any]:
    now = clock.now()
    with engine.begin() as conn:
        _thread_row(conn, thread_id)
        conn.execute(
            update(Thread).where(Thread.id == thread_id).values(status="resolved", waiting_since=None, updated_at=now)
        )
        audit.log(conn, actor, "resolve", f"thread:{thread_id}", at=now)
        return _thread_dict(_thread_row(conn, thread_id), now)


def _credit_request(
    inv: Any, actor: str, role: str, reason: str, amount_ore: int | None, line_positions: list[int] | None
) -> credit_notes.CreditRequest:
    """The credit note an agent asks for from the thread, checked (an amount or lines; the limit)."""
    if amount_ore is None and not line_positions:
        raise Invalid("amount_ore", "give an amount or the lines to credit")
    lines = inv.document["lines"]
    if line_positions:
        if any(not 1 <= p <= len(lines) for p in line_positions):
            raise Invalid("line_positions", "no such line on the invoice")
        wanted = sum(lines[p - 1]["amount_ore"] for p in set(line_positions))
    else:
        wanted = int(amount_ore or 0)
    if wanted > credit_limit_ore() and role != "supervisor":
        raise NeedsSupervisor(f"amount_ore: credits above {format_kr(credit_limit_ore())} need a supervisor")
    return credit_notes.CreditRequest(
        reason=reason,
        amount_ore=None if line_positions else amount_ore,
        line_positions=sorted(set(line_positions)) if line_positions else None,
        actor=actor,
    )


def preview_credit_from_thread(
    engine: Engine,
    catalogue: Catalogue,
    invoice_id: str,
    *,
    actor: str,
    role: str,
    reason: str,
    amount_ore: int | None = None,
    line_positions: list[int] | None = None,
) -> dict[str, Any]:
    """What ``credit_from_thread`` would issue (the core's own credit-note computation), issuing nothing."""
    with engine.connect() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
    return credit_notes.preview_credit_note(
        engine, catalogue, inv.id, _credit_request(inv, actor, role, reason, amount_ore, line_positions)
    )


def credit_from_thread(
    engine: Engine,
    catalogue: Catalogue,
    invoice_id: str,
    *,
    actor: str,
    role: str,
    reason: str,
    amount_ore: int | None = None,
    line_positions: list[int] | None = None,
    agent_name: str = "Kundtjänst",
) -> dict[str, Any]:
    """Credit an amount or lines of the invoice from its thread (a credit note), with a note in the thread.

    Credits above ``credit_limit_ore()`` need a supervisor (``NeedsSupervisor``).
    """
    with engine.connect() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
    note = credit_notes.create_credit_note(
        engine, catalogue, inv.id, _credit_request(inv, actor, role, reason, amount_ore, line_positions)
    )
    doc = invoices.get_invoice(engine, inv.id)
    new_amount = inv.amount_due_ore - doc["credited_ore"]
    text = f"Fakturan ändrades. Nytt belopp är {format_kr(new_amount)}. (Kreditfaktura {note['number']}: {reason})"
    now = clock.now()
    with engine.begin() as conn:
        thread = _thread_for(conn, inv, now)
        conn.execute(
            insert(Message).values(
                thread_id=thread.id, author="agent", author_name=agent_name, text=text, created_at=now
            )
        )
        audit.log(
            conn,
            actor,
            "credit",
            inv.id,
            {
                "credit_note": note["number"],
                "credited_ore": -note["amount_due_ore"],
                "reason": reason,
                "lines": line_positions,
            },
            at=now,
        )
    thread_signal.publish(inv.id, get_settings().redis_url)
    return {
        "credit_note": {"id": note["id"], "number": note["number"], "amount_due_ore": note["amount_due_ore"]},
        "invoice": {
            "id": inv.id,
            "status": doc["status"],
            "balance_ore": doc["balance_ore"],
            "new_amount_ore": new_amount,
        },
    }


def _open_fees(conn: Any, inv: Any) -> int:
    """The invoice's reminder fees not yet waived (``ValueError`` when there are none)."""
    fees = conn.execute(
        select(func.coalesce(func.sum(InvoiceCharge.amount_ore), 0)).where(
            InvoiceCharge.invoice_id == inv.id, InvoiceCharge.kind == "reminder_fee"
        )
    ).scalar_one()
    if fees <= 0:
        raise Invalid("invoice", "there is no reminder fee to waive")
    return int(fees)


def preview_waive(engine: Engine, invoice_id: str) -> dict[str, Any]:
    """What waiving the reminder fees would do: the fee taken away and the balance after (nothing is written)."""
    with engine.connect() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
        fees = _open_fees(conn, inv)
        state = ledger.invoice_states(conn, [inv])[inv.id]
    return {
        "invoice_id": inv.id,
        "invoice_number": inv.number,
        "fee_ore": fees,
        "balance_ore": state.balance_ore,
        "new_balance_ore": state.balance_ore - fees,
    }


def waive_reminder_fees(
    engine: Engine, invoice_id: str, *, actor: str, reason: str, agent_name: str = "Kundtjänst"
) -> dict[str, Any]:
    """Take the invoice's reminder fees away (a negative fee charge, so bookkeeping sees the reversal)."""
    if not reason.strip():
        raise Invalid("reason", "say why the fee is waived")
    now = clock.now()
    with engine.begin() as conn:
        inv = invoice_rows.get_invoice_row(conn, invoice_id)
        fees = _open_fees(conn, inv)
        n = conn.execute(
            select(func.count())
            .select_from(InvoiceCharge)
            .where(InvoiceCharge.invoice_id == inv.id, InvoiceCharge.amount_ore < 0)
        ).scalar_one()
        conn.execute(
            insert(InvoiceCharge).values(
                invoice_id=inv.id,
                kind="reminder_fee",
                amount_ore=-int(fees),
                accrued_to=now.date(),
                key=f"waive:{inv.id}:{n + 1}",
                created_at=now,
            )
        )
        text = f"Påminnelseavgiften på {format_kr(int(fees))} togs bort. ({reason})"
        ledger.add_event(
            conn, inv.id, "fee_waived", text, actor=actor, at=now, data={"amount_ore": int(fees), "reason": reason}
        )
        thread = _thread_for(conn, inv, now)
        conn.execute(
            insert(Message).values(
                thread_id=thread.id, author="agent", author_name=agent_name, text=text, created_at=now
            )
        )
        audit.log(conn, actor, "waive", inv.id, {"amount_ore": int(fees), "reason": reason}, at=now)
        state = ledger.invoice_states(conn, [inv])[inv.id]
    thread_signal.publish(inv.id, get_settings().redis_url)
    return {
        "waived_ore": int(fees),
        "invoice": {"id": inv.id, "status": state.status, "balance_ore": state.balance_ore},
    }
