"""During a period: what it has cost so far, what it will likely cost, and when an allowance runs out.

The forecast is the period's fees plus the usage charged so far, extrapolated linearly
over the days left. Each allowance's use per elapsed day projects the day it runs out;
a warning is given when that is before the period ends or 80 % is already used.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select

from backend_stub import clock
from backend_stub.catalogue import Catalogue
from backend_stub.invoicing import fee_lines
from backend_stub.money import round_half_up_div
from backend_stub.periods import period_containing
from backend_stub.services import usage_query
from backend_stub.storage import models as m
from backend_stub.storage.repo import load_subscriptions

WARN_SHARE = (8, 10)  # warn at 80 % used

TEXTS = {
    "sv": {"runs_out": "Med din nuvarande användning tar {pool} slut omkring {day}.",
           "nearly": "Du har använt {pct} % av {pool} den här perioden.",
           "pools": {"data": "surfen", "voice": "samtalsminuterna", "sms": "sms:en", "mms": "mms:en"}},
    "en": {"runs_out": "At your current use, your {pool} will run out around {day}.",
           "nearly": "You have used {pct} % of your {pool} this period.",
           "pools": {"data": "data", "voice": "minutes", "sms": "texts", "mms": "MMS"}},
}


def forecast(engine: Engine, catalogue: Catalogue, customer_id: int, *, today: date | None = None,
             lang: str = "sv") -> dict[str, Any]:
    today = today or clock.today()
    t = TEXTS.get(lang, TEXTS["sv"])
    with engine.connect() as conn:
        cycle_day = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar_one()
        subs = load_subscriptions(conn, customer_ids=[customer_id])
    period = period_containing(today, cycle_day)
    summary = usage_query.summary(engine, catalogue, customer_id, period.start.strftime("%Y-%m"), today=today)
    elapsed = (min(today, period.end) - period.start).days + 1
    days_left = (period.end - today).days + 1 if period.start <= today <= period.end else 0
    fees = sum(ln.amount_ore for sub in subs for ln in fee_lines(catalogue, sub, period))
    usage_so_far = sum(c["cost_ore"] for c in summary["per_category"].values())
    usage_forecast = round_half_up_div(usage_so_far * period.days, elapsed)
    allowances, warnings = [], []
    for a in summary["allowances"]:
        entry = {"pool": a["pool"], "unit": a["unit"], "included": a["included"], "used": a["used"],
                 "remaining": a["remaining"], "unlimited": a["unlimited"], "runs_out_on": None}
        if not a["unlimited"] and a["included"] > 0:
            pool = t["pools"].get(a["pool"], a["pool"])
            if a["used"] > 0:
                # the day the allowance is used up at this period's pace so far
                days_to_empty = -(-a["included"] * elapsed // a["used"])
                runs_out = period.start + timedelta(days=days_to_empty - 1)
                if runs_out <= period.end:
                    entry["runs_out_on"] = max(runs_out, today).isoformat()
                    warnings.append({"code": f"{a['pool']}_runs_out", "pool": a["pool"],
                                     "text": t["runs_out"].format(pool=pool, day=entry["runs_out_on"])})
            if a["used"] * WARN_SHARE[1] >= a["included"] * WARN_SHARE[0] and not entry["runs_out_on"]:
                pct = min(100, a["used"] * 100 // a["included"])
                warnings.append({"code": f"{a['pool']}_nearly_used", "pool": a["pool"],
                                 "text": t["nearly"].format(pct=pct, pool=pool)})
        allowances.append(entry)
    return {
        "period": {"label": period.start.strftime("%Y-%m"), "start": period.start.isoformat(),
                   "end": period.end.isoformat()},
        "days_left": days_left, "days_elapsed": elapsed,
        "fees_ore": fees, "usage_so_far_ore": usage_so_far,
        "so_far_ore": fees + usage_so_far, "forecast_ore": fees + usage_forecast,
        "allowances": allowances, "warnings": warnings,
    }
