"""Why is this invoice different from the previous one? Computed, never written by hand.

The two invoices' lines are matched (same kind, tariff, subscription); each difference
becomes one plain-language item with its amount, and for usage the days the charged
records fell on ("+87,00 kr: Surf utöver 5 GB, 3,2 GB (14–17 okt)"). The items add up to
the difference between the two amounts to pay. Each item's ``text`` starts with its amount;
``label`` is the same text without it, for a page that shows the amount apart (once).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import Connection, Engine, func, select

from backend_stub.domain.rating import STOCKHOLM
from backend_stub.services.billing import documents
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.storage.models import billing as m
from selfcare_common.money_format import format_kr

TEXTS = {
    "sv": {
        "new": "ny",
        "gone": "finns inte längre",
        "rounding": "Öresavrundning",
        "first": "Din första faktura.",
        "same": "Samma belopp som förra fakturan.",
        "was": "förra fakturan {qty}",
        "credit": "Kreditfaktura {number}",
        "prev_credit": "Förra fakturans kreditfaktura {number}",
    },
    "en": {
        "new": "new",
        "gone": "no longer on the invoice",
        "rounding": "Rounding",
        "first": "Your first invoice.",
        "same": "The same amount as the previous invoice.",
        "was": "previous invoice {qty}",
        "credit": "Credit note {number}",
        "prev_credit": "The previous invoice's credit note {number}",
    },
}
LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def _money(ore: int, lang: str, signed: bool = True) -> str:
    """``+2,97 kr`` / ``+2.97 kr``: the amount written once, as the core's other texts write it."""
    if not signed:
        return format_kr(abs(ore), lang)
    return format_kr(ore, lang, signed=True) if ore else "±" + format_kr(0, lang)


def _qty(value: str, unit: str, lang: str) -> str:
    return f"{format_decimal(Decimal(value), locale=LOCALES[lang])} {unit}".strip()


def _key(line: dict[str, Any]) -> tuple:
    return line["kind"], line.get("rate_key"), line.get("subscription_id"), line.get("period")


def _group(lines: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = {}
    for ln in lines:
        k = _key(ln)
        if k in out:
            g = out[k]
            g["amount_ore"] += ln["amount_ore"]
            g["quantity"] = str(Decimal(g["quantity"]) + Decimal(ln["quantity"]))
        else:
            out[k] = dict(ln)
    return out


def _usage_days(conn: Connection, invoice_id: str, lang: str) -> dict[tuple[str | None, int | None], str]:
    """Per (tariff, subscription): the days the charged records of the invoice fell on."""
    u = m.UsageEvent
    rows = conn.execute(
        select(u.rate_key, u.subscription_id, func.min(u.started_at), func.max(u.started_at))
        .where(u.invoice_id == invoice_id, u.charge_exact > 0)
        .group_by(u.rate_key, u.subscription_id)
    )
    out: dict[tuple[str | None, int | None], str] = {}
    for key, sub, first, last in rows:
        a = datetime.fromtimestamp(first, STOCKHOLM).date()
        b = datetime.fromtimestamp(last, STOCKHOLM).date()
        loc = LOCALES[lang]
        if a == b:
            out[(key, sub)] = format_date(a, "d MMM", locale=loc)
        elif a.month == b.month:
            out[(key, sub)] = f"{a.day}–{format_date(b, 'd MMM', locale=loc)}"
        else:
            out[(key, sub)] = f"{format_date(a, 'd MMM', locale=loc)}–{format_date(b, 'd MMM', locale=loc)}"
    return out


def explain(engine: Engine, invoice_id: str, lang: str = "sv") -> dict[str, Any]:
    """The differences between an invoice and the customer's previous invoice."""
    lang = lang if lang in TEXTS else "sv"
    t = TEXTS[lang]
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        prev = _previous(conn, inv)
        days = _usage_days(conn, inv.id, lang)
        credits = {
            i: list(
                conn.execute(
                    select(m.Invoice.number, m.Invoice.amount_due_ore)
                    .where(m.Invoice.credits_invoice_id == i)
                    .order_by(m.Invoice.number)
                )
            )
            for i in ([inv.id] + ([prev.id] if prev is not None else []))
        }
    if prev is None:
        return {
            "invoice": {"id": inv.id, "number": inv.number, "amount_due_ore": inv.amount_due_ore},
            "previous": None,
            "difference_ore": 0,
            "items": [],
            "summary": t["first"],
        }
    cur_lines = _group(documents.localized(inv.document, lang)["lines"])
    prev_lines = _group(documents.localized(prev.document, lang)["lines"])
    items = _line_items(cur_lines, prev_lines, days, t, lang)
    rounding = inv.rounding_ore - prev.rounding_ore
    if rounding:
        items.append(_item(rounding, "rounding", None, t["rounding"], lang))
    # Credit notes change what each invoice asks for: the invoices are compared as they stand now.
    for which, sign in ((inv.id, 1), (prev.id, -1)):
        for note in credits[which]:
            label = t["credit" if sign > 0 else "prev_credit"].format(number=note.number)
            items.append(_item(sign * note.amount_due_ore, "credit_note", None, label, lang))
    items.sort(key=lambda i: -abs(i["delta_ore"]))
    now_amount = inv.amount_due_ore + sum(n.amount_due_ore for n in credits[inv.id])
    prev_amount = prev.amount_due_ore + sum(n.amount_due_ore for n in credits[prev.id])
    difference = now_amount - prev_amount
    assert sum(i["delta_ore"] for i in items) == difference
    summary = (
        t["same"]
        if difference == 0
        else (f"{_money(difference, lang)} ({_money(prev_amount, lang, False)} → {_money(now_amount, lang, False)})")
    )
    return {
        "invoice": {"id": inv.id, "number": inv.number, "amount_due_ore": inv.amount_due_ore, "amount_ore": now_amount},
        "previous": {
            "id": prev.id,
            "number": prev.number,
            "amount_due_ore": prev.amount_due_ore,
            "amount_ore": prev_amount,
            "period": prev.document["period"]["label"],
        },
        "difference_ore": difference,
        "items": items,
        "summary": summary,
    }


def _previous(conn: Connection, inv: Any) -> Any:
    """The customer's invoice of the same kind before ``inv`` (by period, then number), or None."""
    return conn.execute(
        select(m.Invoice)
        .where(
            m.Invoice.customer_id == inv.customer_id,
            m.Invoice.kind == inv.kind,
            (m.Invoice.period_start < inv.period_start)
            | ((m.Invoice.period_start == inv.period_start) & (m.Invoice.number < inv.number)),
        )
        .order_by(m.Invoice.period_start.desc(), m.Invoice.number.desc())
        .limit(1)
    ).first()


def _item(delta: int, kind: str, rate_key: str | None, label: str, lang: str) -> dict[str, Any]:
    return {
        "delta_ore": delta,
        "kind": kind,
        "rate_key": rate_key,
        "text": f"{_money(delta, lang)}: {label}",
        "label": label,
    }


def _line_items(
    cur_lines: dict[tuple[Any, ...], dict[str, Any]],
    prev_lines: dict[tuple[Any, ...], dict[str, Any]],
    days: dict[tuple[str | None, int | None], str],
    t: dict[str, str],
    lang: str,
) -> list[dict[str, Any]]:
    """One item per matched line whose amount changed, the invoice's lines first, then those gone."""
    items = []
    for k in list(cur_lines) + [k for k in prev_lines if k not in cur_lines]:
        c, p = cur_lines.get(k), prev_lines.get(k)
        delta = (c["amount_ore"] if c else 0) - (p["amount_ore"] if p else 0)
        if delta == 0:
            continue
        line = c if c is not None else p
        assert line is not None  # the key is on one of the two invoices
        items.append(_item(delta, line["kind"], line.get("rate_key"), _line_label(line, c, p, days, t, lang), lang))
    return items


def _line_label(
    line: dict[str, Any],
    c: dict[str, Any] | None,
    p: dict[str, Any] | None,
    days: dict[tuple[str | None, int | None], str],
    t: dict[str, str],
    lang: str,
) -> str:
    """The line's description; for usage the quantities now and before and the days it fell on, else
    whether the line is new or gone."""
    label = str(line["description"])
    if line["kind"] in ("usage", "connection_fee", "late_usage") and line["unit"]:
        now_q = _qty(c["quantity"], c["unit"], lang) if c else None
        was_q = _qty(p["quantity"], p["unit"], lang) if p else None
        detail = [q for q in (now_q, t["was"].format(qty=was_q) if was_q else None) if q]
        when = days.get((line.get("rate_key"), line.get("subscription_id"))) if c else None
        if when:
            detail.append(when)
        label += f", {', '.join(detail)}" if detail else ""
    elif c is None:
        label += f" ({t['gone']})"
    elif p is None:
        label += f" ({t['new']})"
    return label
