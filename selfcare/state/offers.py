"""Offer banners on the overview and the invoice page, and the order sheet behind them.

Who may do what: every handler asks :class:`SessionState` for a live full session and works
only on the banners it loaded for that same customer. The browser sends at most an offer id;
it is looked up among those banners, and the subscription the order is for comes from the
banner the core gave us (``_targets``), never from the browser. The core checks it all again.

Tracking: each load of a page's banners is one real view with its own ``view_id`` (made here,
in the backend). The impression of each banner is sent once per view, in a background task,
after the banners are on the page; clicks and dismissals carry the same ``view_id``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, NotFound, core_public_base
from selfcare.i18n import N_, format_money, format_number, format_short_date, gettext
from selfcare.offers_client import PLACEMENTS, Invalid, offers_client
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState

logger = logging.getLogger(__name__)

MAX_BANNERS = 2
ABOUT_THE_SAME_PERCENT = 105  # the core's recommendation: at most 5 % more counts as about the same
CORE_PREFIX = "/core"
GONE = N_("This offer is no longer available.")


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


def image_src(url: Any) -> str:
    """The banner image's address for the browser: the core's paths under the core's public base."""
    if not isinstance(url, str) or not url:
        return ""
    if url.startswith(("https://", "http://")):
        return url
    path = url[len(CORE_PREFIX) :] if url.startswith(CORE_PREFIX + "/") else url
    if not path.startswith("/"):
        return ""
    return core_public_base() + path


def short_date(value: str, lang: str) -> str:
    """``2026-11-21`` → ``21 nov`` / ``21 Nov``."""
    try:
        return format_short_date(value, lang).rstrip(".")
    except (TypeError, ValueError):
        return str(value or "")


def recommendation_text(rec: Any, lang: str) -> str:
    """``Dina senaste 3 månader hade kostat 597 kr i stället för 717 kr.``

    Empty without figures, and when the offered plan would have cost more than about the same
    (≤ 5 % more): the banner then makes no "recommended for you" claim.
    """
    if not isinstance(rec, dict):
        return ""
    offer, current = rec.get("offer_cost_ore"), rec.get("current_cost_ore")
    if type(offer) is not int or type(current) is not int or current <= 0:
        return ""
    if offer * 100 > current * ABOUT_THE_SAME_PERCENT:
        return ""  # not cheaper (nor about the same): no "recommended for you" for this subscriber
    months = len(rec.get("periods") or []) or 3
    return gettext(
        lang,
        "Your last {months} months would have cost {offer} instead of {current}.",
        months=months,
        offer=short_kr(offer, lang),
        current=short_kr(current, lang),
    )


def banner_view(b: dict[str, Any], lang: str) -> dict[str, str]:
    """One banner as the page shows it (all strings)."""
    return {
        "offer_id": str(int(b["offer_id"])),
        "title": str(b.get("title") or ""),
        "body": str(b.get("body") or ""),
        "cta": str(b.get("cta") or "") or gettext(lang, "See the offer"),
        "image": image_src(b.get("image_url")),
        "terms": str(b.get("terms_text") or ""),
        "msisdn": str(b.get("msisdn") or ""),
        "recommendation": recommendation_text(b.get("recommendation"), lang),
    }


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


class OffersState(rx.State):
    """Banners of the page on show and the order sheet of one of them."""

    banners: list[dict[str, str]] = []
    # The order sheet.
    sheet_open: bool = False
    sheet_busy: bool = False
    sheet_error: str = ""
    sheet_done: str = ""
    sheet_title: str = ""
    sheet_get: list[str] = []
    sheet_terms: str = ""
    sheet_change: str = ""
    sheet_lines: list[dict[str, str]] = []
    sheet_total: str = ""

    # Backend-only: what the core showed this session's customer, and this view's id.
    _customer_id: int = 0
    _placement: str = ""
    _view_id: str = ""
    _targets: dict[str, int] = {}  # offer id → the subscription its banner is for
    _impressions: list[str] = []  # "<view_id>:<offer_id>" already sent
    _sheet_offer: int = 0
    _sheet_subscription: int = 0
    _sheet_order: dict[str, Any] = {}
    _accepting: bool = False

    # -- helpers --------------------------------------------------------------------------------

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if token and customer_id != self._customer_id:
            # Another subscriber signed in on this tab: nothing loaded before is theirs.
            self._forget()
        return session, token, customer_id

    def _forget(self) -> None:
        self.banners = []
        self._targets = {}
        self._impressions = []
        self._view_id = ""
        self._placement = ""
        self._customer_id = 0
        self._close_sheet()

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

    def _target(self, offer_id: Any) -> tuple[int, int]:
        """``(offer_id, subscription_id)`` of a banner loaded for this customer, or ``(0, 0)``."""
        if type(offer_id) is str and offer_id.isdigit():
            offer_id = int(offer_id)
        if type(offer_id) is not int or offer_id <= 0:
            return 0, 0
        subscription_id = self._targets.get(str(offer_id), 0)
        return (offer_id, subscription_id) if subscription_id else (0, 0)

    async def _send(self, token: str, customer_id: int, offer_id: int, kind: str, placement: str, view_id: str) -> bool:
        try:
            await offers_client().event(token, customer_id, offer_id, kind, placement, view_id)
        except ApiError as exc:  # tracking never gets in the subscriber's way
            logger.info("offer %s %s: %s", offer_id, kind, exc)
            return False
        return True

    # -- banners --------------------------------------------------------------------------------

    @rx.event(background=True)
    async def load(self, placement: str):
        """on_mount of a page's banner slot: a new view; its banners, then one impression each."""
        if placement not in PLACEMENTS:
            return
        async with self:
            session, token, customer_id = await self._session()
            if not token:
                self._forget()
                return
            lang = session._lang()
            view_id = uuid.uuid4().hex
            self._view_id = view_id
            self._placement = placement
            self._customer_id = customer_id
            self._close_sheet()
        try:
            found = await offers_client().banners(token, customer_id, placement, lang)
        except ApiError as exc:
            logger.info("offer banners (%s): %s", placement, exc)
            found = []
        shown: list[dict[str, str]] = []
        targets: dict[str, int] = {}
        for b in found[:MAX_BANNERS]:
            try:
                view = banner_view(b, lang)
                subscription_id = int(b["subscription_id"])
            except (KeyError, TypeError, ValueError):
                continue
            shown.append(view)
            targets[view["offer_id"]] = subscription_id
        async with self:
            if self._view_id != view_id:  # a newer view started meanwhile
                return
            self.banners = shown
            self._targets = targets
        # The banners are on the page; now count them as seen, once per view.
        for view in shown:
            key = f"{view_id}:{view['offer_id']}"
            async with self:
                if self._view_id != view_id or key in self._impressions:
                    continue
                self._impressions = [*self._impressions[-50:], key]
            await self._send(token, customer_id, int(view["offer_id"]), "impression", placement, view_id)

    @rx.event
    async def dismiss(self, offer_id: str):
        """The banner's ×: gone from the page, and the core told (it stays away for this subscriber)."""
        _session, token, customer_id = await self._session()
        offer, _subscription = self._target(offer_id)
        if not token or not offer:
            return
        self.banners = [b for b in self.banners if b["offer_id"] != str(offer)]
        self._targets = {k: v for k, v in self._targets.items() if k != str(offer)}
        yield
        await self._send(token, customer_id, offer, "dismiss", self._placement, self._view_id)

    # -- the order sheet ------------------------------------------------------------------------

    @rx.event
    async def open_order(self, offer_id: str):
        """The banner's call to action: the click is counted and the order sheet opens."""
        session, token, customer_id = await self._session()
        offer, subscription = self._target(offer_id)
        if not token:
            self._forget()
            return
        if not offer:
            return
        lang = session._lang()
        self._close_sheet()
        self.sheet_open = True
        self.sheet_busy = True
        self.sheet_title = next((b["title"] for b in self.banners if b["offer_id"] == str(offer)), "")
        yield
        await self._send(token, customer_id, offer, "click", self._placement, self._view_id)
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"order sheet {offer}",
            N_("The order could not be loaded just now. Please try again."),
            error="sheet_error",
            busy="sheet_busy",
            refused={NotFound: GONE},
        ) as call:
            order = await offers_client().order(token, customer_id, offer, subscription, lang)
        if call.failed:
            if call.event:
                yield call.event
            return
        view = order_view(order, lang)
        self._sheet_offer, self._sheet_subscription, self._sheet_order = offer, subscription, order
        self.sheet_title = view["title"]
        self.sheet_get = view["get"]
        self.sheet_terms = view["terms"] or view["monthly"]
        self.sheet_change = view["change"]
        self.sheet_lines = view["lines"]
        self.sheet_total = view["total"]

    @rx.event
    async def confirm(self):
        """ "Add": the offer is accepted for the subscription its banner was for (no ids from the browser)."""
        session, token, customer_id = await self._session()
        if not token:
            self._forget()
            yield rx.redirect(LOGIN_ROUTE)
            return
        offer, subscription = self._sheet_offer, self._sheet_subscription
        if not offer or self._target(offer) != (offer, subscription) or self.sheet_busy or self.sheet_done:
            return
        lang = session._lang()
        self.sheet_busy = True
        self._accepting = True
        self.sheet_error = ""
        yield
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"accept offer {offer}",
            N_("The order could not be placed just now. Please try again."),
            error="sheet_error",
            busy="sheet_busy",
            refused={
                NotFound: GONE,
                Invalid: lambda exc: gettext(lang, "The order was not placed: {reason}", reason=exc.detail),
                409: N_("You have already taken this offer."),
            },
        ) as call:
            answer = await offers_client().accept(token, customer_id, offer, subscription)
        self._accepting = False
        if call.failed:
            if call.event:
                yield call.event
            return
        self.sheet_done = accepted_text(self._sheet_order, answer or {}, lang)
        self.banners = [b for b in self.banners if b["offer_id"] != str(offer)]
        self._targets = {k: v for k, v in self._targets.items() if k != str(offer)}
        yield self._reload_page()

    def _reload_page(self):
        """The page behind the sheet shows the change (the plan, this period's allowances).

        The one place a shared state names a page's state: imported here, when it is needed, so that
        this module (the banner's state, which those pages show) does not depend on the pages."""
        if self._placement == "invoice":
            from selfcare.pages.invoice.state import InvoiceState

            return InvoiceState.load
        from selfcare.pages.overview.state import OverviewState

        return OverviewState.load

    @rx.event
    def close_order(self):
        """ "Cancel", "Close", Esc or a tap outside the sheet."""
        if not self._accepting:
            self._close_sheet()
