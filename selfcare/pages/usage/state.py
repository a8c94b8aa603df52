"""``/usage``: this period in words first (the summary, the days left, a cheaper plan if re-rating found
one), then its charts and the itemised, filterable list with CSV download.

The summary's figures come from the core's usage summary; the plan line from the core's
recommendation, asked for alongside the summary so both show at once (a line arriving later would
push the chart below it down), linked to the order sheet of an offer that sells that plan to this
subscriber when the core has one for them.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from selfcare import charts, presenters
from selfcare.api_client import ApiError, NotFound, get_client, valid_period
from selfcare.i18n import N_, format_period, gettext
from selfcare.offers_client import offers_client
from selfcare.pages.usage import summary as words
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.order_sheet import GONE, OrderSheetMixin
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event
from selfcare_common.csv_export import spreadsheet_writer  # the one CSV-export helper (pure)

logger = logging.getLogger(__name__)

SERVICES = ("voice", "sms", "mms", "data")
CATEGORIES = tuple(presenters.CATEGORY_TEXT)
LIST_PAGE = 25
CSV_LIMIT = 1000


def _current_period(today: str | None) -> str | None:
    """``YYYY-MM`` of the core clock's today (the listing's ``today``); None when the core gave none."""
    return today[:7] if isinstance(today, str) and valid_period(today[:7]) else None


class UsageState(OrderSheetMixin, rx.State):
    period: rx.Field[str] = rx.field("")
    period_options: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    service: rx.Field[str] = rx.field("")
    category: rx.Field[str] = rx.field("")
    rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)
    page: rx.Field[int] = rx.field(0)
    loading: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    # The summary: sentences, the days left, the data allowance's share used (-1: no bar).
    summary_ready: rx.Field[bool] = rx.field(False)
    summary_lines: rx.Field[list[str]] = rx.field(default_factory=list)
    days_left: rx.Field[str] = rx.field("")
    data_share: rx.Field[int] = rx.field(-1)
    mobile: rx.Field[bool] = rx.field(True)  # False: broadband only (data only, no calls and texts)
    # A cheaper plan (re-rating of the last invoiced periods) and its order sheet.
    plan_text: rx.Field[str] = rx.field("")
    plan_basis: rx.Field[str] = rx.field("")  # what the saving is reckoned on: the last invoiced periods
    plan_orderable: rx.Field[bool] = rx.field(False)
    data_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    calls_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    sms_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    category_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    invoices_fig: rx.Field[go.Figure] = rx.field(default_factory=go.Figure)
    _periods: list[str] = []
    _plan_customer: int = 0
    _plan: dict[str, Any] = {}
    _plan_offer: int = 0
    _plan_subscription: int = 0

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

    @event
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
            self.period = self._periods[0]  # this period (the overview talks about it too)
        self._forget_plan()  # asked anew on each visit: a plan taken meanwhile (overview) ends the line
        plan_call = asyncio.create_task(find_cheaper_plan(token, customer_id, lang))
        await self._refresh(session, token, customer_id, lang)
        plan, self._plan_subscription, self._plan_offer = await plan_call
        self._plan, self._plan_customer = plan or {}, customer_id
        self.plan_text = words.recommendation_text(self._plan or None, lang)
        self.plan_basis = words.recommendation_basis(self._plan or None, lang)
        self.plan_orderable = bool(self._plan and self._plan_offer)
        self.loading = False

    @event
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

    @event
    async def choose_service(self, service: str):
        self.service = service if service in SERVICES else ""
        self.page = 0
        await self._reload_list()

    @event
    async def choose_category(self, category: str):
        self.category = category if category in CATEGORIES else ""
        self.page = 0
        await self._reload_list()

    @event
    async def next_page(self):
        if self.has_next:
            self.page += 1
            await self._reload_list()

    @event
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
            self.summary_lines, self.days_left, self.data_share = [], "", -1
            self.summary_ready = True  # the page shows what it has (the error says the rest)
            return
        self.error = ""
        self.summary_lines = words.summary_sentences(summary, lang)
        self.days_left = words.days_left_text(summary, lang)
        share = words.data_bar(summary)
        self.data_share = -1 if share is None else share
        self.mobile = bool(summary.get("allowances"))
        self.summary_ready = True
        self.data_fig = charts.data_figure(summary, lang)
        self.calls_fig = charts.calls_figure(summary, lang)
        self.sms_fig = charts.sms_figure(summary, lang)
        self.category_fig = charts.category_figure(summary, lang)
        await self._list(token, customer_id, lang)

    async def _list(self, token: str, customer_id: int, lang: str) -> None:
        try:
            found = await get_client().usage(
                token,
                customer_id,
                period=self.period,
                service=self.service or None,
                category=self.category or None,
                limit=LIST_PAGE,
                offset=self.page * LIST_PAGE,
            )
        except ApiError as exc:
            logger.warning("usage list: %s", exc)
            self.rows, self.total = [], 0
            return
        self.rows = [presenters.usage_row(r, lang) for r in found.get("items") or []]
        self.total = int(found.get("total") or 0)

    # -- a cheaper plan ------------------------------------------------------------------------

    def _forget_plan(self) -> None:
        self.plan_text, self.plan_basis, self.plan_orderable = "", "", False
        self._plan_customer, self._plan_offer, self._plan_subscription, self._plan = 0, 0, 0, {}
        self._close_sheet()

    @event
    async def open_plan_order(self):
        """The plan line's button: the order sheet of the offer that sells the cheaper plan."""
        session, token, customer_id = await self._session()
        if not token or customer_id != self._plan_customer or not self._plan_offer:
            return
        async for step in self._open_sheet(
            Subscriber(session, forget=self._forget_plan),
            token,
            customer_id,
            self._plan_offer,
            self._plan_subscription,
            what="usage plan order",
            refused={NotFound: GONE},
        ):
            yield step

    @event
    async def confirm_plan(self):
        session, token, customer_id = await self._session()
        if not token or customer_id != self._plan_customer or not self._sheet_confirmable():
            return
        async for step in self._place_order(
            Subscriber(session, forget=self._forget_plan), token, customer_id, what="usage plan accept", refused={}
        ):
            yield step
        if self.sheet_done:
            self.plan_text, self.plan_basis, self.plan_orderable, self._plan_offer, self._plan = "", "", False, 0, {}

    @event
    async def download_csv(self):
        session, token, customer_id = await self._session()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        lang = session._lang()
        try:
            found = await get_client().usage(
                token,
                customer_id,
                period=self.period,
                service=self.service or None,
                category=self.category or None,
                limit=CSV_LIMIT,
            )
        except ApiError as exc:
            logger.warning("usage csv: %s", exc)
            self.error = gettext(lang, "Your usage could not be loaded just now. Please try again.")
            return None
        return rx.download(data=usage_csv(found.get("items") or [], lang), filename=f"usage-{self.period}.csv")


async def find_cheaper_plan(token: str, customer_id: int, lang: str) -> tuple[dict[str, Any] | None, int, int]:
    """``(plan, subscription_id, offer_id)``: the first running subscription for which re-rating found a
    cheaper plan (``summary.cheaper_plan``), and an offer to this subscriber that sells that plan for
    that subscription (0: none; the line is shown without the order button). Failures are logged only.

    The plan's name is in ``lang``: the recommendation names plans in Swedish only, so in English the
    name comes from the offer's order sheet or the subscriber's own plan history (``plan_name_en``),
    and is left empty (the line then says "another plan") when neither has it."""
    try:
        customer = await get_client().customer(token, customer_id)
        plan, subscription = None, 0
        for sub in customer.get("subscriptions") or []:
            if not sub.get("plan_id") or type(sub.get("id")) is not int:
                continue
            try:
                rec = await offers_client().recommendation(token, customer_id, sub["id"])
            except NotFound:
                continue
            plan = words.cheaper_plan(rec)
            if plan:
                subscription = sub["id"]
                break
        if not plan:
            return None, 0, 0
        if lang == "en":
            known = {
                g.get("plan_id"): g.get("plan_name_en")
                for sub in customer.get("subscriptions") or []
                for g in sub.get("segments") or []
                if isinstance(g, dict)
            }
            plan["name"] = str(known.get(plan["plan_id"]) or "")
        for banner in await offers_client().banners(token, customer_id, "overview", lang):
            try:
                offer_id, sub_id = int(banner["offer_id"]), int(banner["subscription_id"])
            except (KeyError, TypeError, ValueError):
                continue
            if sub_id != subscription:
                continue
            try:
                order = await offers_client().order(token, customer_id, offer_id, sub_id, lang)
            except NotFound:
                continue
            new = order.get("new") or {}
            if new.get("kind") == "plan" and new.get("id") == plan["plan_id"]:
                plan["name"] = str(new.get("name") or plan["name"])  # the core's name in ``lang``
                return plan, subscription, offer_id
        return plan, subscription, 0
    except ApiError as exc:
        logger.info("usage plan recommendation: %s", exc)
        return None, 0, 0


CSV_HEADERS = (N_("Time"), N_("Type"), N_("Description"), N_("Number"), N_("Amount"), N_("Category"), N_("Cost"))


def usage_csv(records: list[dict[str, Any]], lang: str) -> str:
    """The itemised list as CSV (semicolon-separated in Swedish, as Swedish spreadsheets expect)."""
    buf = io.StringIO()
    # Descriptions and numbers come from usage records: formula-like cells are neutralised.
    writer = spreadsheet_writer(buf, delimiter=";" if lang == "sv" else ",")
    writer.writerow([gettext(lang, h) for h in CSV_HEADERS])
    for r in records:
        row = presenters.usage_row(r, lang)
        writer.writerow(
            [row["at"], row["service"], row["description"], row["number"], row["amount"], row["category"], row["cost"]]
        )
    return buf.getvalue()
