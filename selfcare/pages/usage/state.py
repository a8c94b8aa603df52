"""``/usage``: charts of a chosen period and the itemised, filterable list with CSV download."""

from __future__ import annotations

import io
import logging
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from selfcare import charts, presenters
from selfcare.api_client import ApiError, get_client, valid_period
from selfcare.i18n import N_, format_period, gettext
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare_common.csv_export import spreadsheet_writer  # the one CSV-export helper (pure)

logger = logging.getLogger(__name__)

SERVICES = ("voice", "sms", "mms", "data")
CATEGORIES = tuple(presenters.CATEGORY_TEXT)
LIST_PAGE = 25
CSV_LIMIT = 1000


def _current_period(today: str | None) -> str | None:
    """``YYYY-MM`` of the core clock's today (the listing's ``today``); None when the core gave none."""
    return today[:7] if isinstance(today, str) and valid_period(today[:7]) else None


class UsageState(rx.State):
    period: str = ""
    period_options: list[dict[str, str]] = []
    service: str = ""
    category: str = ""
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 0
    loading: bool = False
    error: str = ""
    data_fig: go.Figure = go.Figure()
    calls_fig: go.Figure = go.Figure()
    category_fig: go.Figure = go.Figure()
    invoices_fig: go.Figure = go.Figure()
    _periods: list[str] = []

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * LIST_PAGE < self.total

    @rx.var
    def has_prev(self) -> bool:
        return self.page > 0

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        return session, token, customer_id

    @rx.event
    async def load(self):
        session, token, customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        self.loading = True
        yield
        listing: dict[str, Any] = {"items": []}  # after a failure (logged): no invoices
        async with core_call(self, Subscriber(session), "usage page invoices") as call:
            listing = await get_client().invoices(token, customer_id, limit=24)
        if call.event:
            yield call.event
            return
        items = listing.get("items") or []
        current = _current_period(listing.get("today"))
        periods = ([current] if current else []) + [i["period"] for i in items if i.get("period")]
        self._periods = list(dict.fromkeys(periods))[:13]
        self.period_options = [{"value": p, "label": format_period(p, lang)} for p in self._periods]
        self.invoices_fig = charts.invoices_figure(items, lang)
        if self._periods and self.period not in self._periods:
            self.period = self._periods[1] if len(self._periods) > 1 else self._periods[0]
        await self._refresh(session, token, customer_id, lang)
        self.loading = False

    @rx.event
    async def choose_period(self, period: str):
        if not valid_period(period) or period not in self._periods:
            return
        session, token, customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        self.period = period
        self.page = 0
        self.loading = True
        yield
        await self._refresh(session, token, customer_id, session._lang())
        self.loading = False

    @rx.event
    async def choose_service(self, service: str):
        self.service = service if service in SERVICES else ""
        self.page = 0
        await self._reload_list()

    @rx.event
    async def choose_category(self, category: str):
        self.category = category if category in CATEGORIES else ""
        self.page = 0
        await self._reload_list()

    @rx.event
    async def next_page(self):
        if self.has_next:
            self.page += 1
            await self._reload_list()

    @rx.event
    async def prev_page(self):
        if self.page > 0:
            self.page -= 1
            await self._reload_list()

    async def _reload_list(self) -> None:
        session, token, customer_id = await self._session()
        if not token:
            self.rows = []
            return
        await self._list(token, customer_id, session._lang())

    async def _refresh(self, session: SessionState, token: str, customer_id: int, lang: str) -> None:
        try:
            summary = await get_client().usage_summary(token, customer_id, self.period)
        except ApiError as exc:
            logger.warning("usage summary: %s", exc)
            self.error = gettext(lang, "Your usage could not be loaded just now. Please try again.")
            return
        self.error = ""
        self.data_fig = charts.data_figure(summary, lang)
        self.calls_fig = charts.calls_sms_figure(summary, lang)
        self.category_fig = charts.category_figure(summary, lang)
        await self._list(token, customer_id, lang)

    async def _list(self, token: str, customer_id: int, lang: str) -> None:
        try:
            found = await get_client().usage(token, customer_id, period=self.period, service=self.service or None,
                                             category=self.category or None, limit=LIST_PAGE,
                                             offset=self.page * LIST_PAGE)
        except ApiError as exc:
            logger.warning("usage list: %s", exc)
            self.rows, self.total = [], 0
            return
        self.rows = [presenters.usage_row(r, lang) for r in found.get("items") or []]
        self.total = int(found.get("total") or 0)

    @rx.event
    async def download_csv(self):
        session, token, customer_id = await self._session()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        try:
            found = await get_client().usage(token, customer_id, period=self.period, service=self.service or None,
                                             category=self.category or None, limit=CSV_LIMIT)
        except ApiError as exc:
            logger.warning("usage csv: %s", exc)
            self.error = gettext(lang, "Your usage could not be loaded just now. Please try again.")
            return None
        return rx.download(data=usage_csv(found.get("items") or [], lang), filename=f"usage-{self.period}.csv")


CSV_HEADERS = (N_("Time"), N_("Type"), N_("Description"), N_("Number"), N_("Amount"), N_("Category"), N_("Cost"))


def usage_csv(records: list[dict[str, Any]], lang: str) -> str:
    """The itemised list as CSV (semicolon-separated in Swedish, as Swedish spreadsheets expect)."""
    buf = io.StringIO()
    # Descriptions and numbers come from usage records: formula-like cells are neutralised.
    writer = spreadsheet_writer(buf, delimiter=";" if lang == "sv" else ",")
    writer.writerow([gettext(lang, h) for h in CSV_HEADERS])
    for r in records:
        row = presenters.usage_row(r, lang)
        writer.writerow([row["at"], row["service"], row["description"], row["number"], row["amount"],
                         row["category"], row["cost"]])
    return buf.getvalue()
