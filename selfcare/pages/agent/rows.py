"""What the support console shows, from the core's JSON (pure functions, tested on their own)."""

from __future__ import annotations

from typing import Any

from selfcare.i18n import N_, format_datetime, format_money, gettext, parse_kr  # noqa: F401 (parse_kr: the console's forms)

_UNITS = {"sv": ("d", "tim", "min"), "en": ("d", "h", "min")}


def waited(seconds: int, lang: str) -> str:
    """How long a thread has waited: ``5 min``, ``3 tim 10 min`` / ``3 h 10 min``, ``2 d 4 tim``."""
    day, hour, minute = _UNITS.get(lang, _UNITS["sv"])
    seconds = max(0, int(seconds))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} {day} {hours % 24} {hour}"
    if hours:
        return f"{hours} {hour} {minutes % 60} {minute}"
    return f"{minutes} {minute}"


STATUS_TEXT = {"waiting": N_("Waiting"), "answered": N_("Answered"), "resolved": N_("Resolved")}
STATUS_TONE = {"waiting": "red", "answered": "blue", "resolved": "gray"}


def inbox_row(item: dict[str, Any], lang: str) -> dict[str, str]:
    last = item.get("last_message") or {}
    status = str(item.get("status", ""))
    return {
        "thread_id": str(item.get("id", "")),
        "invoice_id": str(item.get("invoice_id", "")),
        "invoice_number": str(item.get("invoice_number", "")),
        "customer": f"{item.get('customer_name', '')} · {item.get('customer_number', '')}",
        "status": gettext(lang, STATUS_TEXT.get(status, "Answered")),
        "status_key": status,
        "tone": STATUS_TONE.get(status, "gray"),
        "waited": waited(int(item.get("waiting_seconds") or 0), lang) if status == "waiting" else "",
        "assigned": str(item.get("assigned_to") or ""),
        "excerpt": str(last.get("text") or ""),
        "at": format_datetime(last["created_at"], lang) if last.get("created_at") else "",
    }


def payment_row(p: dict[str, Any], lang: str) -> dict[str, str]:
    amount = p.get("amount_ore")
    return {
        "at": format_datetime(p["received_at"], lang) if p.get("received_at") else "",
        "method": str(p.get("method", "")),
        "reference": str(p.get("reference", "")),
        "amount": format_money(amount if type(amount) is int else 0, lang),
    }


def clean_reason(form: dict[str, Any]) -> str:
    """The form's reason for a credit or a waiver, stripped; ``""`` when missing or over 500 characters."""
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    return reason if len(reason) <= 500 else ""
