"""``/``, the overview: what is left to pay, this period's allowances, the latest invoice."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from selfcare import presenters
from selfcare.api_client import ApiError, get_client
from selfcare.i18n import N_, format_date, format_money, format_period, gettext
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.checkout import app_origin, to_checkout
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import DictField, dict_field, event

logger = logging.getLogger(__name__)


class OverviewState(rx.State):
    loading: rx.Field[bool] = rx.field(False)
    # False until the invoices are known: the page shows skeletons, never "nothing to pay", before.
    loaded: rx.Field[bool] = rx.field(False)
    overdue_count: rx.Field[int] = rx.field(0)
    overdue_total: rx.Field[str] = rx.field("")
    overdue_oldest: rx.Field[str] = rx.field("")
    overdue_fees: rx.Field[str] = rx.field("")
    overdue_next: rx.Field[str] = rx.field("")
    owed: rx.Field[str] = rx.field("")
    paying_all: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    left_to_pay: rx.Field[str] = rx.field("")
    next_due: rx.Field[str] = rx.field("")
    has_open: rx.Field[bool] = rx.field(False)
    latest: DictField[dict[str, str]] = dict_field()
    period: rx.Field[str] = rx.field("")
    days_left: rx.Field[str] = rx.field("")
    allowances: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    forecast: rx.Field[str] = rx.field("")
    so_far: rx.Field[str] = rx.field("")
    warnings: rx.Field[list[str]] = rx.field(default_factory=list)

    @event
    async def load(self):
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        self.loading = True
        self.error = ""
        yield
        client = get_client()
        listing = None  # unknown after a failure: say so, never "nothing to pay"
        async with core_call(
            self,
            Subscriber(session),
            "overview invoices",
            N_("Your invoices could not be loaded just now. Please try again."),
        ) as call:
            listing = await client.invoices(token, customer_id, limit=50)
        if call.event:
            self.loading = False
            yield call.event
            return
        if listing is not None:
            self._show_invoices(listing, lang)
            self.loaded = True
        yield
        if session.signed_in and not session.customer_name:
            # A session taken over from the cookie (a reload, a new tab) carries no name: ask once, for "Hej …".
            try:
                who = await client.customer(token, customer_id)
            except ApiError as exc:
                logger.info("customer name: %s", exc)
                who = {}
            session.customer_name = str(who.get("name") or "")
        try:
            fc = await client.forecast(token, customer_id, lang)
        except ApiError as exc:
            logger.info("forecast: %s", exc)
            fc = {}
        self._show_forecast(fc, lang)
        self.loading = False

    def _show_invoices(self, listing: dict[str, Any], lang: str) -> None:
        """Left to pay, overdue first, the next due date and any credit, from each invoice's one state."""
        items = [i for i in listing.get("items") or [] if i.get("kind", "invoice") == "invoice"]
        states = [presenters.state_of(i) for i in items]
        open_states = [st for st in states if st.get("open")]
        self.left_to_pay = format_money(sum(int(st.get("to_pay_ore") or 0) for st in open_states), lang)
        self.has_open = bool(open_states)
        coming = sorted(str(st["due_date"]) for st in open_states if not st.get("overdue") and st.get("due_date"))
        self.next_due = format_date(coming[0], lang) if coming else ""
        given = listing.get("overdue")
        overdue: dict[str, Any] = given if isinstance(given, dict) else {}
        count = int(overdue.get("count") or 0)
        self.overdue_count = count
        self.overdue_total = format_money(int(overdue.get("total_ore") or 0), lang) if count else ""
        days = int(overdue.get("oldest_days") or 0)
        self.overdue_oldest = gettext(lang, "The oldest was due {days} days ago.", days=days) if count else ""
        fees = int(overdue.get("fees_ore") or 0)
        self.overdue_fees = (
            gettext(lang, "Reminder fees charged: {amount}.", amount=format_money(fees, lang)) if count and fees else ""
        )
        # What happens next to the oldest overdue invoice (a reminder fee coming, collection).
        late = sorted((st for st in open_states if st.get("overdue")), key=lambda st: str(st.get("due_date")))
        self.overdue_next = presenters.next_step_line(late[0], lang) if late else ""
        owed = sum(int(st.get("owed_to_customer_ore") or 0) for st in states)
        self.owed = (
            gettext(
                lang,
                "You have {amount} to your credit. It is taken off your next invoice.",
                amount=format_money(owed, lang),
            )
            if owed > 0
            else ""
        )
        self.latest = presenters.invoice_row(items[0], lang) if items else {}

    @event
    async def pay_all(self):
        """ "Pay all": one payment at the provider's hosted page for every overdue invoice (oldest due first)."""
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        self.paying_all = True
        try:
            return await to_checkout(
                self,
                session,
                lambda: get_client().pay_many(token, customer_id, None, f"{app_origin(self)}/"),
                f"pay all {customer_id}",
            )
        finally:
            self.paying_all = False

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
