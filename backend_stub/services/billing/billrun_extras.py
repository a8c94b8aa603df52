"""What an invoice bills besides fees and usage: one-off charges, add-ons bought and instalment months.

The bill run loads them per batch (``load_extras``, rows locked on PostgreSQL) and marks them billed
with their invoice, in its transaction (``claim_extras``); the forecast reads the same without locks
(``pending_extras``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, bindparam, insert, select, update

from backend_stub import clock
from backend_stub.domain import invoicing, texts
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period
from backend_stub.domain.rating import STOCKHOLM
from backend_stub.storage.models.charges import AddonPurchase, Instalment, InstalmentBill, OneOffCharge
from backend_stub.storage.repo import chunks

_Q = TypeVar("_Q", bound=Select[Any])


@dataclass(frozen=True)
class Pending:
    """Which kinds of charges wait for an invoice at all (a batch skips the queries of the others)."""

    charges: bool = False
    addons: bool = False
    instalments: bool = False


ALL_PENDING = Pending(True, True, True)


@dataclass
class Extras:
    """One account's one-off charges, add-on purchases and instalment months for this invoice."""

    charges: list[tuple[Any, invoicing.OneOffCharge]] = field(default_factory=list)
    addons: list[tuple[Any, invoicing.AddonCharge]] = field(default_factory=list)
    instalments: list[tuple[invoicing.InstalmentPlan, list[invoicing.InstalmentCharge]]] = field(default_factory=list)
    instalment_rows: dict[int, Any] = field(default_factory=dict)


def _locked(conn: Connection, q: _Q) -> _Q:
    """Rows this batch will claim are locked on PostgreSQL (a charge deleted meanwhile waits, then finds it billed)."""
    return q.with_for_update() if conn.dialect.name == "postgresql" else q


def _unlocked(_conn: Connection, q: _Q) -> _Q:
    return q


def load_extras(
    conn: Connection,
    todo: list[int],
    periods: dict[int, Period],
    label: str,
    pending: Pending,
    catalogue: Catalogue | None = None,
    *,
    lock: bool = True,
) -> dict[int, Extras]:
    """What each account's invoice bills besides fees and usage; no query for a kind nobody has pending.

    ``lock`` False reads without row locks (the forecast, which claims nothing).
    """
    extras: dict[int, Extras] = {}
    maybe_locked = _locked if lock else _unlocked
    if pending.charges:
        for part in chunks(todo):
            _load_charges(conn, maybe_locked(conn, _charges_of(part)), extras)
    if pending.addons:
        for part in chunks(todo):
            _load_addons(conn, maybe_locked(conn, _addons_of(part)), periods, catalogue, extras)
    if pending.instalments:
        for part in chunks(todo):
            _load_instalments(conn, maybe_locked(conn, _instalments_of(part)), label, catalogue, extras)
    return extras


def _charges_of(customer_ids: Sequence[int]) -> Select[OneOffCharge]:
    return (
        select(OneOffCharge)
        .where(OneOffCharge.customer_id.in_(customer_ids), OneOffCharge.invoice_id.is_(None))
        .order_by(OneOffCharge.id)
    )


def _addons_of(customer_ids: Sequence[int]) -> Select[AddonPurchase]:
    return (
        select(AddonPurchase)
        .where(AddonPurchase.customer_id.in_(customer_ids), AddonPurchase.invoice_id.is_(None))
        .order_by(AddonPurchase.id)
    )


def _instalments_of(customer_ids: Sequence[int]) -> Select[Instalment]:
    return (
        select(Instalment)
        .where(
            Instalment.customer_id.in_(customer_ids),
            Instalment.status != "closed",
            Instalment.payoff_invoice_id.is_(None),
        )
        .order_by(Instalment.id)
    )


def _load_charges(conn: Connection, q: Select[OneOffCharge], extras: dict[int, Extras]) -> None:
    for r in conn.execute(q):
        extras.setdefault(r.customer_id, Extras()).charges.append(
            (r, invoicing.OneOffCharge(r.description, r.amount_ore, Decimal(r.vat_rate), r.subscription_id))
        )


def _load_addons(
    conn: Connection,
    q: Select[AddonPurchase],
    periods: dict[int, Period],
    catalogue: Catalogue | None,
    extras: dict[int, Extras],
) -> None:
    for r in conn.execute(q):
        if r.period_start > periods[r.customer_id].start:
            continue  # bought in a later period: that period's invoice
        extras.setdefault(r.customer_id, Extras()).addons.append((r, _addon_charge(r, catalogue)))


def _load_instalments(
    conn: Connection, q: Select[Instalment], label: str, catalogue: Catalogue | None, extras: dict[int, Extras]
) -> None:
    """Instalment plans with a month (or the payoff) to bill in ``label``."""
    for r in conn.execute(q):
        plan = instalment_plan(r, catalogue)
        charges = invoicing.instalment_charges(plan, label)
        if charges:
            extra = extras.setdefault(r.customer_id, Extras())
            extra.instalments.append((plan, charges))
            extra.instalment_rows[r.id] = r


def _addon_charge(r: Any, catalogue: Catalogue | None) -> invoicing.AddonCharge:
    """The charge of an ``addon_purchases`` row: the name as bought; English from the catalogue while
    the add-on is still in it under that name."""
    bought = r.bought_at if r.bought_at.tzinfo else r.bought_at.replace(tzinfo=UTC)
    addon = catalogue.addons.get(r.addon_id) if catalogue else None
    name_en = addon.name_en if addon and addon.name == r.name else ""
    return invoicing.AddonCharge(
        r.addon_id, r.name, r.price_ore, Decimal(r.vat_rate), _local_day(bought), r.subscription_id, name_en
    )


def pending_extras(conn: Connection, catalogue: Catalogue, customer_id: int, period: Period) -> Extras | None:
    """The one-off charges, add-ons and instalment months the account's invoice of ``period`` would bill.

    Read-only (no row locks): what the bill run's batch loads, for a look ahead.
    """
    return load_extras(
        conn, [customer_id], {customer_id: period}, period.label, ALL_PENDING, catalogue, lock=False
    ).get(customer_id)


def _local_day(at: datetime) -> date:
    return at.astimezone(STOCKHOLM).date()


def instalment_plan(row: Any, catalogue: Catalogue | None = None) -> invoicing.InstalmentPlan:
    """The domain value of an ``instalments`` row (the device's English name from ``catalogue``)."""
    device = catalogue.devices.get(row.device_id) if catalogue else None
    return invoicing.InstalmentPlan(
        id=row.id,
        device_name=row.device_name,
        months=row.months,
        total_ore=row.total_ore,
        monthly_ore=row.monthly_ore,
        vat_rate=Decimal(row.vat_rate),
        start_period=row.start_period,
        months_billed=row.months_billed,
        paid_ore=row.paid_ore,
        payoff=row.status == "paid_off",
        subscription_id=row.subscription_id,
        device_name_en=device.name_en if device and device.name == row.device_name else "",
    )


def instalment_summary(
    items: list[tuple[invoicing.InstalmentPlan, list[invoicing.InstalmentCharge]]],
) -> list[dict[str, Any]]:
    """Per instalment on the invoice: device, months billed, paid and left after it (the document's section)."""
    out = []
    for plan, charges in items:
        last = charges[-1]
        out.append(
            {
                "instalment_id": plan.id,
                "device_name": plan.device_name,
                **(
                    {"device_name_en": plan.device_name_en} if plan.device_name_en not in ("", plan.device_name) else {}
                ),
                "months": plan.months,
                "first_month": charges[0].first_month,
                "last_month": last.last_month,
                "amount_ore": sum(c.amount_ore for c in charges),
                "total_ore": plan.total_ore,
                "paid_ore": last.paid_after_ore,
                "remaining_ore": last.left_after_ore,
                "months_left": plan.months - last.last_month,
                "payoff": last.kind == "payoff",
                "subscription_id": plan.subscription_id,
            }
        )
    return out


def claim_extras(conn: Connection, extra: Extras, inv_id: str) -> list[dict[str, Any]]:
    """Mark what the invoice ``inv_id`` bills as billed (in its transaction); its timeline entries."""
    events: list[dict[str, Any]] = []
    if extra.charges:
        events += _claim_charges(conn, extra.charges, inv_id)
    if extra.addons:
        events += _claim_addons(conn, extra.addons, inv_id)
    if extra.instalments:
        events += _claim_instalments(conn, extra, inv_id)
    return events


def _timeline_entry(inv_id: str, at: datetime, kind: str, data: dict[str, Any], fallback: str) -> dict[str, Any]:
    return dict(
        invoice_id=inv_id, at=at, actor="system", kind=kind, text=texts.render(kind, data, "sv", fallback), data=data
    )


def _claim_charges(
    conn: Connection, charges: list[tuple[Any, invoicing.OneOffCharge]], inv_id: str
) -> list[dict[str, Any]]:
    """One-off charges invoiced: each with a ``charge_added`` entry at the time it was added."""
    conn.execute(
        update(OneOffCharge)
        .where(OneOffCharge.id == bindparam("cid_"), OneOffCharge.invoice_id.is_(None))
        .values(invoice_id=inv_id, status="invoiced"),
        [{"cid_": r.id} for r, _ in charges],
    )
    events = []
    for r, _ in charges:
        data = {"charge_id": r.id, "description": r.description, "amount_ore": r.amount_ore}
        events.append(_timeline_entry(inv_id, r.created_at, "charge_added", data, r.description))
    return events


def _claim_addons(
    conn: Connection, addons: list[tuple[Any, invoicing.AddonCharge]], inv_id: str
) -> list[dict[str, Any]]:
    """Add-ons invoiced: each with an ``addon_purchased`` entry at the time it was bought."""
    conn.execute(
        update(AddonPurchase)
        .where(AddonPurchase.id == bindparam("pid_"), AddonPurchase.invoice_id.is_(None))
        .values(invoice_id=inv_id, status="invoiced"),
        [{"pid_": r.id} for r, _ in addons],
    )
    events = []
    for r, a in addons:
        data = {
            "purchase_id": r.id,
            "name": r.name,
            "amount_ore": r.price_ore,
            "bought_on": a.bought_on.isoformat(),
            **({"name_en": a.name_en} if a.name_en else {}),
        }
        events.append(_timeline_entry(inv_id, r.bought_at, "addon_purchased", data, r.name))
    return events


def _claim_instalments(conn: Connection, extra: Extras, inv_id: str) -> list[dict[str, Any]]:
    """Instalment months billed: the plan moves on (closed after its last month; a payoff keeps its
    invoice), one ``instalment_bills`` row per charge, and an ``instalment_payoff`` entry for a payoff."""
    events: list[dict[str, Any]] = []
    bills: list[dict[str, Any]] = []
    for plan, charges in extra.instalments:
        row = extra.instalment_rows[plan.id]
        last = charges[-1]
        payoff = last.kind == "payoff"
        values: dict[str, Any] = {"months_billed": last.last_month, "paid_ore": last.paid_after_ore}
        if payoff:
            values["payoff_invoice_id"] = inv_id
        elif last.last_month >= plan.months:
            values["status"] = "closed"
        conn.execute(update(Instalment).where(Instalment.id == plan.id).values(**values))
        bills += [
            {
                "instalment_id": plan.id,
                "invoice_id": inv_id,
                "first_month": c.first_month,
                "last_month": c.last_month,
                "amount_ore": c.amount_ore,
                "kind": c.kind,
            }
            for c in charges
        ]
        if payoff:
            data = {
                "instalment_id": plan.id,
                "device_name": plan.device_name,
                "amount_ore": last.amount_ore,
                **({"device_name_en": plan.device_name_en} if plan.device_name_en else {}),
            }
            at = row.payoff_requested_at or clock.now()
            events.append(_timeline_entry(inv_id, at, "instalment_payoff", data, plan.device_name))
    conn.execute(insert(InstalmentBill), bills)
    return events
