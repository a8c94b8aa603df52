"""The start page: what is left to pay, this period's allowances, the latest invoice."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import reflex as rx

from selfcare import presenters
from selfcare.api_client import ApiError, Unauthorized, get_client
from selfcare.i18n import format_date, format_money, format_period, gettext
from selfcare.state.session import LOGIN_ROUTE, SessionState

logger = logging.getLogger(__name__)


class OverviewState(rx.State):
    loading: bool = False
    error: str = ""
    left_to_pay: str = ""
    next_due: str = ""
    has_open: bool = False
    latest: dict[str, str] = {}
    period: str = ""
    days_left: str = ""
    allowances: list[dict[str, Any]] = []
    forecast: str = ""
    so_far: str = ""
    warnings: list[str] = []

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        token, customer_id = session.token_for_customer()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        self.loading = True
        self.error = ""
        yield
        client = get_client()
        try:
            listing = await client.invoices(token, customer_id, limit=50)
        except Unauthorized:
            session._drop()
            self.loading = False
            yield rx.redirect(LOGIN_ROUTE)
            return
        except ApiError as exc:
            logger.warning("overview invoices: %s", exc)
            self.error = gettext(lang, "Your invoices could not be loaded just now. Please try again.")
            listing = {"items": []}
        items = [i for i in listing.get("items") or [] if i.get("kind", "invoice") == "invoice"]
        open_items = [i for i in items if i.get("status") in presenters.OPEN_STATUSES and int(i.get("balance_ore") or 0) > 0]
        self.left_to_pay = format_money(sum(int(i["balance_ore"]) for i in open_items), lang)
        self.has_open = bool(open_items)
        dues = sorted(date.fromisoformat(i["due_date"]) for i in open_items if i.get("due_date"))
        self.next_due = format_date(dues[0], lang) if dues else ""
        self.latest = presenters.invoice_row(items[0], lang) if items else {}
        try:
            fc = await client.forecast(token, customer_id, lang)
        except ApiError as exc:
            logger.info("forecast: %s", exc)
            fc = {}
        self._show_forecast(fc, lang)
        self.loading = False

    def _show_forecast(self, fc: dict[str, Any], lang: str) -> None:
        period = fc.get("period")
        label = period.get("label") if isinstance(period, dict) else period
        self.period = format_period(label, lang) if isinstance(label, str) and label else ""
        days = fc.get("days_left")
        self.days_left = gettext(lang, "{days} days left", days=days) if isinstance(days, int) else ""
        self.allowances = presenters.allowance_rows(fc.get("allowances") or [], lang)
        self.forecast = format_money(fc["forecast_ore"], lang) if type(fc.get("forecast_ore")) is int else ""
        self.so_far = format_money(fc["so_far_ore"], lang) if type(fc.get("so_far_ore")) is int else ""
        self.warnings = [str(w.get("text", "")) for w in fc.get("warnings") or [] if w.get("text")]


class InvoicesState(rx.State):
    """``/invoices``: every invoice, newest first, a page at a time."""

    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 0
    page_size: int = 10
    loading: bool = False
    error: str = ""

    @rx.var
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def has_prev(self) -> bool:
        return self.page > 0

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total

    @rx.event
    async def load(self):
        async for update in self._fetch(0):
            yield update

    @rx.event
    async def next_page(self):
        async for update in self._fetch(self.page + 1):
            yield update

    @rx.event
    async def prev_page(self):
        async for update in self._fetch(self.page - 1):
            yield update

    async def _fetch(self, page: int):
        session = await self.get_state(SessionState)
        token, customer_id = session.token_for_customer()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        page = max(0, page)
        self.loading = True
        yield
        try:
            listing = await get_client().invoices(token, customer_id, limit=self.page_size,
                                                  offset=page * self.page_size)
        except Unauthorized:
            session._drop()
            self.loading = False
            yield rx.redirect(LOGIN_ROUTE)
            return
        except ApiError as exc:
            logger.warning("invoices: %s", exc)
            self.error = gettext(lang, "Your invoices could not be loaded just now. Please try again.")
            self.loading = False
            return
        self.error = ""
        self.page = page
        self.total = int(listing.get("total") or 0)
        self.rows = [presenters.invoice_row(i, lang) for i in listing.get("items") or []]
        self.loading = False
