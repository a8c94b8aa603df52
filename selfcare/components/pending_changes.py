"""The subscriber's plan and the changes they have ordered, for the overview and the add-on shop:
"+46 70 … · Mobil 5 GB" (the plan in force today) and "Byter till Mobil 20 GB den 1 januari 2027"
with an "Ångra" button until the change takes effect.

Its own small state. Which changes may be undone is what the core listed *for the session's
customer* (backend-only); the browser's id is only looked up in that list, and the core checks the
owner and the date again (404 for another customer's change, 409 once it has taken effect).

Stable element ids: ``plan-card`` (rows ``.plan-row``), ``pending-changes`` (rows ``.pending-change``
with ``data-change``, buttons ``.pending-cancel``), ``pending-notice``, ``pending-error``.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.api_client import ApiError, NotFound
from selfcare.charges_client import charges_client
from selfcare.components.layout import card, section_title, tr
from selfcare.i18n import N_, format_date, gettext
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import SessionState
from selfcare.state.typed import event

logger = logging.getLogger(__name__)
C = styles.C


def _in(item: dict[str, Any], field: str, lang: str) -> Any:
    """A text the core sends in both languages (``plan_name`` / ``plan_name_en``), Swedish as the fallback."""
    return (item.get(f"{field}_en") if lang == "en" else None) or item.get(field)


def change_row(item: dict[str, Any], lang: str) -> dict[str, str] | None:
    """One pending change as the card shows it (None when the core's entry is not one)."""
    if type(item.get("id")) is not int or not isinstance(item.get("effective_date"), str):
        return None
    try:
        when = format_date(item["effective_date"], lang)
    except ValueError:
        return None
    plan = str(_in(item, "plan_name", lang) or item.get("plan_id") or "")
    return {
        "id": str(item["id"]),
        "msisdn": str(item.get("msisdn") or ""),
        "plan": plan,
        "text": gettext(lang, "Changes to {plan} on {date}", plan=plan, date=when),
        "from": gettext(lang, "Until then: {plan}", plan=str(_in(item, "from_plan_name", lang) or "")),
        "cancellable": "1" if item.get("cancellable") else "",
    }


def plan_rows(customer: dict[str, Any], lang: str = "sv") -> list[dict[str, str]]:
    """The subscriptions running today with the plan in force (the core says which one that is)."""
    rows = []
    for sub in customer.get("subscriptions") or []:
        if isinstance(sub, dict) and sub.get("plan_name"):
            rows.append(
                {
                    "id": str(sub.get("id", "")),
                    "msisdn": str(sub.get("msisdn") or sub.get("number") or ""),
                    "plan": str(_in(sub, "plan_name", lang)),
                }
            )
    return rows


class PendingChangesState(rx.State):
    """The session's customer's plans and pending changes (nothing is taken from the browser but an id)."""

    plans: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    changes: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    notice: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

    _customer_id: int = 0
    _changes: dict[int, dict[str, str]] = {}

    def _forget(self) -> None:
        self._customer_id = 0
        self._changes = {}
        self.plans = []
        self.changes = []

    async def _fetch(self, token: str, customer_id: int, lang: str) -> None:
        client = charges_client()
        customer = await client.customer(token, customer_id)
        listing = await client.pending_changes(token, customer_id)
        rows = [r for r in (change_row(x, lang) for x in listing.get("items") or [] if isinstance(x, dict)) if r]
        self._customer_id = customer_id
        self._changes = {int(r["id"]): r for r in rows}
        self.plans = plan_rows(customer, lang)
        self.changes = rows

    @event
    async def load(self):
        """On mount: the plans and pending changes of the session's customer."""
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        self.notice, self.error = "", ""
        if not token:
            self._forget()
            return
        try:
            await self._fetch(token, customer_id, session._lang())
        except ApiError as exc:
            logger.info("pending changes: %s", exc)
            self._forget()

    @event
    async def cancel(self, change_id: str):
        """Undo one of the listed changes ("Ångra"); any other id changes nothing."""
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        lang = session._lang()
        self.notice, self.error = "", ""
        if not token or customer_id != self._customer_id:
            self._forget()
            return
        wanted = int(change_id) if isinstance(change_id, str) and change_id.isdigit() else 0
        row = self._changes.get(wanted)
        if row is None or self.busy:
            return
        self.busy = True
        yield
        taken = N_("The change to {plan} has taken effect and can no longer be undone.")
        ended = Subscriber(session, forget=self._forget, to_sign_in=False)  # the card does not leave the page
        async with core_call(
            self,
            ended,
            f"cancel change {wanted}",
            N_("The change could not be undone just now. Please try again."),
            busy="busy",
            refused={
                NotFound: N_("This change is no longer pending."),
                409: lambda exc: gettext(lang, taken, plan=row["plan"]),
            },
        ):
            await charges_client().cancel_pending_change(token, customer_id, wanted)
            self.notice = gettext(
                lang, "The change to {plan} is cancelled. Your plan stays as it is.", plan=row["plan"]
            )
        if self._customer_id:
            try:
                await self._fetch(token, customer_id, lang)
            except ApiError as exc:
                logger.info("pending changes after cancel: %s", exc)


def _change(c: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(c["text"], weight="bold", class_name="pending-text"),
            rx.text(c["msisdn"], " · ", c["from"], style=styles.muted),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.cond(
            c["cancellable"] != "",
            rx.button(
                tr("Undo"),
                on_click=PendingChangesState.cancel(c["id"]),
                variant="outline",
                size="3",
                class_name="pending-cancel",
                data_change=c["id"],
                disabled=PendingChangesState.busy,
                style={"min_height": "44px", "cursor": "pointer"},
            ),
        ),
        width="100%",
        align="center",
        padding="0.5rem 0",
        border_top="1px solid #eef1f3",
        class_name="pending-change",
        data_change=c["id"],
        wrap="wrap",
    )


def plan_card(load_on_mount: bool = True) -> rx.Component:
    """The plan in force per subscription, and the changes ordered for later (hidden without any).

    ``load_on_mount=False``: the page loads ``PendingChangesState`` in its own on-load handlers, so the card
    is there when the page shows (nothing below it moves when it comes)."""
    s = PendingChangesState
    return rx.box(
        rx.cond(
            (s.plans.length() > 0) | (s.changes.length() > 0) | (s.error != "") | (s.notice != ""),
            card(
                section_title("Your plan"),
                rx.foreach(
                    s.plans,
                    lambda p: rx.hstack(
                        rx.text(p["msisdn"], style=styles.muted),
                        rx.spacer(),
                        rx.text(p["plan"], weight="bold"),
                        width="100%",
                        class_name="plan-row",
                        wrap="wrap",
                    ),
                ),
                rx.cond(
                    s.changes.length() > 0,
                    rx.box(
                        rx.text(tr("Ordered changes"), style=styles.label),
                        rx.foreach(s.changes, _change),
                        id="pending-changes",
                        width="100%",
                    ),
                ),
                rx.cond(
                    s.notice != "",
                    rx.callout(
                        s.notice,
                        icon="circle-check",
                        color_scheme="green",
                        id="pending-notice",
                        role="status",
                        width="100%",
                    ),
                ),
                rx.cond(
                    s.error != "",
                    rx.callout(
                        s.error,
                        icon="triangle-alert",
                        color_scheme="red",
                        id="pending-error",
                        role="alert",
                        width="100%",
                    ),
                ),
            ),
        ),
        **({"on_mount": PendingChangesState.load} if load_on_mount else {}),
        id="plan-card",
        width="100%",
    )
