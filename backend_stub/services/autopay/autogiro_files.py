"""Automatic payment, Autogiro's files (Bankgirot's direct debit; the formats are ``formats.autogiro``).

* ``export_autogiro(on=D)`` writes the day's files: new and cancelled mandates (TK04, TK03),
  and a payment order file (TK82) with the invoices of customers whose mandate is approved that
  fall due within the operator's lead days, each to be drawn on its due date (the next banking
  day if that is not one).
* ``import_autogiro`` applies Bankgirot's answers: the mandate advice (TK73) makes a mandate
  ``approved``, ``rejected`` or ``withdrawn``; the payment specification or rejected orders say
  a draw was paid or failed. A draw that failed for want of cover (status 1), or was rejected
  for a reason that is not about the mandate, is ordered again ``retry_days`` banking days later,
  ``max_retries`` times; then, and at once when the mandate is gone (status 2, rejection codes
  01-03), the invoice falls back to manual payment (``draws``). Status 9 (renewed funds) means
  Bankgirot itself tries again: the draw stays pending.
* Importing the same file twice changes nothing (the file's hash), and neither does the same
  record in another file (a reference per record).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.banking import (
    AutopayError,
    add_banking_days,
)
from backend_stub.domain.lifecycle_terms import AutopayTerms
from backend_stub.formats import autogiro as ag
from backend_stub.services.autopay import autogiro_orders
from backend_stub.services.autopay.draws import (
    Notification,
    RunResult,
    draw_failed,
    invoice_row,
    noon,
    send_notes,
)
from backend_stub.services.autopay.mandates import current_mandate, method_row, notice_text, set_method
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models.autopay import (
    AutogiroFile,
    AutogiroMandate,
    AutogiroRecordRef,
    AutopayDraw,
)

# --- autogiro: the files out ------------------------------------------------------------------------------


def payee_bankgiro(cfg: LifecycleConfig, catalogue: Any) -> str:
    """The bankgiro number Autogiro draws to: the setting, else the operator's bankgiro in the catalogue."""
    value = cfg.autopay.payee_bankgiro or "".join(ch for ch in catalogue.operator.bankgiro if ch.isdigit())
    if not value:
        raise AutopayError("payee_bankgiro", "no bankgiro number for Autogiro (autopay.payee_bankgiro)")
    return value


def _store_file(
    conn: Connection,
    direction: str,
    kind: str,
    name: str,
    data: bytes,
    for_date: date | None,
    records: int,
    now: datetime,
    result: dict[str, Any] | None = None,
) -> int:
    return conn.execute(
        insert(AutogiroFile)
        .values(
            direction=direction,
            kind=kind,
            name=name[:200],
            sha256=hashlib.sha256(data).hexdigest(),
            for_date=for_date,
            records=records,
            content=data.decode(ag.ENCODING),
            result=result,
            created_at=now,
        )
        .returning(AutogiroFile.id)
    ).scalar_one()


def _file_dict(f: Any) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "name": f.name,
        "for_date": f.for_date.isoformat() if f.for_date else None,
        "records": f.records,
        "sha256": f.sha256,
        "content": f.content,
    }


def outgoing_files(engine: Engine, on: date) -> list[dict[str, Any]]:
    """The files written for day ``on`` (mandates, payment orders), oldest first."""
    with engine.connect() as conn:
        return [
            _file_dict(f)
            for f in conn.execute(
                select(AutogiroFile)
                .where(AutogiroFile.direction == "out", AutogiroFile.for_date == on)
                .order_by(AutogiroFile.id)
            )
        ]


def export_autogiro(
    engine: Engine,
    catalogue: Any,
    cfg: LifecycleConfig,
    on: date,
    *,
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> RunResult:
    """Write day ``on``'s files to Bankgirot: new and cancelled mandates, and payment orders for the
    invoices due within the lead days (each drawn on its due date, moved to a banking day).

    Idempotent: what went into a file is marked, so a second run the same day writes nothing new.
    The result lists every file of the day.
    """
    now = now or clock.moment_on(on)
    terms = cfg.autopay
    bg = payee_bankgiro(cfg, catalogue)
    result = RunResult(on.isoformat())
    notes: list[Notification] = []
    with engine.begin() as conn:
        _export_mandates(conn, bg, terms, on, now, result)
        _export_payments(conn, bg, terms, on, now, result, notes)
    result.files = outgoing_files(engine, on)
    send_notes(engine, notes, mail, sms, result)
    return result


def _export_mandates(
    conn: Connection, bg: str, terms: AutopayTerms, on: date, now: datetime, result: RunResult
) -> None:
    creates = list(
        conn.execute(
            select(AutogiroMandate)
            .where(
                AutogiroMandate.status == "pending",
                AutogiroMandate.request_file_id.is_(None),
                AutogiroMandate.cancel_requested_at.is_(None),
                AutogiroMandate.personal_number.is_not(None),
            )
            .order_by(AutogiroMandate.id)
        )
    )
    cancels = list(
        conn.execute(
            select(AutogiroMandate)
            .where(AutogiroMandate.cancel_requested_at.is_not(None), AutogiroMandate.cancel_file_id.is_(None))
            .order_by(AutogiroMandate.id)
        )
    )
    if not creates and not cancels:
        return
    records = [ag.MandateRequest("cancel", x.payer_number) for x in cancels] + [
        ag.MandateRequest(
            "create", x.payer_number, clearing=x.clearing, account=x.account, personal_number=x.personal_number
        )
        for x in creates
    ]
    data = ag.write_request(ag.RequestFile(on, terms.bankgirot_customer_number, bg, mandates=records))
    seq = (
        conn.execute(
            select(func.count())
            .select_from(AutogiroFile)
            .where(AutogiroFile.direction == "out", AutogiroFile.for_date == on)
        ).scalar_one()
        + 1
    )
    file_id = _store_file(
        conn, "out", "mandates", f"autogiro-medgivanden-{on.isoformat()}-{seq}.txt", data, on, len(records), now
    )
    if creates:
        conn.execute(
            update(AutogiroMandate)
            .where(AutogiroMandate.id.in_([x.id for x in creates]))
            .values(request_file_id=file_id)
        )
    if cancels:
        conn.execute(
            update(AutogiroMandate)
            .where(AutogiroMandate.id.in_([x.id for x in cancels]))
            .values(cancel_file_id=file_id)
        )
    result.add("mandates", len(creates))
    result.add("cancellations", len(cancels))


def _export_payments(
    conn: Connection,
    bg: str,
    terms: AutopayTerms,
    on: date,
    now: datetime,
    result: RunResult,
    notes: list[Notification],
) -> None:
    """Payment orders for Bankgirot: invoices due within the lead days with an approved mandate, and new
    attempts scheduled by then; one file, each order a pending draw with its timeline entry."""
    first_day = add_banking_days(on, 1)  # Bankgirot needs the order the banking day before at the latest
    last_day = on + timedelta(days=terms.lead_days)
    mandates = autogiro_orders.drawable_mandates(conn)
    orders = autogiro_orders.first_orders(conn, mandates, on, first_day, last_day) if mandates else []
    orders += autogiro_orders.new_attempts(conn, mandates, first_day, last_day, now, result, notes)
    if not orders:
        return
    payments = [
        ag.PaymentOrder(when, mandate.payer_number, amount, (inv.ocr or inv.number)[:16])
        for inv, amount, mandate, when, _d in orders
    ]
    data = ag.write_request(ag.RequestFile(on, terms.bankgirot_customer_number, bg, payments=payments))
    seq = (
        conn.execute(
            select(func.count())
            .select_from(AutogiroFile)
            .where(AutogiroFile.direction == "out", AutogiroFile.for_date == on)
        ).scalar_one()
        + 1
    )
    file_id = _store_file(
        conn, "out", "payments", f"autogiro-betalningar-{on.isoformat()}-{seq}.txt", data, on, len(payments), now
    )
    for order in orders:
        autogiro_orders.record_order(conn, order, file_id, now)
    result.add("orders", len(orders))
    result.add("amount_ore", sum(o[1] for o in orders))


# --- autogiro: the answers in -----------------------------------------------------------------------------


def import_autogiro(
    engine: Engine,
    catalogue: Any,
    cfg: LifecycleConfig,
    data: bytes,
    source: str,
    *,
    today: date | None = None,
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> RunResult:
    """Apply an answer file from Bankgirot (mandate advice, payment specification, rejected orders).

    Raises ``AutogiroError`` for a bad file (nothing applied) and ``AutopayError`` for a file of
    another payee. The same file again, or a record already applied, changes nothing.
    """
    now = now or (clock.moment_on(today) if today else clock.now())
    today = today or clock.stockholm_date(now)
    parsed = ag.parse(data)
    if isinstance(parsed, ag.RequestFile):
        raise AutopayError("file", "this is a file to Bankgirot (TK01 AUTOGIRO), not an answer from Bankgirot")
    bg = payee_bankgiro(cfg, catalogue)
    if parsed.bankgiro.lstrip("0") != bg.lstrip("0"):
        raise AutopayError("file", f"it is for bankgiro {parsed.bankgiro.lstrip('0')}, ours is {bg}")
    kind = {ag.MandateAdviceFile: "mandate_advice", ag.PaymentSpecFile: "payment_spec", ag.RejectedFile: "rejected"}[
        type(parsed)
    ]
    result = RunResult(today.isoformat())
    result.counts["kind"] = kind  # type: ignore[assignment]
    digest = hashlib.sha256(data).hexdigest()
    notes: list[Notification] = []
    with engine.begin() as conn:
        old = conn.execute(
            select(AutogiroFile).where(AutogiroFile.direction == "in", AutogiroFile.sha256 == digest)
        ).first()
        if old is not None:
            result.add("duplicate_file")
            result.files = [{"id": old.id, "kind": old.kind, "name": old.name}]
            return result
        records = _answer_records(parsed)
        file_id = _store_file(conn, "in", kind, source, data, None, len(records), now)
        for record in records:
            ref = _record_ref(kind, record)
            try:
                with conn.begin_nested():
                    conn.execute(insert(AutogiroRecordRef).values(ref=ref, file_id=file_id, created_at=now))
            except IntegrityError:
                result.add("duplicate_records")
                continue
            if isinstance(record, ag.MandateAdvice):
                _apply_advice(conn, record, now, notes, result)
            elif isinstance(record, ag.PaymentResult):
                _apply_result(conn, record, bg, cfg.autopay, today, now, notes, result)
            else:
                _apply_rejection(conn, record, cfg.autopay, today, now, notes, result)
        conn.execute(update(AutogiroFile).where(AutogiroFile.id == file_id).values(result=dict(result.counts)))
    result.files = [{"id": file_id, "kind": kind, "name": source}]
    send_notes(engine, notes, mail, sms, result)
    return result


def _answer_records(parsed: ag.AnswerFile) -> Sequence[ag.MandateAdvice | ag.PaymentResult | ag.RejectedOrder]:
    """The records of an answer file: mandate advices, payment results or rejected orders."""
    if isinstance(parsed, ag.MandateAdviceFile):
        return parsed.advices
    if isinstance(parsed, ag.PaymentSpecFile):
        return parsed.results
    return parsed.orders


def _record_ref(kind: str, r: Any) -> str:
    if kind == "mandate_advice":
        parts = ["medavi", r.payer_number, r.info_code, r.comment_code, r.advice_date.isoformat(), r.account]
    elif kind == "payment_spec":
        parts = [
            "spec",
            r.record_type,
            r.payment_date.isoformat(),
            r.payer_number,
            str(r.amount_ore),
            r.reference,
            r.status_code,
            r.payee_bankgiro,
        ]
    else:
        parts = [
            "rejected",
            r.record_type,
            r.payment_date_raw,
            r.payer_number,
            str(r.amount_ore),
            r.reference,
            r.comment_code,
        ]
    return ":".join(p.strip() for p in parts)[:200]


def _mandate_by_payer(conn: Connection, payer_number: str) -> Any:
    return conn.execute(select(AutogiroMandate).where(AutogiroMandate.payer_number == payer_number.lstrip("0"))).first()


def _apply_advice(
    conn: Connection, a: ag.MandateAdvice, now: datetime, notes: list[Notification], result: RunResult
) -> None:
    mandate = _mandate_by_payer(conn, a.payer_number)
    if mandate is None:
        result.add("unknown")
        return
    outcome = a.outcome
    if outcome == "renumbered":
        result.add("ignored")
        return
    new_status = {"approved": "approved", "rejected": "rejected", "withdrawn": "withdrawn"}[outcome]
    conn.execute(
        update(AutogiroMandate)
        .where(AutogiroMandate.id == mandate.id)
        .values(status=new_status, answered_at=now, answer_code=f"{a.info_code}/{a.comment_code}", answer_text=a.text)
    )
    result.add(new_status)
    current = current_mandate(conn, mandate.customer_id)
    row = method_row(conn, mandate.customer_id)
    if current is None or current.id != mandate.id or row is None or row.method != "autogiro":
        return  # an old mandate (replaced or cancelled by us): the payment method is not about it
    if outcome == "approved":
        set_method(conn, mandate.customer_id, now, status="active", since=now, notice=None)
        return
    notice = f"mandate_{outcome}:{a.comment_code}"
    set_method(conn, mandate.customer_id, now, status="failed", notice=notice)
    sv, en = notice_text(notice, "sv") or "", notice_text(notice, "en") or ""
    notes.append(
        Notification(
            mandate.customer_id,
            f"autogiro-mandate:{mandate.id}:{outcome}",
            ("Autogiro: medgivandet gäller inte", "Autogiro: the mandate is not in force"),
            (sv + "\n", en + "\n"),
        )
    )


def _pending_draw(conn: Connection, payer_number: str, amount: int, when: date | None) -> Any:
    q = (
        select(AutopayDraw)
        .where(
            AutopayDraw.method == "autogiro",
            AutopayDraw.status == "pending",
            AutopayDraw.payer_number == payer_number.lstrip("0"),
            AutopayDraw.amount_ore == amount,
        )
        .order_by(AutopayDraw.draw_date, AutopayDraw.id)
    )
    rows = list(conn.execute(q))
    exact = [d for d in rows if when is not None and d.draw_date == when]
    return (exact or rows)[0] if rows else None


STATUS_SV = {"1": "täckning saknades på kontot", "2": "kontot är inte kopplat till autogiro (avslutat)"}


def _apply_result(
    conn: Connection,
    r: ag.PaymentResult,
    bg: str,
    terms: AutopayTerms,
    today: date,
    now: datetime,
    notes: list[Notification],
    result: RunResult,
) -> None:
    if r.record_type != "82":
        result.add("ignored")  # outgoing payments and refunds: not drawn by this system
        return
    draw = _pending_draw(conn, r.payer_number, r.amount_ore, r.payment_date)
    if draw is None:
        result.add("unknown")
        return
    if r.status_code == "0":
        reference = f"autogiro:{bg}:{r.payment_date.isoformat()}:{r.payer_number.lstrip('0')}:{draw.id}"
        inv = invoice_row(conn, draw.invoice_id)
        ledger.record_payment(
            conn,
            invoice_id=inv.id,
            reference=reference,
            method="autogiro",
            amount_ore=r.amount_ore,
            customer_id=inv.customer_id,
            ocr=inv.ocr,
            received_at=noon(r.payment_date),
            actor="autogiro",
        )
        conn.execute(
            update(AutopayDraw)
            .where(AutopayDraw.id == draw.id)
            .values(
                status="paid",
                reference=reference,
                result_code="0",
                result_text=r.text,
                paid_at=noon(r.payment_date),
                updated_at=now,
            )
        )
        result.add("paid")
        result.add("paid_ore", r.amount_ore)
    elif r.status_code == "9":  # Bankgirot tries again itself: still pending
        conn.execute(
            update(AutopayDraw)
            .where(AutopayDraw.id == draw.id)
            .values(result_code="9", result_text=r.text, updated_at=now)
        )
        result.add("renewed")
    else:
        draw_failed(
            conn,
            draw,
            terms,
            code=r.status_code,
            reason_sv=STATUS_SV.get(r.status_code, r.text),
            reason_en=r.text,
            retry=r.status_code == "1",
            today=today,
            now=now,
            notes=notes,
            result=result,
        )
        result.add("failed")


def _apply_rejection(
    conn: Connection,
    o: ag.RejectedOrder,
    terms: AutopayTerms,
    today: date,
    now: datetime,
    notes: list[Notification],
    result: RunResult,
) -> None:
    if o.record_type != "82":
        result.add("ignored")
        return
    draw = _pending_draw(conn, o.payer_number, o.amount_ore, o.payment_date)
    if draw is None:
        result.add("unknown")
        return
    mandate_gone = o.comment_code in ag.MANDATE_REJECTION_CODES
    reason_sv = {
        "01": "medgivande saknas",
        "02": "kontot är inte godkänt eller avslutat",
        "03": "medgivandet är stoppat",
    }.get(o.comment_code, f"avvisad av Bankgirot (kod {o.comment_code})")
    draw_failed(
        conn,
        draw,
        terms,
        code=o.comment_code,
        reason_sv=reason_sv,
        reason_en=o.text,
        retry=not mandate_gone,
        today=today,
        now=now,
        notes=notes,
        result=result,
    )
    result.add("rejected_orders")
