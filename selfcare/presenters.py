"""Pure functions from the core's JSON to what a page shows, in the chosen language.

Kept out of the states so plain unit tests cover them. Every value a page shows is a
string here (already formatted by babel), so the browser never formats money or dates.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from selfcare.i18n import (
    N_,
    format_bytes,
    format_date,
    format_datetime,
    format_duration,
    format_money,
    format_number,
    format_period,
    format_short_date,
    format_signed_money,
    gettext,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # the operator's business day and the times subscribers read

STATUS_TEXT = {
    "unpaid": N_("Unpaid"),
    "partly_paid": N_("Partly paid"),
    "paid": N_("Paid"),
    "overdue": N_("Overdue"),
    "reminded": N_("Reminder sent"),
    "in_collection": N_("Debt collection"),
    "credited": N_("Credited"),
    "carried": N_("Moved to next invoice"),
    "written_off": N_("Written off"),
    "credit_note": N_("Credit note"),
}
STATUS_TONE = {
    "unpaid": "blue",
    "partly_paid": "amber",
    "paid": "green",
    "overdue": "red",
    "reminded": "orange",
    "in_collection": "red",
    "credited": "gray",
    "carried": "gray",
    "written_off": "gray",
    "credit_note": "gray",
}
OPEN_STATUSES = frozenset({"unpaid", "partly_paid", "overdue", "reminded", "in_collection"})
USAGE_LINE_KINDS = frozenset({"usage", "connection_fee", "late_usage"})
CATEGORY_TEXT = {
    "domestic": N_("Sweden"),
    "eu_roaming": N_("EU roaming"),
    "roaming": N_("Other zones"),
    "international": N_("Calls abroad"),
    "premium": N_("Premium"),
}
SERVICE_TEXT = {"voice": N_("Calls"), "sms": N_("SMS"), "mms": N_("MMS"), "data": N_("Data")}
OTHER = N_("Other")
TIMELINE_ICON = {
    "created": "file-plus",
    "sent": "send",
    "opened": "eye",
    "link_opened": "eye",
    "payment": "banknote",
    "payment_received": "banknote",
    "paid": "circle-check",
    "payment_started": "credit-card",
    "reminder_sent": "bell",
    "collection": "triangle-alert",
    "credit_note": "undo-2",
    "message": "message-circle",
}


def status_label(status: str, lang: str) -> str:
    return gettext(lang, STATUS_TEXT.get(status, "Unpaid"))


def status_tone(status: str) -> str:
    return STATUS_TONE.get(status, "gray")


def _int(value: Any) -> int:
    return value if type(value) is int else 0


PAID_BY = {
    "card": N_("Paid {date} by card"),
    "swish": N_("Paid {date} with Swish"),
    "bankgiro": N_("Paid {date} by Bankgiro"),
    "autogiro": N_("Paid {date} by autogiro"),
    "credit_balance": N_("Paid {date} from your credit balance"),
}
NEXT_STEP_TEXT = {
    "overdue": N_("If unpaid on {date}, late interest is charged from the due date."),
    "reminder_1": N_("If unpaid on {date}, a reminder is sent."),
    "reminder_fee": N_("If unpaid on {date}, a reminder is sent with a fee of {fee}."),
    "reminder_2": N_("If unpaid on {date}, a second reminder is sent (no fee)."),
    "collection": N_("If unpaid on {date}, the invoice is handed to a debt collection agency."),
}


def state_of(item: dict[str, Any]) -> dict[str, Any]:
    """The core's one state of the invoice (``backend_stub.domain.invoice_state``); an older answer without it
    is read from its status and balance."""
    st = item.get("state")
    if isinstance(st, dict):
        return st
    status = str(item.get("status", ""))
    balance = _int(item.get("balance_ore"))
    open_ = status in OPEN_STATUSES and balance > 0
    return {
        "status": status,
        "open": open_,
        "overdue": open_ and status in ("overdue", "reminded", "in_collection"),
        "amount_ore": _int(item.get("amount_due_ore")) - _int(item.get("credited_ore")),
        "to_pay_ore": balance if open_ else 0,
        "payable": open_,
        "paid": None,
        "credit_notes": [],
        "fees_ore": 0,
        "interest_ore": 0,
        "days_overdue": 0,
        "carried_to": None,
        "owed_to_customer_ore": 0,
        "next_step": None,
        "due_date": item.get("due_date"),
    }


def state_line(st: dict[str, Any], lang: str) -> str:
    """One sentence on where the invoice stands: due, overdue (days), paid (when, how), credited, moved."""
    status = str(st.get("status", ""))
    due = st.get("due_date")
    if status == "paid" and isinstance(st.get("paid"), dict):
        paid = st["paid"]
        msgid = PAID_BY.get(str(paid.get("method")), N_("Paid {date}"))
        return gettext(lang, msgid, date=format_date(str(paid.get("on")), lang))
    if status == "paid":
        return gettext(lang, "Nothing left to pay on this invoice.")
    if status == "credited":
        return gettext(lang, "Credited in full: nothing to pay.")
    if status == "carried":
        return gettext(lang, "The amount left was moved to invoice {number}.", number=str(st.get("carried_to") or ""))
    if status == "written_off":
        return gettext(lang, "The small amount left was written off.")
    if status == "no_payment":
        return gettext(lang, "Nothing to pay on this invoice.")
    if not due:
        return ""
    if st.get("overdue") or _int(st.get("days_overdue")) > 0:
        days = _int(st.get("days_overdue"))
        return (
            gettext(
                lang,
                "Was due {date} · {days} days ago",
                date=format_date(str(due), lang),
                days=format_number(days, lang),
            )
            if days != 1
            else gettext(lang, "Was due {date} · yesterday", date=format_date(str(due), lang))
        )
    if st.get("open"):
        return gettext(lang, "Due {date}", date=format_date(str(due), lang))
    return ""


def next_step_line(st: dict[str, Any], lang: str) -> str:
    """What happens next to an open invoice, and when (rules §6)."""
    step = st.get("next_step")
    if not isinstance(step, dict) or not st.get("open"):
        return ""
    action = str(step.get("action", ""))
    fee = _int(step.get("fee_ore"))
    key = "reminder_fee" if action == "reminder_1" and fee else action
    msgid = NEXT_STEP_TEXT.get(key)
    if msgid is None or not step.get("on"):
        return ""
    return gettext(lang, msgid, date=format_date(str(step["on"]), lang), fee=format_money(fee, lang))


def invoice_row(item: dict[str, Any], lang: str) -> dict[str, str]:
    """One line of the invoices list."""
    st = state_of(item)
    status = str(st.get("status") or item.get("status", ""))
    balance = _int(item.get("balance_ore"))
    return {
        "id": str(item.get("id", "")),
        "number": str(item.get("number", "")),
        "kind": str(item.get("kind", "invoice")),
        "period": format_period(item["period"], lang) if item.get("period") else "",
        "amount": format_money(_int(st.get("amount_ore", item.get("amount_due_ore"))), lang),
        "due": format_date(item["due_date"], lang) if item.get("due_date") else "",
        "state_line": state_line(st, lang),
        "status": status_label(status, lang),
        "tone": status_tone(status),
        "balance": format_money(balance, lang),
        "to_pay": format_money(_int(st.get("to_pay_ore")), lang),
        "open": "1" if st.get("open") else "",
        "overdue": "1" if st.get("overdue") else "",
    }


def _decimal_text(value: Any, lang: str) -> str:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return format_number(d.normalize() if d == d.to_integral() else d, lang)


def vat_percent(rate: Any, lang: str) -> str:
    try:
        pct = (Decimal(str(rate)) * 100).normalize()
    except (InvalidOperation, ValueError):
        return ""
    return f"{format_number(pct, lang)} %"


def spec_lines(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """The specification: description, quantity, unit price, VAT and amount per line."""
    rows = []
    for index, line in enumerate(doc.get("lines") or [], start=1):
        position = line.get("position", index)
        unit_price = line.get("unit_price")
        try:
            unit_price_text = format_money(int((Decimal(str(unit_price)) * 100).to_integral_value()), lang)
        except (InvalidOperation, ValueError, TypeError):
            unit_price_text = ""
        quantity = _decimal_text(line.get("quantity", ""), lang)
        unit = str(line.get("unit") or "")
        rows.append(
            {
                "position": str(position),
                "description": str(line.get("description", "")),
                "quantity": f"{quantity} {unit}".strip(),
                "unit_price": unit_price_text,
                "vat": vat_percent(line.get("vat_rate"), lang),
                "amount": format_money(_int(line.get("amount_ore")), lang),
                "msisdn": str(line.get("msisdn") or ""),
                "drill": "1" if line.get("kind") in USAGE_LINE_KINDS else "",
            }
        )
    return rows


def vat_rows(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    return [
        {
            "rate": vat_percent(v.get("rate"), lang),
            "net": format_money(_int(v.get("net_ore")), lang),
            "vat": format_money(_int(v.get("vat_ore")), lang),
            "gross": format_money(_int(v.get("gross_ore")), lang),
        }
        for v in doc.get("vat") or []
    ]


def _event_time(at: str, date_only: bool, lang: str) -> str:
    """When a timeline event happened, in Stockholm time; a date-only event (a dunning day) shows its date."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(STOCKHOLM)
    return format_date(local.date(), lang) if date_only else format_datetime(local.replace(tzinfo=None), lang)


def timeline_rows(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Events of the invoice in the order the core gives them (business time, oldest first)."""
    rows = []
    for event in doc.get("timeline") or []:
        kind = str(event.get("kind", ""))
        texts = event.get("texts") if isinstance(event.get("texts"), dict) else {}
        text = texts.get(lang) or event.get("text", "")
        document = event.get("document") if isinstance(event.get("document"), dict) else {}
        rows.append(
            {
                "at": _event_time(str(event["at"]), bool(event.get("date_only")), lang) if event.get("at") else "",
                "kind": kind,
                "text": str(text),
                "icon": TIMELINE_ICON.get(kind, "circle"),
                "document": str(document.get("kind") or ""),
                "event_id": str(event.get("id") or ""),
            }
        )
    return rows


def plan_rows(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    rows = []
    for plan in doc.get("plans") or []:
        span = ""
        if plan.get("from") and plan.get("to"):
            span = f"{format_short_date(plan['from'], lang)} – {format_short_date(plan['to'], lang)}"
        rows.append(
            {
                "name": str(plan.get("plan_name", "")),
                "msisdn": str(plan.get("msisdn") or ""),
                "fee": format_money(_int(plan.get("monthly_fee_ore")), lang),
                "includes": str(plan.get("allowances", "")),
                "description": str(plan.get("description", "")),
                "span": span,
            }
        )
    return rows


def usage_row(record: dict[str, Any], lang: str) -> dict[str, str]:
    """One usage record: when, what, to whom, how much, and what it cost (or "Included")."""
    service = str(record.get("service", ""))
    if service == "data":
        amount = format_bytes(_int(record.get("volume_bytes")), lang)
    elif service == "voice":
        amount = format_duration(_int(record.get("duration_s")), lang)
    else:
        amount = "1"
    cost = _int(record.get("cost_ore"))
    started = str(record.get("started_at", ""))
    return {
        "id": str(record.get("record_id", "")),
        "at": format_datetime(started, lang) if started else "",
        "day": started[:10],
        "service": gettext(lang, SERVICE_TEXT.get(service, service or OTHER)),
        "description": str((record.get("description_en") if lang == "en" else None) or record.get("description", "")),
        "number": str(record.get("called_number") or record.get("visited_country") or ""),
        "amount": amount,
        "category": gettext(lang, CATEGORY_TEXT.get(str(record.get("category", "")), OTHER)),
        "cost": gettext(lang, "Included") if cost == 0 and record.get("included") else format_money(cost, lang),
    }


def summary_volume(volume: int, lang: str) -> str:
    """Data in the usage summary: ``9,4 GB`` (one decimal, half up), ``350 MB`` below 1 GB (as the PDF)."""
    if volume >= 1_000_000_000 or volume == 0:
        gb = (Decimal(volume) / 10**9).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
        return f"{format_number(gb, lang, '#,##0.#')}\u00a0GB"
    mb = (Decimal(volume) / 10**6).quantize(Decimal("1"), rounding="ROUND_HALF_UP")
    return f"{format_number(mb, lang, '#,##0')}\u00a0MB"


def usage_summary_rows(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Per subscription: "Du använde 9,4 GB av 20 GB, 85 min och 40 sms" and a data bar (0–100)."""
    rows = []
    for entry in doc.get("usage_totals") or []:
        if not isinstance(entry, dict):
            continue
        plan = (entry.get("plan_name_en") if lang == "en" else None) or entry.get("plan_name") or ""
        who = " · ".join(x for x in (str(entry.get("msisdn") or ""), str(plan)) if x)
        if entry.get("kind") == "broadband":
            rows.append({"who": who, "text": gettext(lang, "Broadband: unlimited data."), "bar": "", "note": ""})
            continue
        used = summary_volume(_int(entry.get("data_bytes")), lang)
        allowance = _int(entry.get("data_allowance_bytes"))
        if entry.get("data_unlimited"):
            data = gettext(lang, "{used} (unlimited)", used=used)
        elif allowance:
            data = gettext(lang, "{used} of {allowance}", used=used, allowance=summary_volume(allowance, lang))
        else:
            data = used
        text = gettext(
            lang,
            "You used {data}, {minutes} and {texts}",
            data=data,
            minutes=gettext(lang, "{count} min", count=format_number(_int(entry.get("voice_minutes")), lang)),
            texts=gettext(lang, "{count} texts", count=format_number(_int(entry.get("texts")), lang)),
        )
        bar = ""
        if allowance and not entry.get("data_unlimited"):
            bar = str(min(100, _int(entry.get("data_bytes")) * 100 // allowance))
        note = (
            gettext(lang, "The data allowance is counted for the days the subscription was active.")
            if entry.get("prorated") and allowance
            else ""
        )
        rows.append({"who": who, "text": text, "bar": bar, "note": note})
    return rows


def drill_footer(answer: dict[str, Any], lang: str) -> dict[str, str]:
    """Below the records of one line: its amount, the records' display rounding, and what the line bills.

    Each record shows its share of the line rounded to whole öre; the line is the rounded sum
    of the exact shares (rules §1), so a rounding row makes the list add up to the line.
    """
    line = answer.get("line") if isinstance(answer.get("line"), dict) else {}
    if not answer or not line:
        return {"amount": "", "rounding": "", "note": ""}
    rounding = _int(answer.get("rounding_ore"))
    part = answer.get("part")
    note = ""
    if part == "fee":
        note = gettext(lang, "The connection fee of each call. The calls themselves are on their own line.")
    elif part == "usage" and any(
        _int(r.get("charge_ore")) != _int(r.get("cost_ore")) for r in answer.get("items") or []
    ):
        note = gettext(lang, "Each call without its connection fee, which is on a line of its own.")
    return {
        "amount": format_money(_int(line.get("amount_ore")), lang),
        "rounding": format_signed_money(rounding, lang) if rounding else "",
        "note": note,
    }


def allowance_amount(pool: str, quantity: int, lang: str) -> str:
    if pool == "data":
        return format_bytes(quantity, lang)
    if pool == "voice":
        return f"{format_number(math.ceil(quantity / 60), lang)} min"
    return gettext(lang, "{count} pcs", count=format_number(quantity, lang))


ALLOWANCE_TEXT = {"data": N_("Data"), "voice": N_("Calls"), "sms": N_("SMS"), "mms": N_("MMS")}


def allowance_rows(allowances: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each allowance: used of included, what remains, a 0–100 bar, and when it runs out."""
    rows = []
    for a in allowances or []:
        pool = str(a.get("pool", ""))
        used = _int(a.get("used"))
        included = _int(a.get("included"))
        unlimited = bool(a.get("unlimited")) or (a.get("remaining") is None and included == 0)
        remaining = _int(a.get("remaining")) if a.get("remaining") is not None else max(0, included - used)
        percent = 0 if unlimited or included <= 0 else min(100, round(used * 100 / included))
        runs_out = a.get("runs_out_on")
        rows.append(
            {
                "pool": pool,
                "label": gettext(lang, ALLOWANCE_TEXT.get(pool, pool)),
                "used": allowance_amount(pool, used, lang),
                "included": gettext(lang, "Unlimited") if unlimited else allowance_amount(pool, included, lang),
                "remaining": gettext(lang, "Unlimited") if unlimited else allowance_amount(pool, remaining, lang),
                "percent": percent,
                "unlimited": unlimited,
                "warn": (not unlimited) and percent >= 80,
                "runs_out": format_date(runs_out, lang) if isinstance(runs_out, str) and runs_out else "",
            }
        )
    return rows


_DELTA_PREFIX = re.compile(r"^\s*[+\-−±]?\s*(SEK)?[\s\u00a0]*[\d\s\u00a0.,]+(kr|SEK)?\s*:\s*")


def explain_rows(explain: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Each line of "why is this invoice different": the change in kronor and what caused it."""
    rows = []
    for item in explain.get("items") or []:
        delta = _int(item.get("delta_ore"))
        # The amount is shown apart, formatted here once: the core's ``label`` is the text without it
        # (an older core's ``text`` starts with it: "+87,00 kr: ...", "+SEK 2.97: ...").
        label = item.get("label")
        text = str(label) if isinstance(label, str) else _DELTA_PREFIX.sub("", str(item.get("text", "")), count=1)
        rows.append({"delta": format_signed_money(delta, lang), "text": text, "tone": "red" if delta > 0 else "green"})
    return rows


def message_row(msg: dict[str, Any], reader: str, lang: str, line_names: dict[int, str]) -> dict[str, str]:
    """One message as the page shows it (all strings; ``text`` exactly as written, shown as text)."""
    author = str(msg.get("author", ""))
    mine = author == reader
    name = str(msg.get("author_name") or "")
    if author == "agent":
        who = gettext(lang, "{name}, customer service", name=name) if name else gettext(lang, "Customer service")
    else:
        who = name or gettext(lang, "Customer")
    if reader == "customer" and mine:
        who = gettext(lang, "You")
    position = msg.get("line_position")
    line = ""
    if type(position) is int and position > 0:
        line = (
            gettext(lang, "About line {position}: {description}", position=position, description=line_names[position])
            if line_names.get(position)
            else gettext(lang, "About line {position}", position=position)
        )
    read = ""
    if mine:
        read = gettext(lang, "Read") if msg.get("read") else gettext(lang, "Sent")
    created = msg.get("created_at")
    return {
        "id": str(msg.get("id", "")),
        "author": author,
        "mine": "1" if mine else "",
        "who": who,
        "text": str(msg.get("text", "")),
        "at": format_datetime(created, lang) if isinstance(created, str) and created else "",
        "line": line,
        "read": read,
    }
