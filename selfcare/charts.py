"""Plotly figures of the usage page, built from the core's usage summary. Sized for a phone (360 px).

Each figure has one unit on its value axis: data as cumulative GB against the allowance, call
minutes per day, texts per day, cost per category in kronor. The date axis has at most five
labels (each week's first day, as ``6 dec``) so they never collide at 360 px.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from selfcare.brand import brand
from selfcare.i18n import format_money, format_period, format_short_date, gettext
from selfcare.presenters import CATEGORY_TEXT, OTHER

HEIGHT = 240


def _layout(title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    c = brand().colors
    return {
        "title": {"text": title, "font": {"size": 15}, "x": 0.02, "xanchor": "left"},
        "height": HEIGHT,
        "autosize": True,
        "margin": {"l": 48, "r": 12, "t": 40, "b": 32},
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": c.text},
        "paper_bgcolor": c.surface,
        "plot_bgcolor": c.surface,
        "showlegend": False,
        "bargap": 0.25,
        "yaxis": {
            "title": {"text": y_title, "standoff": 4},
            "rangemode": "tozero",
            "fixedrange": True,
            "gridcolor": "#e6eaee",
        },
        "dragmode": False,
        **extra,
    }


def _days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _date_axis(days: list[date], lang: str) -> dict[str, Any]:
    """The whole period on a date axis, labelled once a week in the page's language: readable at 360 px."""
    ticks = days[::7]
    return {
        "type": "date",
        "tickmode": "array",
        "tickvals": [d.isoformat() for d in ticks],
        "ticktext": [format_short_date(d, lang).rstrip(".") for d in ticks],
        "tickangle": 0,
        "fixedrange": True,
        "showgrid": False,
        "range": [f"{days[0].isoformat()} 00:00", f"{days[-1].isoformat()} 23:59"],
    }


def _gb(volume: int) -> float:
    """Bytes as GB for drawing (3 decimals); the figures themselves stay integers."""
    return float(Decimal(volume).scaleb(-9).quantize(Decimal("0.001")))


def _today(summary: dict[str, Any], days: list[date]) -> date:
    given = summary.get("days_left")
    left = given if type(given) is int else 0
    return days[-1] - timedelta(days=left - 1) if left > 0 else days[-1]


def data_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    """Data used so far this period (cumulative GB, up to today), the pace carried on (dotted) and the allowance."""
    c = brand().colors
    days = _days(summary["start"], summary["end"])
    today = _today(summary, days)
    per_day = (summary.get("per_day") or {}).get("data") or {}
    x, running, acc = [], [], 0
    for d in days:
        if d > today:
            break
        acc += int(per_day.get(d.isoformat(), 0) or 0)
        x.append(d.isoformat())
        running.append(_gb(acc))
    fig = go.Figure()
    fig.add_scatter(
        x=x,
        y=running,
        name=gettext(lang, "Used"),
        mode="lines",
        fill="tozeroy",
        line={"color": c.primary, "width": 3},
        hovertemplate="%{y:.2f} GB<extra></extra>",
    )
    if today < days[-1] and x:  # the pace so far, carried to the period's end
        pace = Decimal(acc) / len(x)
        fig.add_scatter(
            x=[x[-1], days[-1].isoformat()],
            y=[_gb(acc), _gb(int(pace * len(days)))],
            name=gettext(lang, "At this rate"),
            mode="lines",
            line={"color": c.primary, "width": 2, "dash": "dot"},
            hoverinfo="skip",
        )
    allowance = next((a for a in summary.get("allowances") or [] if a.get("pool") == "data"), None)
    shapes = []
    if allowance and not allowance.get("unlimited") and allowance.get("included"):
        included = _gb(int(allowance["included"]))
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": included,
                "y1": included,
                "line": {"color": c.danger, "dash": "dash", "width": 2},
            }
        )
        fig.add_annotation(
            xref="paper",
            x=0.01,
            y=included,
            yanchor="bottom",
            xanchor="left",
            showarrow=False,
            text=gettext(lang, "Allowance"),
            font={"color": c.danger, "size": 11},
        )
    fig.update_layout(
        **_layout(gettext(lang, "Data used this period"), "GB", xaxis=_date_axis(days, lang), shapes=shapes)
    )
    return fig


def _per_day_bars(
    summary: dict[str, Any], service: str, lang: str, title: str, unit: str, colour: str, scale: int = 1
) -> go.Figure:
    days = _days(summary["start"], summary["end"])
    values = (summary.get("per_day") or {}).get(service) or {}
    y = [-(-int(values.get(d.isoformat(), 0) or 0) // scale) for d in days]  # whole units, rounded up
    fig = go.Figure()
    fig.add_bar(
        x=[d.isoformat() for d in days],
        y=y,
        marker_color=colour,
        name=unit,
        hovertemplate=f"%{{y}} {unit}<extra></extra>",
    )
    layout = _layout(title, unit, xaxis=_date_axis(days, lang))
    layout["yaxis"]["tickformat"] = "d"  # whole minutes and texts
    if max(y, default=0) < 5:  # a quiet period: whole steps, not 0.2 of a text
        layout["yaxis"].update(range=[0, 5], dtick=1)
    fig.update_layout(**layout)
    return fig


def calls_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    """Call minutes per day (each day's seconds rounded up to whole minutes)."""
    return _per_day_bars(
        summary, "voice", lang, gettext(lang, "Call minutes per day"), "min", brand().colors.primary, scale=60
    )


def sms_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    """Texts sent per day."""
    return _per_day_bars(
        summary, "sms", lang, gettext(lang, "Texts per day"), gettext(lang, "texts"), brand().colors.accent
    )


def category_figure(summary: dict[str, Any], lang: str) -> go.Figure:
    """What each category cost this period, in kronor (one unit for all: a data session is not an SMS)."""
    c = brand().colors
    cats = summary.get("per_category") or {}
    names = [k for k in CATEGORY_TEXT if k in cats] + [k for k in cats if k not in CATEGORY_TEXT]
    labels = [gettext(lang, CATEGORY_TEXT.get(k, OTHER)) for k in names]
    ore = [int((cats[k] or {}).get("cost_ore", 0) or 0) for k in names]
    fig = go.Figure()
    fig.add_bar(
        x=[float(Decimal(v).scaleb(-2)) for v in ore],
        y=labels,
        orientation="h",
        marker_color=c.primary,
        text=[format_money(v, lang) for v in ore],
        textposition="auto",
        cliponaxis=False,
        hoverinfo="skip",
        name="kr",
    )
    layout = _layout(gettext(lang, "Cost by category (kr)"), "", margin={"l": 96, "r": 12, "t": 40, "b": 28})
    layout["yaxis"] = {"autorange": "reversed", "fixedrange": True}
    layout["xaxis"] = {"title": {"text": "kr"}, "rangemode": "tozero", "fixedrange": True, "gridcolor": "#e6eaee"}
    fig.update_layout(**layout)
    return fig


def invoices_figure(items: list[dict[str, Any]], lang: str) -> go.Figure:
    """The last 12 invoices' totals, oldest left."""
    c = brand().colors
    rows = [i for i in items if i.get("kind", "invoice") == "invoice"][:12][::-1]
    labels = [format_period(i["period"], lang).split(" ")[0][:3] + " " + i["period"][2:4] for i in rows]
    amounts = [float(Decimal(int(i.get("amount_due_ore") or 0)).scaleb(-2)) for i in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=amounts, marker_color=c.primary, name="kr", hovertemplate="%{y:.2f} kr<extra></extra>")
    fig.update_layout(
        **_layout(
            gettext(lang, "Your last invoices (kr)"), "kr", xaxis={"tickangle": 0, "fixedrange": True, "nticks": 6}
        )
    )
    return fig
