"""The results tab of the marketing console: counts, conversion, extra revenue and two charts.

:class:`ResultsPart` is a part of :class:`selfcare.pages.marketing.state.MarketingState` (a Reflex
state mixin: ``MarketingState.show_results``, ``MarketingState.results``); the figures are plain
functions, tested on their own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import reflex as rx

from selfcare.brand import brand
from selfcare.i18n import N_, format_money, format_number, gettext
from selfcare.offers_client import offers_client
from selfcare.state.typed import DictField, dict_field, event

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from selfcare.state.calls import Call


def percent_text(conversion: Any, lang: str) -> str:
    """``"0.0500"`` → ``5,0 %`` / ``5.0 %``."""
    try:
        value = Decimal(str(conversion)) * 100
    except InvalidOperation:
        return "–"
    return f"{format_number(value.quantize(Decimal('0.1')), lang, '0.0')}\u00a0%"


def results_figures(results: dict[str, Any], lang: str) -> tuple[go.Figure, go.Figure]:
    """Impressions, clicks and acceptances per day (grouped bars) and the funnel (horizontal bars)."""
    c = brand().colors
    daily = results.get("daily") or []
    days = [str(d.get("date")) for d in daily]
    over_time = go.Figure()
    for key, label, colour in (
        ("impressions", N_("Impressions"), c.primary),
        ("clicks", N_("Clicks"), c.accent),
        ("acceptances", N_("Acceptances"), c.success),
    ):
        over_time.add_bar(
            x=days, y=[int(d.get(key) or 0) for d in daily], name=gettext(lang, label), marker_color=colour
        )
    layout = {
        "height": 300,
        "margin": {"l": 48, "r": 16, "t": 40, "b": 40},
        "paper_bgcolor": c.surface,
        "plot_bgcolor": c.surface,
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": c.text},
        "legend": {"orientation": "h", "y": -0.2},
    }
    over_time.update_layout(
        title={"text": gettext(lang, "Per day"), "x": 0.02},
        xaxis={"type": "category"},
        barmode="group",
        bargap=0.3,
        **layout,
    )
    stages = results.get("funnel") or []
    names = {"impressions": N_("Impressions"), "clicks": N_("Clicks"), "acceptances": N_("Acceptances")}
    funnel = go.Figure()
    funnel.add_bar(
        y=[gettext(lang, names.get(str(s.get("stage")), str(s.get("stage")))) for s in stages][::-1],
        x=[int(s.get("count") or 0) for s in stages][::-1],
        orientation="h",
        marker_color=[c.success, c.accent, c.primary][-len(stages) :] if stages else None,
        text=[str(int(s.get("count") or 0)) for s in stages][::-1],
        textposition="auto",
    )
    funnel.update_layout(title={"text": gettext(lang, "Funnel"), "x": 0.02}, showlegend=False, **layout)
    return over_time, funnel


class ResultsPart(rx.State, mixin=True):
    """The selected offer's results (the tab loads them when it opens)."""

    if TYPE_CHECKING:  # the console's, which this is a part of (MarketingState)
        tab: str

        async def _who(self) -> tuple[Any, str, str]: ...

        def _call(self, session: Any, lang: str, what: str, **options: Any) -> AbstractAsyncContextManager[Call]: ...

        def _selected_offer(self) -> int: ...

        async def _refresh(self, token: str, lang: str) -> None: ...

        def _forget(self) -> None: ...

    results: DictField[dict[str, str]] = dict_field()
    daily_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    funnel_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)

    def _clear_results(self) -> None:
        self.results = {}
        self.daily_fig = go.Figure()
        self.funnel_fig = go.Figure()

    async def _load_results(self, token: str, lang: str) -> None:
        offer_id = self._selected_offer()
        if not offer_id:
            return
        r = await offers_client().results(token, offer_id)
        extra = r.get("extra_monthly_revenue_ore")
        self.results = {
            "impressions": str(int(r.get("impressions") or 0)),
            "clicks": str(int(r.get("clicks") or 0)),
            "dismissals": str(int(r.get("dismissals") or 0)),
            "acceptances": str(int(r.get("acceptances") or 0)),
            "conversion": percent_text(r.get("conversion") or "0", lang),
            "extra_revenue": format_money(extra if type(extra) is int else 0, lang),
        }
        self.daily_fig, self.funnel_fig = results_figures(r, lang)

    @event
    async def show_results(self):
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.tab = "results"
        async with self._call(session, lang, "results"):
            await self._load_results(token, lang)
            await self._refresh(token, lang)  # the list's counts too
