"""The order sheet of one offer, written once: its fields, opening it on the core's order, placing the
order, and closing it. Shared by the offer banners (:class:`selfcare.state.offers.OffersState`) and the
usage page's cheaper plan (:class:`selfcare.pages.usage.state.UsageState`); the component is
:func:`selfcare.components.order_sheet.state_order_sheet`.

A Reflex state mixin (``OrderSheetMixin(rx.State, mixin=True)``): its vars and helpers become the
including state's own. Who is asking stays the including state's business: each of its handlers checks
the session, and which offer and subscription that session may order, before it calls the helpers here,
and passes the helpers who that is (``who``) and what becomes of the calls (``what``, ``refused``).
The sheet only orders what it showed: :meth:`_sheet_confirmable` is true once the core's order for an
offer is loaded, not busy and not yet placed.

Also here, pure: the order's texts (:func:`order_view`) and the confirmation (:func:`accepted_text`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, NotFound
from selfcare.i18n import N_, format_money, format_number, format_short_date, gettext
from selfcare.offers_client import Invalid, offers_client
from selfcare.state.calls import Caller, Text, core_call
from selfcare.state.typed import event

GONE = N_("This offer is no longer available.")


def offer_refusals(lang: str) -> dict[type[ApiError] | int, Text]:
    """How the core's refusals of an offer's order read (a banner's order sheet and an alert's alike)."""
    return {
        NotFound: GONE,
        Invalid: lambda exc: gettext(lang, "The order was not placed: {reason}", reason=exc.detail),
        409: N_("You have already taken this offer."),
    }


CANNOT_LOAD = N_("The order could not be loaded just now. Please try again.")
CANNOT_PLACE = N_("The order could not be placed just now. Please try again.")


def short_kr(ore: int, lang: str) -> str:
    """Whole kronor without öre (``597 kr``), else the full amount (``597,50 kr``)."""
    if type(ore) is not int:
        return ""
    if ore % 100 == 0:
        return f"{format_number(ore // 100, lang)}\u00a0kr"
    return format_money(ore, lang)


def signed_money(ore: int, lang: str) -> str:
    """A cost line's amount: ``132,67 kr`` or ``−99,67 kr`` for a discount."""
    return format_money(ore, lang) if ore >= 0 else "−" + format_money(-ore, lang)


def short_date(value: str, lang: str) -> str:
    """``2026-11-21`` → ``21 nov`` / ``21 Nov``."""
    try:
        return format_short_date(value, lang).rstrip(".")
    except (TypeError, ValueError):
        return str(value or "")


def order_view(o: dict[str, Any], lang: str) -> dict[str, Any]:
    """The order sheet's texts from the core's order (``this_period.lines`` exactly as given)."""
    this = o.get("this_period") or {}
    lines = [
        {"description": str(x.get("description") or ""), "amount": signed_money(int(x.get("amount_ore") or 0), lang)}
        for x in this.get("lines") or []
    ]
    current, new = o.get("current") or {}, o.get("new") or {}
    change = ""
    if new.get("kind") == "plan" and current.get("name") and new.get("name"):
        change = gettext(
            lang,
            "{current} → {new} from {date}",
            current=current["name"],
            new=new["name"],
            date=short_date(str(o.get("effective_date") or ""), lang),
        )
    elif new.get("name"):
        change = gettext(
            lang, "{new} from {date}", new=new["name"], date=short_date(str(o.get("effective_date") or ""), lang)
        )
    monthly = o.get("monthly_after_discount_ore")
    return {
        "title": str(o.get("title") or new.get("name") or ""),
        "get": [str(x) for x in o.get("what_you_get") or []],
        "terms": str(o.get("terms_text") or ""),
        "lines": lines,
        "total": format_money(int(this.get("total_ore") or 0), lang),
        "change": change,
        "monthly": gettext(lang, "Then {amount} a month", amount=short_kr(monthly, lang))
        if type(monthly) is int
        else "",
        "msisdn": str(o.get("msisdn") or ""),
    }


def accepted_text(o: dict[str, Any], answer: dict[str, Any], lang: str) -> str:
    """``Klart! Din nya plan gäller från 21 nov.``"""
    when = short_date(str(answer.get("effective_date") or o.get("effective_date") or ""), lang)
    if answer.get("plan_id") or (o.get("new") or {}).get("kind") == "plan":
        return gettext(lang, "Done! Your new plan applies from {date}.", date=when)
    return gettext(lang, "Done! {name} applies from {date}.", name=(o.get("new") or {}).get("name") or "", date=when)


class OrderSheetMixin(rx.State, mixin=True):
    """The sheet's fields (``sheet_*``, sent to the browser) and the order behind it (backend-only)."""

    sheet_open: rx.Field[bool] = rx.field(False)
    sheet_busy: rx.Field[bool] = rx.field(False)
    sheet_error: rx.Field[str] = rx.field("")
    sheet_done: rx.Field[str] = rx.field("")
    sheet_title: rx.Field[str] = rx.field("")
    sheet_get: rx.Field[list[str]] = rx.field(default_factory=list)
    sheet_terms: rx.Field[str] = rx.field("")
    sheet_change: rx.Field[str] = rx.field("")
    sheet_lines: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    sheet_total: rx.Field[str] = rx.field("")

    # Backend-only: the offer and subscription of the order on show, the core's order, and whether it
    # is being placed (the sheet does not close then).
    _sheet_offer: int = 0
    _sheet_subscription: int = 0
    _sheet_order: dict[str, Any] = {}
    _accepting: bool = False

    def _reload_page(self):
        """The load of the page behind the sheet, so that it shows what was ordered (the plan, this period's
        allowances): the invoice, the usage page or the overview, by the address the sheet is open on.

        The one place a shared state names the pages' states: imported here, when needed, so that the states
        the pages show do not depend on the pages."""
        path = str(self.rx_router_url.path).rstrip("/")
        if path.startswith("/invoices/"):
            from selfcare.pages.invoice.state import InvoiceState

            return InvoiceState.load
        if path == "/usage":
            from selfcare.pages.usage.state import UsageState

            return UsageState.load
        from selfcare.pages.overview.state import OverviewState

        return OverviewState.load

    def _close_sheet(self) -> None:
        self.sheet_open = False
        self.sheet_busy = False
        self.sheet_error = ""
        self.sheet_done = ""
        self.sheet_title = ""
        self.sheet_get = []
        self.sheet_terms = ""
        self.sheet_change = ""
        self.sheet_lines = []
        self.sheet_total = ""
        self._sheet_offer = 0
        self._sheet_subscription = 0
        self._sheet_order = {}
        self._accepting = False

    def _sheet_confirmable(self) -> bool:
        """An order on show that is neither being placed nor placed already."""
        return bool(self._sheet_offer and self._sheet_order) and not (self.sheet_busy or self.sheet_done)

    async def _open_sheet(
        self,
        who: Caller,
        token: str,
        customer_id: int,
        offer: int,
        subscription: int,
        *,
        what: str,
        refused: Mapping[type[ApiError] | int, Text],
        title: str = "",
        meanwhile: Awaitable[Any] | None = None,
    ) -> AsyncIterator[Any]:
        """Open the sheet (busy, ``title`` until the core's own) and show the core's order of ``offer`` for
        ``subscription``; ``meanwhile`` is awaited once the sheet is open, before the order is asked for.
        The caller has checked that the session may order it. Yields the handler's events (the sheet
        opening; the sign-in page when the session ended)."""
        self._close_sheet()
        self.sheet_open = True
        self.sheet_busy = True
        self.sheet_title = title
        yield None
        if meanwhile is not None:
            await meanwhile
        async with core_call(
            self, who, what, CANNOT_LOAD, error="sheet_error", busy="sheet_busy", refused=refused
        ) as call:
            order = await offers_client().order(token, customer_id, offer, subscription, who.lang)
        if call.failed:
            if call.event:
                yield call.event
            return
        view = order_view(order, who.lang)
        self._sheet_offer, self._sheet_subscription, self._sheet_order = offer, subscription, order
        self.sheet_title = view["title"]
        self.sheet_get = view["get"]
        self.sheet_terms = view["terms"] or view["monthly"]
        self.sheet_change = view["change"]
        self.sheet_lines = view["lines"]
        self.sheet_total = view["total"]

    async def _place_order(
        self,
        who: Caller,
        token: str,
        customer_id: int,
        *,
        what: str,
        refused: Mapping[type[ApiError] | int, Text],
    ) -> AsyncIterator[Any]:
        """Accept the order on show (its offer and subscription, never ids from the browser); on success
        ``sheet_done`` says from when it applies. The caller has checked :meth:`_sheet_confirmable` for the
        session. Yields the handler's events (the spinner; the sign-in page when the session ended)."""
        offer, subscription = self._sheet_offer, self._sheet_subscription
        self.sheet_busy = True
        self._accepting = True
        self.sheet_error = ""
        yield None
        async with core_call(
            self, who, what, CANNOT_PLACE, error="sheet_error", busy="sheet_busy", refused=refused
        ) as call:
            answer = await offers_client().accept(token, customer_id, offer, subscription)
        self._accepting = False
        if call.failed:
            if call.event:
                yield call.event
            return
        self.sheet_done = accepted_text(self._sheet_order, answer or {}, who.lang)

    @event
    def close_order(self):
        """ "Cancel", "Close", Esc or a tap outside the sheet (not while the order is being placed)."""
        if not self._accepting:
            self._close_sheet()
