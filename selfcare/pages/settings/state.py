"""``/settings``: the subscriber's usage alerts per subscription (issue 17).

Per subscription: which allowance thresholds are told (data, minutes, SMS at 80 % and 100 %),
the roaming notices (welcome with prices, EU fair use, 80 % of the spending limit; the 100 % stop
cannot be turned off), the channels (SMS, e-mail, the app) and a monthly cost warning amount;
and, past the spending limit abroad, "continue data abroad" for the rest of the period.

The browser chooses the handler and its arguments, so a subscription is never taken on its word:
it must be one this state loaded from the core for the session's own customer. A session that
changed customer since the load finds nothing loaded and changes nothing; the core checks again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from selfcare.alerts_client import alerts_client
from selfcare.charges_client import Invalid
from selfcare.i18n import N_, format_money, gettext, parse_kr
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.order_sheet import short_kr
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import DictField, dict_field, event
from selfcare.subscriptions import active_subscriptions

ROUTE = "/settings"
CANNOT_LOAD = N_("Your alert settings could not be loaded just now. Please try again.")
CANNOT_SAVE = N_("Your alert settings could not be saved just now. Please try again.")
POOLS = ("data", "voice", "sms")
POOL_LABELS = {"data": N_("Data"), "voice": N_("Call minutes"), "sms": N_("Texts")}
THRESHOLDS = (80, 100)  # the core's choices when it names none (an older core)
KINDS = ("roaming_welcome", "fair_use", "spend_limit")
CHANNELS = ("sms", "email", "app")
MAX_COST_ORE = 10_000_000


def choice_from_form(form: Any, lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a submitted form asks for, and the errors by field (a checkbox sends "on" when ticked; a
    threshold is ``<pool>_<per cent>``; the spending limit is a level in öre, or nothing to keep the one chosen)."""
    form = form if isinstance(form, dict) else {}
    ticked = {k for k, v in form.items() if isinstance(k, str) and v in ("on", True, "true")}
    choice: dict[str, Any] = {
        "thresholds": {pool: _percents(ticked, pool) for pool in POOLS},
        "kinds": [k for k in KINDS if f"kind_{k}" in ticked],
        "channels": [c for c in CHANNELS if f"channel_{c}" in ticked],
        "cost_limit_ore": None,
        "spend_limit_ore": None,
    }
    errors: dict[str, str] = {}
    cost = form.get("cost_limit")
    if isinstance(cost, str) and cost.strip():
        ore = parse_kr(cost)
        if ore is None or ore > MAX_COST_ORE:
            errors["cost_limit"] = gettext(lang, "Write an amount in kronor, e.g. 400.")
        else:
            choice["cost_limit_ore"] = ore
    limit = form.get("spend_limit")
    if isinstance(limit, str) and limit.strip():
        if limit.isdigit() and 0 < int(limit) <= MAX_COST_ORE:
            choice["spend_limit_ore"] = int(limit)
        else:
            errors["spend_limit"] = gettext(lang, "Choose one of the limits.")
    return choice, errors


def _percents(ticked: set[str], pool: str) -> list[int]:
    found = (k.removeprefix(f"{pool}_") for k in ticked if k.startswith(f"{pool}_"))
    return sorted({int(x) for x in found if x.isdigit() and 1 <= int(x) <= 100})


def _ticks(doc: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The threshold checkboxes: the catalogue's per cents of each pool, ticked as chosen (the defaults: all of
    them); ``shown`` for the pools the plan limits (unlimited ones never alert)."""
    found, offered = doc.get("thresholds"), doc.get("threshold_choices")
    chosen: dict[str, Any] = found if isinstance(found, dict) else {}
    choices: dict[str, Any] = offered if isinstance(offered, dict) else dict.fromkeys(POOLS, list(THRESHOLDS))
    limited = {p for p in doc.get("limited_pools") or [] if p in POOLS}
    return [
        {
            "name": f"{pool}_{t}",
            "label": f"{gettext(lang, POOL_LABELS[pool])} {t} %",
            "checked": t in (chosen.get(pool) or []),
            "shown": pool in limited,
        }
        for pool in POOLS
        for t in choices.get(pool) or []
        if type(t) is int
    ]


def _limits(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """The spending limits to choose from (``575 kr``), the catalogue's default marked; the one in force too
    when the catalogue no longer offers it (kept until another is chosen)."""
    default, current = doc.get("default_spend_limit_ore"), doc.get("spend_limit_ore")
    levels = [x for x in doc.get("spend_limit_levels") or [] if type(x) is int]
    if type(current) is int and levels and current not in levels:
        levels = sorted([*levels, current])
    out = []
    for ore in levels:
        if type(ore) is int and ore > 0:
            label = short_kr(ore, lang)
            out.append(
                {
                    "value": str(ore),
                    "label": gettext(lang, "{amount} (default)", amount=label) if ore == default else label,
                }
            )
    return out


def settings_view(sub: dict[str, str], doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """One subscription's card: its number and plan, the thresholds to tick, what is ticked, the spending limit."""
    kinds = set(doc.get("kinds") or [])
    channels = set(doc.get("channels") or [])
    cost = doc.get("cost_limit_ore")
    every = _ticks(doc, lang)
    ticks = [{k: t[k] for k in ("name", "label", "checked")} for t in every if t["shown"]]
    ticked = {t["name"]: t["checked"] for t in every}
    ticked |= {f"kind_{k}": k in kinds for k in KINDS}
    ticked |= {f"channel_{c}": c in channels for c in CHANNELS}
    limit = doc.get("spend_limit_ore")
    return {
        "id": sub["id"],
        "msisdn": sub.get("msisdn", ""),
        "plan": sub.get("plan", ""),
        "ticks": ticks,
        "ticked": ticked,
        "any_pool": bool(ticks),
        "limits": _limits(doc, lang),
        "spend_limit": str(limit) if type(limit) is int else "",
        "can_continue": bool(doc.get("roaming_stopped")) and not doc.get("roaming_continued"),
        "continued": bool(doc.get("roaming_continued")),
        "cost_limit": format_money(cost, lang).replace("\u00a0kr", "") if type(cost) is int else "",
    }


class SettingsState(rx.State):
    """The alert settings of the signed-in subscriber's own subscriptions."""

    loading: rx.Field[bool] = rx.field(False)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    cards: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    field_errors: DictField[dict[str, str]] = dict_field()
    saving: rx.Field[str] = rx.field("")  # the subscription being saved

    _customer_id: int = 0
    _sub_ids: list[int] = []

    def _forget(self) -> None:
        self._customer_id = 0
        self._sub_ids = []
        self.cards = []
        self.loaded = False
        self.field_errors = {}

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token or customer_id != self._customer_id:
            self._forget()
        return session, token, customer_id

    def _own(self, value: Any) -> int:
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        return value if type(value) is int and value in self._sub_ids and self._customer_id > 0 else 0

    @event
    async def load(self):
        """on_load of ``/settings``: every running subscription with its choices."""
        session, token, customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        self.loading, self.error, self.notice, self.field_errors = True, "", "", {}
        yield
        client = alerts_client()
        async with core_call(
            self, Subscriber(session, forget=self._forget), "alert settings", CANNOT_LOAD, busy="loading"
        ) as call:
            customer = await client.customer(token, customer_id)
            today = date.fromisoformat(str(customer.get("today"))[:10]) if customer.get("today") else date.min
            subs = [s for s in active_subscriptions(list(customer.get("subscriptions") or []), today, lang)]
            cards = [settings_view(s, await client.settings(token, int(s["id"])), lang) for s in subs]
            self._customer_id = customer_id
            self._sub_ids = [int(s["id"]) for s in subs]
            self.cards = cards
            self.loaded = True
        if call.event:
            yield call.event

    @event
    async def save(self, form: dict[str, Any]):
        """Save one subscription's card (the form names it in ``subscription``)."""
        session, token, _customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        sub = self._own((form or {}).get("subscription") if isinstance(form, dict) else None)
        if not sub:
            return
        choice, errors = choice_from_form(form, lang)
        card = next((c for c in self.cards if c["id"] == str(sub)), {})
        offered = {o["value"] for o in card.get("limits") or []}
        if choice["spend_limit_ore"] is not None and str(choice["spend_limit_ore"]) not in offered:
            errors["spend_limit"] = gettext(lang, "Choose one of the limits.")
        if str(choice["spend_limit_ore"]) == card.get("spend_limit"):
            choice["spend_limit_ore"] = None  # unchanged: the level in force stays (also one no longer offered)
        self.notice = ""
        self.field_errors = {f"{sub}:{k}": v for k, v in errors.items()}
        if errors:
            return
        self.saving = str(sub)
        yield
        client = alerts_client()
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"alert settings of {sub}",
            CANNOT_SAVE,
            refused={Invalid: lambda exc: gettext(lang, "Check the settings: {why}", why=exc.detail)},
        ) as call:
            doc = await client.put_settings(token, sub, choice)
            self.cards = [
                settings_view({k: v for k, v in card.items() if k in ("id", "msisdn", "plan")}, doc, lang)
                if card["id"] == str(sub)
                else card
                for card in self.cards
            ]
            self.notice = gettext(lang, "Your alert settings are saved.")
        self.saving = ""
        if call.event:
            yield call.event

    @event
    async def continue_roaming(self, subscription_id: str):
        """Go on using data outside the EU/EEA past the spending limit, for the rest of this period."""
        session, token, _customer_id = await self._session()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        sub = self._own(subscription_id)
        if not sub:
            return
        client = alerts_client()
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"roaming continue of {sub}",
            CANNOT_SAVE,
            refused={409: N_("You have already chosen to go on using data abroad this period.")},
        ) as call:
            await client.continue_roaming(token, sub)
            doc = await client.settings(token, sub)
            self.cards = [
                settings_view({k: v for k, v in card.items() if k in ("id", "msisdn", "plan")}, doc, lang)
                if card["id"] == str(sub)
                else card
                for card in self.cards
            ]
            self.notice = gettext(lang, "Data abroad is on again for the rest of this period.")
        if call.event:
            yield call.event
