"""The usage page's plain-language summary and plan line, from the core's figures (pure functions).

Inputs are the core's answers as they come: ``GET /usage/summary`` (``start``, ``end``,
``days_left``, ``per_day``, ``allowances`` in base units: bytes, seconds, messages) and
``GET /customers/{id}/recommendation`` (each plan's cost over the last invoiced periods).

The run-out day is the forecast's rule (``backend_stub/services/forecast.py``): the allowance's
use per elapsed day so far, carried on; it runs out on the day the projected use reaches what is
included, if that is inside the period (never before today).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel.dates import format_date as _babel_date

from selfcare.i18n import _FORMAT_LOCALE, format_number, gettext, normalise_language
from selfcare.presenters import summary_volume
from selfcare.state.order_sheet import short_kr
from selfcare_common.rounding import round_half_up_div


def _int(value: Any) -> int:
    return value if type(value) is int else 0


def day_month(value: date, lang: str) -> str:
    """``2026-12-24`` → ``24 december`` / ``24 December`` (babel, the app's locales)."""
    return _babel_date(value, format="d MMMM", locale=_FORMAT_LOCALE[normalise_language(lang)])


def period_days(summary: dict[str, Any]) -> tuple[date, date, date | None, int]:
    """``(start, end, today, elapsed)``: ``today`` is None for a period that has ended (or not begun)."""
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    left = _int(summary.get("days_left"))
    if left <= 0:
        return start, end, None, (end - start).days + 1
    today = end - timedelta(days=left - 1)
    return start, end, today, (today - start).days + 1


def runs_out_on(included: int, used: int, start: date, end: date, today: date | None, elapsed: int) -> date | None:
    """The day ``included`` is used up at the pace so far; None when it lasts the period (or it has ended)."""
    if today is None or included <= 0 or used <= 0 or elapsed <= 0:
        return None
    days_to_empty = -(-included * elapsed // used)  # ceil
    day = start + timedelta(days=days_to_empty - 1)
    return max(day, today) if day <= end else None


def _allowance(summary: dict[str, Any], pool: str) -> dict[str, Any] | None:
    return next((a for a in summary.get("allowances") or [] if isinstance(a, dict) and a.get("pool") == pool), None)


def _per_day_total(summary: dict[str, Any], service: str) -> int:
    return sum(_int(v) for v in ((summary.get("per_day") or {}).get(service) or {}).values())


def minutes(seconds: int, lang: str) -> str:
    """Call time in whole minutes, rounded up: ``125 min``."""
    return gettext(lang, "{count} min", count=format_number(-(-seconds // 60), lang))


def days_left_text(summary: dict[str, Any], lang: str) -> str:
    """``12 dagar kvar av perioden`` / ``1 day left in this period``; for an ended period its dates."""
    start, end, today, _elapsed = period_days(summary)
    if today is None:
        return gettext(lang, "{start} – {end}", start=day_month(start, lang), end=day_month(end, lang))
    left = _int(summary.get("days_left"))
    if left == 1:
        return gettext(lang, "Last day of this period")
    return gettext(lang, "{days} days left in this period", days=left)


def summary_sentences(summary: dict[str, Any], lang: str) -> list[str]:
    """What the subscriber has used, in words, data first.

    - a data allowance: ``Du har använt 9,4 GB av 20 GB.`` and, while the period runs, whether it
      lasts at this pace (``I den här takten räcker surfen perioden ut.`` / ``… tar surfen slut omkring
      24 december.``);
    - unlimited, or no allowance at all (broadband): the use only, no run-out day;
    - broadband only (no allowances at all): data only; otherwise calls and texts follow, each in its unit.
    """
    start, end, today, elapsed = period_days(summary)
    out: list[str] = []
    data = _allowance(summary, "data")
    if data and not data.get("unlimited") and _int(data.get("included")) > 0:
        included, used = _int(data.get("included")), _int(data.get("used"))
        out.append(
            gettext(
                lang,
                "You have used {used} of {allowance}.",
                used=summary_volume(used, lang),
                allowance=summary_volume(included, lang),
            )
        )
        if today is not None:
            if used >= included:
                out.append(gettext(lang, "Your data for this period is used up."))
            else:
                day = runs_out_on(included, used, start, end, today, elapsed)
                out.append(
                    gettext(lang, "At this rate your data will run out around {day}.", day=day_month(day, lang))
                    if day
                    else gettext(lang, "At this rate your data will last the period.")
                )
    else:
        out.append(
            gettext(lang, "You have used {used} of data.", used=summary_volume(_per_day_total(summary, "data"), lang))
        )
    if not summary.get("allowances"):
        return out  # broadband: data only
    voice = _allowance(summary, "voice")
    if voice and not voice.get("unlimited") and _int(voice.get("included")) > 0:
        included, used = _int(voice.get("included")), _int(voice.get("used"))
        out.append(
            gettext(
                lang,
                "You have called for {used} of {allowance}.",
                used=minutes(used, lang),
                allowance=minutes(included, lang),
            )
        )
        day = runs_out_on(included, used, start, end, today, elapsed) if used < included else None
        if day:
            out.append(gettext(lang, "At this rate your minutes will run out around {day}.", day=day_month(day, lang)))
    else:
        out.append(gettext(lang, "You have called for {used}.", used=minutes(_per_day_total(summary, "voice"), lang)))
    sms = _allowance(summary, "sms")
    if sms and not sms.get("unlimited") and _int(sms.get("included")) > 0:
        included, used = _int(sms.get("included")), _int(sms.get("used"))
        out.append(
            gettext(
                lang,
                "You have sent {used} of {allowance} texts.",
                used=format_number(used, lang),
                allowance=format_number(included, lang),
            )
        )
        day = runs_out_on(included, used, start, end, today, elapsed) if used < included else None
        if day:
            out.append(gettext(lang, "At this rate your texts will run out around {day}.", day=day_month(day, lang)))
    else:
        out.append(
            gettext(lang, "You have sent {used} texts.", used=format_number(_per_day_total(summary, "sms"), lang))
        )
    return out


def data_bar(summary: dict[str, Any]) -> int | None:
    """Share of the data allowance used, 0–100 (None: unlimited or no allowance)."""
    data = _allowance(summary, "data")
    if not data or data.get("unlimited") or _int(data.get("included")) <= 0:
        return None
    return min(100, _int(data.get("used")) * 100 // _int(data["included"]))


def cheaper_plan(rec: Any) -> dict[str, Any] | None:
    """The recommended plan when re-rating says it would have cost less: ``{plan_id, name, monthly_saving_ore}``.

    The saving per month is the difference over the re-rated periods divided by their number, in
    whole kronor (half up); nothing when the best plan is the current one, costs as much or more,
    or saves less than a krona a month.
    """
    if not isinstance(rec, dict):
        return None
    best_id, plans = rec.get("best_plan_id"), rec.get("plans")
    if not best_id or not isinstance(plans, list):
        return None
    best = next((p for p in plans if isinstance(p, dict) and p.get("plan_id") == best_id), None)
    current = next((p for p in plans if isinstance(p, dict) and p.get("current")), None)
    if best is None or current is None or best is current:
        return None
    n = len(rec.get("periods") or []) or len(best.get("per_period_ore") or [])
    best_total, current_total = best.get("total_ore"), current.get("total_ore")
    if n <= 0 or type(best_total) is not int or type(current_total) is not int or best_total >= current_total:
        return None
    kr = round_half_up_div(current_total - best_total, 100 * n)
    if kr <= 0:
        return None
    return {
        "plan_id": str(best_id),
        "name": str(best.get("name") or best_id),
        "monthly_saving_ore": kr * 100,
        "months": n,
    }


def recommendation_text(plan: dict[str, Any] | None, lang: str) -> str:
    """``Mobil 5 GB hade räckt: 100 kr/mån billigare`` (empty without a cheaper plan)."""
    if not plan:
        return ""
    amount = short_kr(plan["monthly_saving_ore"], lang)
    if not plan.get("name"):  # no name in this language from the core
        return gettext(lang, "A cheaper plan would have been enough: {amount}/month less", amount=amount)
    return gettext(lang, "{plan} would have been enough: {amount}/month less", plan=plan["name"], amount=amount)


def recommendation_basis(plan: dict[str, Any] | None, lang: str) -> str:
    """``Räknat på dina senaste 3 fakturor.``: the saving is the past periods re-rated, not this one."""
    if not plan:
        return ""
    months = plan.get("months") or 3
    if months == 1:
        return gettext(lang, "Based on your last invoice.")
    return gettext(lang, "Based on your last {months} invoices.", months=months)
