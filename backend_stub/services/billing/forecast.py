"""The next invoice before the bill run: what it holds so far, what it will likely be, when an allowance runs out.

The forecast is the draft of the account's next invoice, built by the bill run's own pure
functions (``billrun_batch.invoice_draft``: ``invoicing.build_invoice`` and ``with_carried``) from the
same inputs the bill run would read, read-only: the period's subscriptions and fees, the usage
not yet invoiced, pending one-off charges, add-ons and instalment months, discount grants and
past-due small balances. Between a period's end and its bill run that ended period is the next
invoice and nothing is projected, so the forecast is the invoice to the öre. While a period
runs, its usage lines so far are extrapolated linearly over the days left (the projection),
and the total with the projection is rounded to whole kronor as the invoice will be (rules §1).

Each allowance's use per elapsed day projects the day it runs out; a warning is given when
that is before the period ends or 80 % is already used.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import Connection, Engine, select

from backend_stub import clock
from backend_stub.domain import texts
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Invalid
from backend_stub.domain.invoicing import InvoiceDraft, Line, totals
from backend_stub.domain.money import round_half_up_div
from backend_stub.domain.periods import Period, Subscription, period_containing, period_for
from backend_stub.services.billing import billrun_batch, billrun_extras, usage_query
from backend_stub.services.billing.small_balances import small_balances
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions

WARN_SHARE = (8, 10)  # warn at 80 % used
SMALL_BALANCE_ORE = 1000  # the bill run's default minimum open balance (rules §5)

# Line kinds of an invoice per group of the forecast, in the invoice's order.
GROUPS = {
    "fees": ("fee",),
    "usage": ("usage", "connection_fee", "late_usage"),
    "addons": ("addon",),
    "charges": ("one_off",),
    "discounts": ("discount",),
    "instalments": ("instalment",),
    "carried": ("carried",),
}
PROJECTED_KINDS = ("usage", "connection_fee")  # this period's usage; late usage of earlier ones is not projected


class _Texts(TypedDict):
    runs_out: str
    nearly: str
    pools: dict[str, str]
    groups: dict[str, str]


TEXTS: dict[str, _Texts] = {
    "sv": {
        "runs_out": "Med din nuvarande användning tar {pool} slut omkring {day}.",
        "nearly": "Du har använt {pct} % av {pool} den här perioden.",
        "pools": {"data": "surfen", "voice": "samtalsminuterna", "sms": "sms:en", "mms": "mms:en"},
        "groups": {
            "fees": "Månadsavgifter",
            "usage": "Samtal, sms och surf",
            "addons": "Tillägg",
            "charges": "Engångsavgifter och krediteringar",
            "discounts": "Rabatter",
            "instalments": "Delbetalning av telefon",
            "carried": "Ej betalt från tidigare faktura",
        },
    },
    "en": {
        "runs_out": "At your current use, your {pool} will run out around {day}.",
        "nearly": "You have used {pct} % of your {pool} this period.",
        "pools": {"data": "data", "voice": "minutes", "sms": "texts", "mms": "MMS"},
        "groups": {
            "fees": "Monthly fees",
            "usage": "Calls, texts and data",
            "addons": "Add-ons",
            "charges": "One-off charges and credits",
            "discounts": "Discounts",
            "instalments": "Device instalments",
            "carried": "Unpaid from an earlier invoice",
        },
    },
}


def forecast(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    *,
    today: date | None = None,
    lang: str = "sv",
    period: str | None = None,
    small_balance_ore: int = SMALL_BALANCE_ORE,
) -> dict[str, Any]:
    """The account's next invoice as it stands (``period`` YYYY-MM: that period's instead).

    Raises ``NoResultFound`` for an unknown customer and ``ValueError`` naming ``period`` for a
    period that is malformed, not started yet or already invoiced.
    """
    today = today or clock.today()
    t = TEXTS.get(lang, TEXTS["sv"])
    with engine.connect() as conn:
        cycle_day = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar_one()
        subs = load_subscriptions(conn, customer_ids=[customer_id])
        if period is None:
            target, draft = _next_invoice(conn, catalogue, customer_id, subs, cycle_day, today, small_balance_ore)
        else:
            target = period_for(period, cycle_day)
            if target.start > today:
                raise Invalid("period", f"{period} has not started yet (it starts {target.start.isoformat()})")
            number = _invoice_number(conn, customer_id, target)
            if number is not None:
                raise Invalid("period", f"{period} is already invoiced (invoice {number})")
            draft = _draft(conn, catalogue, customer_id, subs, target, today, small_balance_ore)
    ended = target.end < today
    elapsed = (min(today, target.end) - target.start).days + 1
    days_left = 0 if ended else (target.end - today).days + 1
    lines = list(draft.lines) if draft else []
    grouped = {g: sum(ln.amount_ore for ln in lines if ln.kind in kinds) for g, kinds in GROUPS.items()}
    so_far = draft.amount_due_ore if draft else 0
    projected = 0
    if not ended:  # linear: the usage charged so far, at the same pace over the days left
        usage = sum(ln.amount_ore for ln in lines if ln.kind in PROJECTED_KINDS)
        projected = round_half_up_div(usage * target.days, elapsed) - usage
    forecast_ore = so_far
    if projected:  # the draft's lines plus the projection, rounded to whole kronor as the invoice will be
        projection = Line(
            "Beräknad användning", Decimal(1), "st", None, catalogue.operator.vat_rate, projected, "usage"
        )
        forecast_ore = totals(lines + [projection], ore_rounding=catalogue.operator.ore_rounding)["amount_due_ore"]
    allowances, warnings = _allowances(engine, catalogue, customer_id, target, today, elapsed, ended, t, lang)
    return {
        "period": {
            "label": target.label,
            "start": target.start.isoformat(),
            "end": target.end.isoformat(),
            "ended": ended,
        },
        "days_left": days_left,
        "days_elapsed": elapsed,
        "fees_ore": grouped["fees"],
        "usage_so_far_ore": grouped["usage"],
        "so_far_ore": so_far,
        "projected_ore": projected,
        "forecast_ore": forecast_ore,
        "rounding_ore": draft.rounding_ore if draft else 0,
        "lines": [
            {"group": g, "description": t["groups"][g], "amount_ore": grouped[g]}
            for g, kinds in GROUPS.items()
            if any(ln.kind in kinds for ln in lines)
        ],
        "allowances": allowances,
        "warnings": warnings,
    }


def _draft(
    conn: Connection,
    catalogue: Catalogue,
    customer_id: int,
    subs: list[Subscription],
    period: Period,
    today: date,
    small_balance_ore: int,
) -> InvoiceDraft | None:
    """The invoice of ``period`` the bill run would issue (None: nothing to bill), read-only.

    Small balances are those past due on the bill run's day: today for an ended period, else
    the day after the period (the first day its bill run can run), if nothing is paid meanwhile.
    """
    bill_day = today if period.end < today else period.end + timedelta(days=1)
    small = small_balances(conn, bill_day, small_balance_ore, customer_ids=[customer_id])
    return billrun_batch.invoice_draft(
        catalogue,
        customer_id,
        subs,
        period,
        billrun_batch.unbilled_usage(conn, customer_id, period),
        billrun_batch.discount_grants(conn, customer_id),
        billrun_extras.pending_extras(conn, catalogue, customer_id, period),
        small.get(customer_id, []),
    )


def _next_invoice(
    conn: Connection,
    catalogue: Catalogue,
    customer_id: int,
    subs: list[Subscription],
    cycle_day: int,
    today: date,
    small_balance_ore: int,
) -> tuple[Period, InvoiceDraft | None]:
    """The period of the account's next invoice and its draft.

    The period that ended last, while its bill run has not run (no invoice of the account for
    it, none for anybody of that month) and it has something to bill; otherwise the running one.
    """
    current = period_containing(today, cycle_day)
    last = period_containing(current.start - timedelta(days=1), cycle_day)
    if _invoice_number(conn, customer_id, last) is None and not _bill_run_done(conn, last):
        draft = _draft(conn, catalogue, customer_id, subs, last, today, small_balance_ore)
        if draft is not None:
            return last, draft
    return current, _draft(conn, catalogue, customer_id, subs, current, today, small_balance_ore)


def _invoice_number(conn: Connection, customer_id: int, period: Period) -> str | None:
    """The number of the account's regular invoice of ``period``, if issued."""
    key = f"{customer_id}:{period.start.isoformat()}"  # billrun's regular key: one invoice per account and period
    return conn.execute(select(m.Invoice.number).where(m.Invoice.regular_key == key)).scalar()


def _bill_run_done(conn: Connection, period: Period) -> bool:
    """Whether the bill run of ``period``'s month has issued any invoice (for any account)."""
    month = period_for(period.label)
    return (
        conn.execute(
            select(m.Invoice.id)
            .where(
                m.Invoice.kind == "invoice",
                m.Invoice.regular_key.is_not(None),
                m.Invoice.period_start >= month.start,
                m.Invoice.period_start <= month.end,
            )
            .limit(1)
        ).first()
        is not None
    )


def _allowances(
    engine: Engine,
    catalogue: Catalogue,
    customer_id: int,
    period: Period,
    today: date,
    elapsed: int,
    ended: bool,
    t: _Texts,
    lang: str = "sv",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each allowance's use in ``period``; warnings when one runs out before the period ends or is 80 % used."""
    summary = usage_query.summary(engine, catalogue, customer_id, period.label, today=today)
    allowances, warnings = [], []
    for a in summary["allowances"]:
        entry = {
            "pool": a["pool"],
            "unit": a["unit"],
            "included": a["included"],
            "used": a["used"],
            "remaining": a["remaining"],
            "unlimited": a["unlimited"],
            "runs_out_on": None,
        }
        if not a["unlimited"] and a["included"] > 0:
            pool = t["pools"].get(a["pool"], a["pool"])
            if a["used"] > 0 and not ended:
                # the day the allowance is used up at this period's pace so far
                days_to_empty = -(-a["included"] * elapsed // a["used"])
                runs_out = period.start + timedelta(days=days_to_empty - 1)
                if runs_out <= period.end:
                    entry["runs_out_on"] = max(runs_out, today).isoformat()
                    warnings.append(
                        {
                            "code": f"{a['pool']}_runs_out",
                            "pool": a["pool"],
                            "text": t["runs_out"].format(pool=pool, day=texts.day(entry["runs_out_on"], lang)),
                        }
                    )
            if a["used"] * WARN_SHARE[1] >= a["included"] * WARN_SHARE[0] and not entry["runs_out_on"]:
                pct = min(100, a["used"] * 100 // a["included"])
                warnings.append(
                    {
                        "code": f"{a['pool']}_nearly_used",
                        "pool": a["pool"],
                        "text": t["nearly"].format(pct=pct, pool=pool),
                    }
                )
        allowances.append(entry)
    return allowances, warnings
