"""``/addons``: the add-on shop. Per subscription what is left of the allowance now, the add-ons on
offer, an order sheet, and after buying the allowance as the core now has it (loaded anew).

The browser chooses the handler and its arguments, so the subscription to buy for is never taken
on its word: it must be one this state loaded from the core *for the session's customer*, and the
add-on one the core offered for that subscription. A session that changed customer since the load
(sign-out, another sign-in in the same tab) finds nothing loaded and buys nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import reflex as rx

from selfcare import presenters
from selfcare.api_client import ApiError, NotFound
from selfcare.charges_client import Invalid, charges_client
from selfcare.i18n import N_, format_datetime, format_money, format_period, gettext
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event
from selfcare.subscriptions import _core_today, active_subscriptions, current_segment  # noqa: F401 (used here and by tests)

logger = logging.getLogger(__name__)

ROUTE = "/addons"
CANNOT_LOAD = N_("The add-ons could not be loaded just now. Please try again.")
POOLS = ("data", "voice", "sms", "mms")


def _int(value: Any) -> int:
    return value if type(value) is int else 0


def allowance_rows(allowances: Any, lang: str) -> list[dict[str, Any]]:
    """``{"data": {"included", "bought", "used", "left", "unlimited"}}`` as the shop shows it."""
    rows: list[dict[str, Any]] = []
    if not isinstance(allowances, dict):
        return rows
    for pool in sorted(allowances, key=lambda p: POOLS.index(p) if p in POOLS else len(POOLS)):
        a = allowances[pool]
        if not isinstance(a, dict):
            continue
        included, bought, used = _int(a.get("included")), _int(a.get("bought")), _int(a.get("used"))
        unlimited = bool(a.get("unlimited"))
        total = included + bought
        left = _int(a.get("left")) if a.get("left") is not None else max(0, total - used)
        percent = 0 if unlimited or total <= 0 else min(100, round(used * 100 / total))
        amount = presenters.allowance_amount
        rows.append(
            {
                "pool": pool,
                "label": gettext(lang, presenters.ALLOWANCE_TEXT.get(pool, pool)),
                "left": gettext(lang, "Unlimited") if unlimited else amount(pool, left, lang),
                "total": gettext(lang, "Unlimited") if unlimited else amount(pool, total, lang),
                "used": amount(pool, used, lang),
                "bought": amount(pool, bought, lang) if bought > 0 else "",
                "included": amount(pool, included, lang),
                "percent": percent,
                "unlimited": unlimited,
                "warn": (not unlimited) and percent >= 80,
            }
        )
    return rows


def offer_rows(available: Any, lang: str) -> list[dict[str, str]]:
    """The add-ons on offer: id, name, price, what it gives (``5 GB``)."""
    rows = []
    for item in available if isinstance(available, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or type(item.get("price_ore")) is not int:
            continue
        labels = [str(x) for x in item.get("labels") or []]
        if not labels and isinstance(item.get("allowances"), dict):
            labels = [presenters.allowance_amount(p, _int(q), lang) for p, q in item["allowances"].items()]
        rows.append(
            {
                "id": item["id"],
                "name": str(item.get("name") or item["id"]),
                "price": format_money(item["price_ore"], lang),
                "gives": " + ".join(labels),
            }
        )
    return rows


def cheapest_for(offers: dict[str, dict[str, Any]], pool: str) -> str:
    """The id of the cheapest add-on on offer that adds to ``pool`` (``data``, ``voice``, ``sms``), or ``""``."""
    fitting = [
        (o["price_ore"], addon_id)
        for addon_id, o in offers.items()
        if pool
        and isinstance(o.get("allowances"), dict)
        and pool in o["allowances"]
        and type(o.get("price_ore")) is int
    ]
    return min(fitting)[1] if fitting else ""


def bought_rows(bought: Any, lang: str) -> list[dict[str, str]]:
    rows = []
    for item in bought if isinstance(bought, list) else []:
        if not isinstance(item, dict):
            continue
        at = item.get("bought_at")
        rows.append(
            {
                "name": str(item.get("name") or item.get("addon_id") or ""),
                "price": format_money(_int(item.get("price_ore")), lang),
                "at": format_datetime(at, lang) if isinstance(at, str) and at else "",
            }
        )
    return rows


class AddonsState(rx.State):
    """The shop for the signed-in subscriber's own subscriptions."""

    loading: rx.Field[bool] = rx.field(False)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    subscriptions: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    selected: rx.Field[str] = rx.field("")
    msisdn: rx.Field[str] = rx.field("")
    period: rx.Field[str] = rx.field("")
    allowances: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    available: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    bought: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    # The order sheet.
    sheet_open: rx.Field[bool] = rx.field(False)
    sheet_title: rx.Field[str] = rx.field("")
    sheet_get: rx.Field[list[str]] = rx.field(default_factory=list)
    sheet_terms: rx.Field[str] = rx.field("")
    sheet_lines: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    sheet_total: rx.Field[str] = rx.field("")
    sheet_error: rx.Field[str] = rx.field("")
    sheet_done: rx.Field[str] = rx.field("")
    buying: rx.Field[bool] = rx.field(False)

    # Backend-only: what was loaded from the core, and for which customer.
    _customer_id: int = 0
    _sub_ids: list[int] = []
    _offers: dict[str, dict[str, Any]] = {}
    _period_key: str = ""
    _pending: str = ""

    def _forget(self) -> None:
        self._customer_id = 0
        self._sub_ids = []
        self._offers = {}
        self._pending = ""
        self._period_key = ""
        self.loaded = False
        self.subscriptions = []
        self.selected = ""
        self.msisdn = ""
        self.period = ""
        self.allowances = []
        self.available = []
        self.bought = []
        self._close_sheet()

    def _close_sheet(self) -> None:
        self.sheet_open = False
        self.sheet_title = ""
        self.sheet_get = []
        self.sheet_terms = ""
        self.sheet_lines = []
        self.sheet_total = ""
        self.sheet_error = ""
        self.sheet_done = ""
        self._pending = ""

    async def _session(self) -> tuple[SessionState, str, int]:
        """The session's token and customer; anything loaded for another customer is dropped."""
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token or customer_id != self._customer_id:
            self._forget()
        return session, token, customer_id

    def _own_subscription(self, value: Any) -> int:
        """``value`` as one of the loaded subscriptions of this customer, else 0."""
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if type(value) is int and value in self._sub_ids and self._customer_id > 0:
            return value
        return 0

    async def _load_addons(self, token: str, subscription_id: int, lang: str) -> None:
        doc = await charges_client().addons(token, subscription_id, lang)
        if doc.get("subscription_id") not in (None, subscription_id):
            raise NotFound(404, "subscription not found")
        self.selected = str(subscription_id)
        self.msisdn = str(doc.get("msisdn", ""))
        self._period_key = str(doc.get("period") or "")
        try:
            self.period = format_period(self._period_key, lang) if self._period_key else ""
        except ValueError:
            self.period = ""
        rows = allowance_rows(doc.get("allowances"), lang)
        # Unlimited pools need no add-on: the shop shows what can run out (all of them if nothing can).
        self.allowances = [r for r in rows if not r["unlimited"]] or rows
        offers = [x for x in doc.get("available") or [] if isinstance(x, dict) and isinstance(x.get("id"), str)]
        self._offers = {x["id"]: x for x in offers}
        self.available = offer_rows(offers, lang)
        self.bought = bought_rows(doc.get("bought"), lang)

    @event
    async def load(self):
        """on_load of ``/addons`` (``?sub=<id>`` preselects one of the subscriber's own subscriptions)."""
        session, token, customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        self.loading = True
        self.error = ""
        self.notice = ""
        yield
        client = charges_client()
        async with core_call(
            self, Subscriber(session, forget=self._forget), "add-on shop", CANNOT_LOAD, busy="loading"
        ) as call:
            customer = await client.customer(token, customer_id)
            today = _core_today(customer.get("today")) or date.min  # no day from the core: segments' status decides
            subs = active_subscriptions(list(customer.get("subscriptions") or []), today, lang)
            self._customer_id = customer_id
            self._sub_ids = [int(s["id"]) for s in subs]
            self.subscriptions = subs
            wanted = self._own_subscription(str(self.rx_router_page.params.get("sub", "")))
            if wanted:
                await self._load_addons(token, wanted, lang)
            # Otherwise the first subscription that has add-ons on offer (a broadband line has none).
            for sub_id in [] if wanted else self._sub_ids:
                await self._load_addons(token, sub_id, lang)
                if self.available:
                    break
            if not wanted and self._sub_ids and not self.available:
                await self._load_addons(token, self._sub_ids[0], lang)
            self.loaded = True
        if call.event:
            yield call.event
            return
        # From an alert (``&pool=data``): the order sheet of the cheapest add-on for that pool, prefilled.
        addon = cheapest_for(self._offers, str(self.rx_router_page.params.get("pool", ""))) if wanted else ""
        if addon:
            yield AddonsState.open_sheet(addon)

    @event
    async def select_subscription(self, subscription_id: str):
        """Show another of the subscriber's own subscriptions (any other id changes nothing)."""
        session, token, _customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        sub = self._own_subscription(subscription_id)
        if not sub:
            return
        self._close_sheet()
        self.notice = ""
        async with core_call(self, Subscriber(session, forget=self._forget), f"add-ons of {sub}", CANNOT_LOAD) as call:
            await self._load_addons(token, sub, lang)
        if call.event:
            yield call.event

    @event
    async def open_sheet(self, addon_id: str):
        """The order sheet for one add-on on offer for the shown subscription."""
        session, token, _customer_id = await self._session()
        sub = self._own_subscription(self.selected)
        if not token or not sub or not isinstance(addon_id, str) or addon_id not in self._offers:
            self._close_sheet()
            return
        lang = session._lang()
        offer = self._offers[addon_id]
        row = offer_rows([offer], lang)[0]
        self._close_sheet()
        self._pending = addon_id
        self.sheet_title = row["name"]
        gives = [row["gives"]] if row["gives"] else []
        self.sheet_get = gives + [
            gettext(lang, "For {msisdn}, from now to the end of {period}", msisdn=self.msisdn, period=self.period)
        ]
        self.sheet_terms = gettext(lang, "One purchase, not renewed. Charged on your next invoice.")
        self.sheet_lines = [{"description": row["name"], "amount": row["price"]}]
        self.sheet_total = row["price"]
        self.sheet_open = True

    @event
    def close_sheet(self):
        self._close_sheet()

    @event
    async def confirm_purchase(self):
        """Buy the add-on of the open sheet for the shown subscription (both checked again here)."""
        session, token, _customer_id = await self._session()
        if not token:
            self._close_sheet()
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        sub = self._own_subscription(self.selected)
        addon_id = self._pending
        if not sub or addon_id not in self._offers or self.buying or self.sheet_done:
            self.sheet_error = (
                gettext(lang, "This add-on cannot be bought for this subscription.")
                if self.sheet_open and not self.sheet_done
                else ""
            )
            return
        self.buying = True
        self.sheet_error = ""
        yield
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"buy {addon_id} for {sub}",
            N_("The purchase did not go through. Nothing was charged; please try again."),
            error="sheet_error",
            busy="buying",
            refused={
                Invalid: lambda exc: gettext(lang, "Not possible: {reason}", reason=exc.detail or "422"),
                NotFound: N_("This add-on cannot be bought for this subscription."),
            },
        ) as call:
            answer = await charges_client().buy_addon(token, sub, addon_id)
        if call.event:
            yield call.event
        if call.failed:
            return
        name = self.sheet_title
        grown = self._offers.get(addon_id, {}).get("allowances") or {"data": 0}
        price = format_money(_int((answer or {}).get("price_ore")), lang)
        try:
            await self._load_addons(token, sub, lang)  # the allowance as the core has it now
        except ApiError as exc:
            logger.info("add-ons after purchase: %s", exc)
        left = next((a["left"] for a in self.allowances if a["pool"] in grown), "")
        self.sheet_done = gettext(
            lang, "Done! {name} is added. {price} comes on your next invoice.", name=name, price=price
        )
        self.notice = (
            gettext(lang, "{name} is added. You now have {left} left.", name=name, left=left)
            if left
            else gettext(lang, "{name} is added.", name=name)
        )
