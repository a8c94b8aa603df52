"""The subscriber's running subscriptions as the app's pages list them (the add-on shop, the alert settings).

The plan in force on the core clock's day, never a pending change; the core's own ``status`` decides when it
sends one.
"""

from __future__ import annotations

from datetime import date
from typing import Any


def _core_today(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def current_segment(segments: list[dict[str, Any]], today: date) -> dict[str, Any] | None:
    """The plan segment in force on ``today``: started on or before it and not ended. A segment that
    starts later is a pending change, never the current plan. The core's own ``status`` decides when given."""
    if any("status" in seg for seg in segments):
        return next((seg for seg in segments if seg.get("status") == "current"), None)
    day = today.isoformat()
    for seg in segments:
        start, end = str(seg.get("start") or "")[:10], seg.get("end")
        if start and start <= day and not (isinstance(end, str) and end and end[:10] < day):
            return seg
    return None


def active_subscriptions(subscriptions: list[dict[str, Any]], today: date, lang: str = "sv") -> list[dict[str, str]]:
    """The subscriptions running on ``today`` (the core clock's day): id, MSISDN, the plan in force today
    (in ``lang``: the core sends ``plan_name_en`` beside the Swedish name)."""
    rows = []
    for sub in subscriptions or []:
        if type(sub.get("id")) is not int:
            continue
        segments = [s for s in sub.get("segments") or [] if isinstance(s, dict)]
        current = current_segment(segments, today)
        if current is None:
            continue
        rows.append(
            {
                "id": str(sub["id"]),
                "msisdn": str(sub.get("msisdn", "")),
                "plan": str(
                    (current.get("plan_name_en") if lang == "en" else None)
                    or current.get("plan_name")
                    or current.get("plan_id")
                    or ""
                ),
            }
        )
    return rows
