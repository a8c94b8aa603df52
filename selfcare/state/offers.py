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
from selfcare.i18n import gettext
from selfcare.offers_client import PLACEMENTS, offers_client
from selfcare.state.calls import Subscriber
from selfcare.state.order_sheet import GONE, OrderSheetMixin, offer_refusals, short_kr
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event

logger = logging.getLogger(__name__)

MAX_BANNERS = 2
ABOUT_THE_SAME_PERCENT = 105  # the core's recommendation: at most 5 % more counts as about the same
CORE_PREFIX = "/core"


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


class OffersState(OrderSheetMixin, rx.State):
    """Banners of the page on show and the order sheet of one of them."""

    banners: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)

    # Backend-only: what the core showed this session's customer, and this view's id.
    _customer_id: int = 0
    _placement: str = ""
    _view_id: str = ""
    _targets: dict[str, int] = {}  # offer id → the subscription its banner is for
    _impressions: list[str] = []  # "<view_id>:<offer_id>" already sent

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

    @event
    def reload(self):
        """After a language switch: the banners of the page again, in the new language (a new view)."""
        if self._placement in PLACEMENTS:
            return OffersState.load(self._placement)
        return None

    @event(background=True)
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

    @event
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

    @event
    async def open_order(self, offer_id: str):
        """The banner's call to action: the click is counted and the order sheet opens."""
        session, token, customer_id = await self._session()
        offer, subscription = self._target(offer_id)
        if not token:
            self._forget()
            return
        if not offer:
            return
        async for step in self._open_sheet(
            Subscriber(session, forget=self._forget),
            token,
            customer_id,
            offer,
            subscription,
            what=f"order sheet {offer}",
            refused={NotFound: GONE},
            title=next((b["title"] for b in self.banners if b["offer_id"] == str(offer)), ""),
            meanwhile=self._send(token, customer_id, offer, "click", self._placement, self._view_id),
        ):
            yield step

    @event
    async def confirm(self):
        """ "Add": the offer is accepted for the subscription its banner was for (no ids from the browser)."""
        session, token, customer_id = await self._session()
        if not token:
            self._forget()
            yield rx.redirect(LOGIN_ROUTE)
            return
        offer, subscription = self._sheet_offer, self._sheet_subscription
        if not self._sheet_confirmable() or self._target(offer) != (offer, subscription):
            return
        lang = session._lang()
        async for step in self._place_order(
            Subscriber(session, forget=self._forget),
            token,
            customer_id,
            what=f"accept offer {offer}",
            refused=offer_refusals(lang),
        ):
            yield step
        if not self.sheet_done:
            return
        self.banners = [b for b in self.banners if b["offer_id"] != str(offer)]
        self._targets = {k: v for k, v in self._targets.items() if k != str(offer)}
        yield self._reload_page()
