"""One-off charges and credits for a customer's next invoice (e.g. "Byte av SIM-kort", 99 kr).

Staff add them with a reason (audited with who did it); each lands on the customer's next
regular invoice as a line of its own (a credit is a negative line) and is then ``invoiced``.
A pending one can be deleted; an invoiced one is corrected with a credit note instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from backend_stub import clock
from backend_stub.domain.errors import Conflict, Invalid, NotFound
from backend_stub.services.support import audit
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import OneOffCharge

MAX_AMOUNT_ORE = 10_000_000  # 100 000 kr either way: anything larger is a typo, not a one-off


def charge_entry(row: Any) -> dict[str, Any]:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "subscription_id": row.subscription_id,
        "description": row.description,
        "amount_ore": row.amount_ore,
        "vat_rate": row.vat_rate,
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": created.isoformat(),
        "status": row.status,
        "invoice_id": row.invoice_id,
    }


def parse_vat_rate(value: Any) -> Decimal:
    """A VAT rate like ``"0.25"`` (0 ≤ rate < 1, at most 4 decimals)."""
    if isinstance(value, float | bool):
        raise Invalid("vat_rate", 'write the rate as a string like "0.25"')
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid("vat_rate", f'{value!r} is not a rate like "0.25"') from None
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or not 0 <= rate < 1 or (isinstance(exponent, int) and exponent < -4):
        raise Invalid("vat_rate", f'{value!r} is not a rate like "0.25" (0 to below 1)')
    return rate


def add_charge(
    engine: Engine,
    customer_id: int,
    *,
    description: str,
    amount_ore: int,
    reason: str,
    actor: str,
    subscription_id: int | None = None,
    vat_rate: Any = "0.25",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Add a one-off charge (positive) or credit (negative) for the customer's next invoice (audited)."""
    description = (description or "").strip() if isinstance(description, str) else ""
    if not 1 <= len(description) <= 200:
        raise Invalid("description", '1..200 characters, e.g. "Byte av SIM-kort"')
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not 1 <= len(reason) <= 500:
        raise Invalid("reason", "say why, 1..500 characters")
    if isinstance(amount_ore, bool) or not isinstance(amount_ore, int):
        raise Invalid("amount_ore", "a whole number of öre (negative for a credit)")
    if amount_ore == 0 or abs(amount_ore) > MAX_AMOUNT_ORE:
        raise Invalid("amount_ore", f"not 0 and at most {MAX_AMOUNT_ORE // 100} kr either way")
    rate = parse_vat_rate(vat_rate)
    now = now or clock.now()
    with engine.begin() as conn:
        if conn.execute(select(m.Customer.id).where(m.Customer.id == customer_id)).scalar() is None:
            raise NotFound(f"customer_id: no customer {customer_id}")
        if subscription_id is not None:
            owner = conn.execute(
                select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)
            ).scalar()
            if owner != customer_id:
                raise Invalid("subscription_id", f"the customer has no subscription {subscription_id}")
        new_id = conn.execute(
            insert(OneOffCharge)
            .values(
                customer_id=customer_id,
                subscription_id=subscription_id,
                description=description,
                amount_ore=amount_ore,
                vat_rate=str(rate),
                reason=reason,
                created_by=actor[:64],
                created_at=now,
                status="pending",
            )
            .returning(OneOffCharge.id)
        ).scalar_one()
        audit.log(
            conn,
            actor[:64],
            "charge_added",
            f"charge:{new_id}",
            {"customer_id": customer_id, "amount_ore": amount_ore, "description": description, "reason": reason},
            at=now,
        )
        return charge_entry(conn.execute(select(OneOffCharge).where(OneOffCharge.id == new_id)).one())


def list_charges(engine: Engine, customer_id: int) -> dict[str, Any]:
    """A customer's one-off charges and credits, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(OneOffCharge).where(OneOffCharge.customer_id == customer_id).order_by(OneOffCharge.id.desc())
        ).all()
    return {"charges": [charge_entry(r) for r in rows]}


def charge_customer(engine: Engine, charge_id: int) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(OneOffCharge.customer_id).where(OneOffCharge.id == charge_id)).scalar()


def delete_charge(engine: Engine, charge_id: int, *, actor: str) -> None:
    """Delete a pending charge (audited). An invoiced one raises ``Conflict``."""
    with engine.begin() as conn:
        row = conn.execute(select(OneOffCharge).where(OneOffCharge.id == charge_id)).first()
        if row is None:
            raise NotFound(f"charge_id: no charge {charge_id}")
        # A bill run that claimed it holds the row (PostgreSQL) or the writer lock (SQLite):
        # this waits for it and then deletes nothing.
        gone = conn.execute(
            delete(OneOffCharge).where(OneOffCharge.id == charge_id, OneOffCharge.invoice_id.is_(None))
        ).rowcount
        if not gone:
            raise Conflict(f"status: charge {charge_id} is already on an invoice; credit it instead")
        audit.log(
            conn,
            actor[:64],
            "charge_deleted",
            f"charge:{charge_id}",
            {"customer_id": row.customer_id, "amount_ore": row.amount_ore, "description": row.description},
        )
