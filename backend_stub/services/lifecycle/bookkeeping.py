"""Bookkeeping export: the ledger's events of a date range as SIE 4 verifications on BAS accounts.

One verification per invoice (series F), credit note (K), rounding (O), payment (B), agent
allocation of an unmatched payment (M), reminder fee or interest charge (R). Accounts come
from the operator's lifecycle configuration (``Accounts``). Every verification balances.

- invoice / credit note: receivables debit the gross amount; revenue per line kind and output
  VAT per rate credit it (credit notes the same with opposite signs);
- rounding: receivables against öres- och kronutjämning;
- payment: bank against receivables; an unmatched payment against unmatched payments, moved to
  receivables when an agent allocates it; refunds the other way; moves of credit balance between a
  customer's invoices stay inside receivables and are not exported;
- reminder fee (outside VAT) and late interest: receivables against their income accounts;
- a small balance carried to the next invoice (rules §5): its line on that invoice credits receivables
  (a transfer between receivables, no revenue); one written off (series A): customer losses against receivables.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, Engine, select

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.lifecycle_terms import Accounts
from backend_stub.formats.sie import Trans, Verification, write_sie
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge


def _split(total: int, weights: dict[str, int], vat_rate: Decimal = Decimal(0)) -> dict[str, int]:
    """``total`` (a VAT rate's net) over accounts whose lines sum to ``weights`` (gross at ``vat_rate``).

    Each account gets its own lines' exact net ``gross / (1 + rate)`` rounded down, then the öre
    the VAT rounding leaves over go one each to the largest remainders (ties: account order), so
    no account takes another's öre and the sum is exactly ``total``.
    """
    keys = sorted(weights)
    if not keys:
        return {}
    if not any(weights.values()):
        return {k: total if k == keys[0] else 0 for k in keys}
    exact = {k: Fraction(weights[k]) / (1 + Fraction(vat_rate)) for k in keys}
    out = {k: math.floor(exact[k]) for k in keys}
    left = total - sum(out.values())
    order = sorted(keys, key=lambda k: (-(exact[k] - out[k]), k))
    step = 1 if left >= 0 else -1
    for i in range(abs(left)):
        # |left| ≤ number of accounts: the exact nets sum to the net within half an öre
        k = order[i % len(order)] if step > 0 else order[::-1][i % len(order)]
        out[k] += step
    return out


def invoice_trans(doc: dict[str, Any], acc: Accounts) -> list[Trans]:
    """Receivables, revenue per line kind and VAT per rate of an invoice or credit note (without rounding)."""
    trans = [Trans(acc.receivables, doc["gross_ore"])]
    by_rate: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ln in doc["lines"]:
        # a small balance carried from an earlier invoice is a transfer between receivables, not revenue
        account = acc.receivables if ln["kind"] == "carried" else acc.revenue_account(ln["kind"])
        by_rate[str(ln["vat_rate"])][account] += ln["amount_ore"]
    revenue: dict[str, int] = defaultdict(int)
    for v in doc["vat"]:
        weights = dict(by_rate.get(str(v["rate"]), {}))
        for account, net in _split(v["net_ore"], weights or {acc.revenue_default: 1}, Decimal(str(v["rate"]))).items():
            revenue[account] += net
        if v["vat_ore"]:
            trans.append(Trans(acc.vat_account(str(v["rate"])), -v["vat_ore"]))
    trans += [Trans(a, -n) for a, n in sorted(revenue.items()) if n]
    return [t for t in trans if t.amount_ore]


def _day(value: datetime) -> date:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).date()


# (day, series, text, transactions): one verification before it is numbered.
_Item = tuple[date, str, str, list[Trans]]


def verifications(engine: Engine, cfg: LifecycleConfig, start: date, end: date) -> list[Verification]:
    """Every verification dated ``start`` through ``end``, in date order, numbered per series."""
    acc = cfg.accounts
    lo = datetime.combine(start, time(0), tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    with engine.connect() as conn:
        items = _invoice_items(conn, acc, start, end)
        numbers = {r.id: r.number for r in conn.execute(select(m.Invoice.id, m.Invoice.number))}
        items += _payment_items(conn, acc, lo, hi, numbers)
        items += _allocation_items(conn, acc, lo, hi, numbers)
        items += _charge_items(conn, acc, start, end, numbers)
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    counters: dict[str, int] = defaultdict(int)
    out = []
    for day, series, text, trans in items:
        counters[series] += 1
        out.append(Verification(series, counters[series], day, text, trans))
    return out


def _invoice_items(conn: Connection, acc: Accounts, start: date, end: date) -> list[_Item]:
    """Invoices (F) and credit notes (K) on their invoice date, and their öre rounding (O)."""
    items: list[_Item] = []
    for inv in conn.execute(
        select(m.Invoice)
        .where(m.Invoice.invoice_date >= start, m.Invoice.invoice_date <= end)
        .order_by(m.Invoice.invoice_date, m.Invoice.number)
    ):
        credit = inv.kind == "credit_note"
        trans = invoice_trans(inv.document, acc)
        if trans:
            text = f"{'Kreditfaktura' if credit else 'Faktura'} {inv.number}"
            items.append((inv.invoice_date, "K" if credit else "F", text, trans))
        if inv.rounding_ore:
            items.append(
                (
                    inv.invoice_date,
                    "O",
                    f"Öresutjämning {inv.number}",
                    [Trans(acc.receivables, inv.rounding_ore), Trans(acc.rounding, -inv.rounding_ore)],
                )
            )
    return items


def _payment_items(conn: Connection, acc: Accounts, lo: datetime, hi: datetime, numbers: dict[str, str]) -> list[_Item]:
    """Money in and out (B) and small balances written off (A), on the day received."""
    items: list[_Item] = []
    pays = {p.id: p for p in conn.execute(select(m.Payment))}
    for p in sorted(pays.values(), key=lambda p: (p.received_at, p.id)):
        if p.method in ("credit_balance", "carried") or not (lo <= _aware(p.received_at) < hi):
            continue  # moves inside receivables (a carried balance is booked with the invoice it went to)
        day = _day(p.received_at)
        number = numbers.get(p.invoice_id, "")
        amount = p.amount_ore
        if p.method == "written_off":
            text = f"Avskrivet obetalt belopp {number}"
            items.append((day, "A", text, [Trans(acc.write_offs, amount), Trans(acc.receivables, -amount)]))
        elif p.status in ("unmatched", "allocated"):
            text = f"Inbetalning utan matchning {p.reference}"
            items.append((day, "B", text, [Trans(acc.bank, amount), Trans(acc.unmatched_payments, -amount)]))
        elif p.method == "refund":
            text = f"Återbetalning {number}"
            items.append((day, "B", text, [Trans(acc.receivables, -amount), Trans(acc.bank, amount)]))
        else:
            text = f"Inbetalning {number} {p.method}"
            items.append((day, "B", text, [Trans(acc.bank, amount), Trans(acc.receivables, -amount)]))
    return items


def _allocation_items(
    conn: Connection, acc: Accounts, lo: datetime, hi: datetime, numbers: dict[str, str]
) -> list[_Item]:
    """An unmatched payment allocated to an invoice (M), on the day it was allocated."""
    items: list[_Item] = []
    for e in conn.execute(
        select(m.InvoiceEvent).where(
            m.InvoiceEvent.kind == "payment_allocated", m.InvoiceEvent.at >= lo, m.InvoiceEvent.at < hi
        )
    ):
        amount = int(e.data["amount_ore"])
        items.append(
            (
                _day(e.at),
                "M",
                f"Fördelad inbetalning {e.data.get('reference', '')} till {numbers.get(e.invoice_id, '')}",
                [Trans(acc.unmatched_payments, amount), Trans(acc.receivables, -amount)],
            )
        )
    return items


def _charge_items(conn: Connection, acc: Accounts, start: date, end: date, numbers: dict[str, str]) -> list[_Item]:
    """Reminder fees and late interest (R), on the day they accrue to."""
    items: list[_Item] = []
    for c in conn.execute(
        select(InvoiceCharge).where(InvoiceCharge.accrued_to >= start, InvoiceCharge.accrued_to <= end)
    ):
        account = acc.reminder_fees if c.kind == "reminder_fee" else acc.interest
        text = "Påminnelseavgift" if c.kind == "reminder_fee" else "Dröjsmålsränta"
        items.append(
            (
                c.accrued_to,
                "R",
                f"{text} {numbers.get(c.invoice_id, '')}",
                [Trans(acc.receivables, c.amount_ore), Trans(account, -c.amount_ore)],
            )
        )
    return items


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def export_sie(engine: Engine, catalogue: Catalogue, cfg: LifecycleConfig, start: date, end: date) -> bytes:
    if end < start:
        raise ValueError("--to: must not be before --from")
    vers = verifications(engine, cfg, start, end)
    used = {t.account for v in vers for t in v.trans}
    names = {a: cfg.accounts.names.get(a, a) for a in used}
    op = catalogue.operator
    return write_sie(
        company=op.name,
        org_number=op.org_number,
        generated=clock.today(),
        year_start=date(start.year, 1, 1),
        year_end=date(start.year, 12, 31),
        accounts=names,
        verifications=vers,
    )
