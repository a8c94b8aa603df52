"""Plotly figures of the usage page, built from the core's usage summary. Sized for a phone."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from selfcare.brand import brand
from selfcare.i18n import format_period, format_short_date, gettext
from selfcare.presenters import CATEGORY_TEXT, OTHER


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    c = brand().colors
    return {
        "title": {"text": title, "font": {"size": 15}, "x": 0.02, "xanchor": "left"},
        "height": 260,
        "autosize": True,
        "margin": {"l": 44, "r": 8, "t": 40, "b": 36},
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": c.text},
        "paper_bgcolor": c.surface,
        "plot_bgcolor": c.surface,
        "legend": {"orientation": "h", "y": -0.22, "x": 0},
        "bargap": 0.25,
        **extra,
    }


def _days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def data_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    """Data per day (bars), the running total (line) and the allowance (dashed)."""
    c = brand().colors
    days = _days(summary["start"], summary["end"])
    per_day = summary.get("per_day", {}).get("data", {})
    # GB with two decimals for display only; the data itself stays in bytes.
    daily = [float(Decimal(per_day.get(d.isoformat(), 0)).scaleb(-9).quantize(Decimal("0.001"))) for d in days]
    running, acc = [], 0.0
    for v in daily:
        acc += v
        running.append(round(acc, 3))
    labels = [format_short_date(d, lang) for d in days]
    fig = go.Figure()
    fig.add_bar(x=labels, y=daily, name=gettext(lang, "Per day"), marker_color=c.primary)
    fig.add_scatter(x=labels, y=running, name=gettext(lang, "In total"), mode="lines", line={"color": c.accent,
                                                                                              "width": 3})
    allowance = next((a for a in summary.get("allowances") or [] if a.get("pool") == "data"), None)
    if allowance and not allowance.get("unlimited") and allowance.get("included"):
        included = float(Decimal(allowance["included"]).scaleb(-9))
        fig.add_scatter(x=labels, y=[included] * len(labels), name=gettext(lang, "Allowance"), mode="lines",
                        line={"color": c.danger, "dash": "dash", "width": 2})
    fig.update_layout(**_layout(gettext(lang, "Data per day (GB)"), xaxis={"nticks": 6}))
    return fig


def calls_sms_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    c = brand().colors
    days = _days(summary["start"], summary["end"])
    voice = summary.get("per_day", {}).get("voice", {})
    sms = summary.get("per_day", {}).get("sms", {})
    labels = [format_short_date(d, lang) for d in days]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[math.ceil(voice.get(d.isoformat(), 0) / 60) for d in days],
                name=gettext(lang, "Call minutes"), marker_color=c.primary)
    fig.add_bar(x=labels, y=[sms.get(d.isoformat(), 0) for d in days], name=gettext(lang, "SMS"),
                marker_color=c.accent)
    fig.update_layout(**_layout(gettext(lang, "Calls and SMS per day"), barmode="group", xaxis={"nticks": 6}))
    return fig


def category_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    c = brand().colors
    cats = summary.get("per_category") or {}
    names = [k for k in CATEGORY_TEXT if k in cats] + [k for k in cats if k not in CATEGORY_TEXT]
    labels = [gettext(lang, CATEGORY_TEXT.get(k, OTHER)) for k in names]
    counts = [int(cats[k].get("count", 0)) for k in names]
    fig = go.Figure()
    fig.add_bar(x=counts, y=labels, orientation="h", marker_color=c.primary, name=gettext(lang, "Events"))
    fig.update_layout(**_layout(gettext(lang, "Usage by category (events)"), showlegend=False,
                                margin={"l": 96, "r": 8, "t": 40, "b": 30}, yaxis={"autorange": "reversed"}))
    return fig


def invoices_figure(items: list[dict[str, Any]], lang: str) -> go.Figure:
    """The last 12 invoices' totals, oldest left."""
    c = brand().colors
    rows = [i for i in items if i.get("kind", "invoice") == "invoice"][:12][::-1]
    labels = [format_period(i["period"], lang).split(" ")[0][:3] + " " + i["period"][2:4] for i in rows]
    amounts = [float(Decimal(int(i.get("amount_due_ore") or 0)).scaleb(-2)) for i in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=amounts, marker_color=c.primary, name="kr")
    fig.update_layout(**_layout(gettext(lang, "Your last invoices (kr)"), showlegend=False))
    return fig
