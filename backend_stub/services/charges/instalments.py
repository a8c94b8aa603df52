"""Devices on instalment: a phone paid over 12–36 months on the customer's invoices.

An instalment belongs to the customer (the account pays it), bought with one subscription.
Each regular invoice bills the months due by its period (``invoicing.instalment_charges``);
the monthly amount is the cash price / months rounded half up to öre and the last month
takes the rest (``catalogue.instalment_amounts``), so the months add up to the cash price.
Ending the subscription does not end the instalment: the months keep coming on the
customer's invoices until paid, or the remainder is paid off at once (``payoff``), on one
final line of the next invoice. No debt is lost either way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue, instalment_amounts
from backend_stub.domain.errors import Conflict, Invalid, NotFound
from backend_stub.domain.periods import period_for
from backend_stub.services.lifecycle import messaging
from backend_stub.services.support import audit
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import Instalment
from selfcare_common.money_format import format_kr

log = logging.getLogger(__name__)


def instalment_entry(row: Any, msisdn: str | None) -> dict[str, Any]:
    """An instalment as the API shows it (contract: docs/charges.md)."""
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "msisdn": msisdn,
        "device_id": row.device_id,
        "device_name": row.device_name,
        "months": row.months,
        "monthly_ore": row.monthly_ore,
        "total_ore": row.total_ore,
        "start_period": row.start_period,
        "months_billed": row.months_billed,
        "paid_ore": row.paid_ore,
        "remaining_ore": row.total_ore - row.paid_ore,
        "months_left": row.months - row.months_billed,
        "status": row.status,
        "payoff_pending": row.status == "paid_off" and row.payoff_invoice_id is None,
    }


def _msisdn(conn: Connection, subscription_id: int) -> str | None:
    return conn.execute(select(m.Subscription.msisdn).where(m.Subscription.id == subscription_id)).scalar()


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(name, f"{value!r} is not a whole number")
    return value


def create_instalment(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    *,
    subscription_id: int,
    device_id: str,
    months: int,
    start_period: str,
    actor: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Put ``device_id`` on instalment over ``months`` for a subscription of ``customer_id`` (audited)."""
    subscription_id = _int(subscription_id, "subscription_id")
    months = _int(months, "months")
    device = catalogue.devices.get(device_id) if isinstance(device_id, str) else None
    if device is None:
        raise Invalid("device_id", f"unknown device {device_id!r}")
    if months not in device.months:
        raise Invalid(
            "months", f"{device.name} is sold over {' or '.join(map(str, device.months))} months, not {months}"
        )
    try:
        period = period_for(start_period)
    except ValueError:
        raise Invalid("start_period", f"{start_period!r} is not a month like 2026-03") from None
    monthly, _last = instalment_amounts(device.cash_price_ore, months)
    now = now or clock.now()
    with engine.begin() as conn:
        if conn.execute(select(m.Customer.id).where(m.Customer.id == customer_id)).scalar() is None:
            raise NotFound(f"customer_id: no customer {customer_id}")
        owner = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)).scalar()
        if owner != customer_id:
            raise Invalid("subscription_id", f"the customer has no subscription {subscription_id}")
        last_end = conn.execute(
            select(m.PlanSegment.end_date)
            .where(m.PlanSegment.subscription_id == subscription_id)
            .order_by(m.PlanSegment.start_date.desc())
            .limit(1)
        ).first()
        if last_end is not None and last_end[0] is not None and last_end[0] < period.start:
            raise Invalid("subscription_id", f"the subscription ended {last_end[0].isoformat()}, before {start_period}")
        new_id = conn.execute(
            insert(Instalment)
            .values(
                customer_id=customer_id,
                subscription_id=subscription_id,
                device_id=device.id,
                device_name=device.name,
                months=months,
                total_ore=device.cash_price_ore,
                monthly_ore=monthly,
                vat_rate=str(device.vat_rate),
                start_period=period.label,
                months_billed=0,
                paid_ore=0,
                status="active",
                created_by=actor[:64],
                created_at=now,
            )
            .returning(Instalment.id)
        ).scalar_one()
        audit.log(
            conn,
            actor[:64],
            "instalment_created",
            f"instalment:{new_id}",
            {
                "customer_id": customer_id,
                "device_id": device.id,
                "months": months,
                "total_ore": device.cash_price_ore,
                "start_period": period.label,
            },
            at=now,
        )
        row = conn.execute(select(Instalment).where(Instalment.id == new_id)).one()
        return instalment_entry(row, _msisdn(conn, subscription_id))


def list_instalments(engine: Engine, customer_id: int) -> dict[str, Any]:
    """A customer's instalments, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*Instalment.__table__.c, m.Subscription.msisdn)
            .join(m.Subscription, m.Subscription.id == Instalment.subscription_id)
            .where(Instalment.customer_id == customer_id)
            .order_by(Instalment.id.desc())
        ).all()
    return {"instalments": [instalment_entry(r, r.msisdn) for r in rows]}


def instalment_customer(engine: Engine, instalment_id: int) -> int | None:
    """Whose instalment it is (None if there is none)."""
    with engine.connect() as conn:
        return conn.execute(select(Instalment.customer_id).where(Instalment.id == instalment_id)).scalar()


def payoff(
    engine: Engine,
    instalment_id: int,
    *,
    actor: str,
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """Pay off an active instalment early: the next invoice carries one final line for the whole remainder."""
    now = now or clock.now()
    with engine.begin() as conn:
        row = conn.execute(select(Instalment).where(Instalment.id == instalment_id)).first()
        if row is None:
            raise NotFound(f"instalment_id: no instalment {instalment_id}")
        changed = conn.execute(
            update(Instalment)
            .where(Instalment.id == instalment_id, Instalment.status == "active")
            .values(status="paid_off", payoff_requested_at=now, payoff_by=actor[:64])
        ).rowcount
        if not changed:
            state = "paid off" if row.status == "paid_off" else "fully invoiced"
            raise Conflict(f"status: instalment {instalment_id} is already {state}")
        row = conn.execute(select(Instalment).where(Instalment.id == instalment_id)).one()
        audit.log(
            conn,
            actor[:64],
            "instalment_payoff",
            f"instalment:{instalment_id}",
            {"customer_id": row.customer_id, "remaining_ore": row.total_ore - row.paid_ore},
            at=now,
        )
        entry = instalment_entry(row, _msisdn(conn, row.subscription_id))
        customer = conn.execute(select(m.Customer).where(m.Customer.id == row.customer_id)).one()
    _confirm_payoff(engine, customer, entry, mail, sms, catalogue)
    return entry


PAYOFF_TEXT = {
    "sv": (
        "Slutbetalning av {device}",
        "Hej {customer}!\n\nDu har valt att betala av {device} i förtid. Återstoden, {left}, kommer som en rad "
        "på din nästa faktura. Därefter är telefonen helt betald.\n\nVänliga hälsningar\n{operator}",
    ),
    "en": (
        "Paying off {device}",
        "Hello {customer},\n\nYou have chosen to pay off {device} early. The rest, {left}, will be one line on "
        "your next invoice. After that the phone is fully paid.\n\nKind regards\n{operator}",
    ),
}


def _confirm_payoff(
    engine: Engine,
    customer: Any,
    entry: dict[str, Any],
    mail: messaging.MailSettings | None,
    sms: messaging.SmsProvider | None,
    catalogue: Catalogue | None,
) -> None:
    lang = "en" if customer.language == "en" else "sv"
    subject, body = PAYOFF_TEXT[lang]
    values = {
        "device": entry["device_name"],
        "customer": customer.name,
        "left": format_kr(entry["remaining_ore"], lang),
        "operator": catalogue.operator.name if catalogue else "",
    }
    subject, text = subject.format(**values), body.format(**values).rstrip()
    key = f"instalment-payoff:{entry['id']}"
    try:
        if customer.email and (customer.channel != "sms" or not customer.phone):
            messaging.send_email(
                engine,
                mail or messaging.MailSettings.from_env(),
                to=customer.email,
                subject=subject,
                text=text,
                key=key,
            )
        elif customer.phone:
            messaging.send_sms(
                engine, sms or messaging.OutboxSmsProvider(), to=customer.phone, text=text.split("\n\n")[1], key=key
            )
    except Exception:  # the payoff stands; the outbox row says what failed
        log.exception("confirmation of the payoff of instalment %s was not sent", entry["id"])
