"""The console's one-off charges and credits: add one with a reason to the customer's next invoice,
list the pending ones, remove a pending one.

The customer is the one of the invoice open in the console (:class:`AgentState`'s ``invoice_id``,
a backend value), looked up with the agent's own token; the browser never names it. A charge to
remove must be one of the pending charges this state listed for that customer, and a subscription
one of that customer's. The core checks the role again (staff only) and audits each change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, get_client, valid_invoice_id
from selfcare.charges_client import MAX_DESCRIPTION, MAX_REASON, Forbidden, Invalid, charges_client
from selfcare.i18n import N_, format_datetime, format_signed_money, gettext
from selfcare.pages.agent.rows import parse_kr
from selfcare.pages.agent.state import AgentSessionState, AgentState
from selfcare.state.calls import Staff, Text, core_call
from selfcare.state.typed import event

VAT_RATES = ("0.25", "0.12", "0.06", "0")


def charge_row(c: dict[str, Any], lang: str, msisdns: dict[int, str]) -> dict[str, str]:
    amount = c.get("amount_ore")
    sub = c.get("subscription_id")
    at = c.get("created_at")
    try:
        vat = f"{(Decimal(str(c.get('vat_rate', '0'))) * 100).normalize():f} %"
    except ArithmeticError:
        vat = ""
    return {
        "id": str(c.get("id", "")),
        "description": str(c.get("description", "")),
        "amount": format_signed_money(amount if type(amount) is int else 0, lang),
        "credit": "1" if type(amount) is int and amount < 0 else "",
        "vat": vat,
        "reason": str(c.get("reason") or ""),
        "by": str(c.get("created_by") or ""),
        "at": format_datetime(at, lang) if isinstance(at, str) and at else "",
        "msisdn": msisdns.get(sub, "") if type(sub) is int else "",
        "status": str(c.get("status", "")),
    }


def check_charge_form(form: Any, lang: str, subscription_ids: list[int]) -> tuple[dict[str, Any], str]:
    """``(body, "")`` for a good form, ``({}, error naming the field)`` otherwise."""
    form = form if isinstance(form, dict) else {}
    kind = form.get("kind", "charge")
    if kind not in ("charge", "credit"):
        return {}, gettext(lang, "Kind: choose charge or credit.")
    description = form.get("description")
    description = description.strip() if isinstance(description, str) else ""
    if not description or len(description) > MAX_DESCRIPTION:
        return {}, gettext(
            lang,
            "Description: what the customer sees on the invoice (at most {limit} characters).",
            limit=MAX_DESCRIPTION,
        )
    amount = parse_kr(form.get("amount"))
    if amount is None:
        return {}, gettext(lang, "Amount: write an amount in kronor, e.g. 99 or 49,50.")
    vat = form.get("vat", "0.25")
    if vat not in VAT_RATES:
        return {}, gettext(lang, "VAT: choose one of the rates.")
    sub = form.get("subscription", "")
    if sub in ("", None):
        subscription_id = None
    elif isinstance(sub, str) and sub.isdigit() and int(sub) in subscription_ids:
        subscription_id = int(sub)
    else:
        return {}, gettext(lang, "Subscription: choose one of the customer's subscriptions.")
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > MAX_REASON:
        return {}, gettext(lang, "Reason: say why (at most {limit} characters).", limit=MAX_REASON)
    return {
        "description": description,
        "amount_ore": -amount if kind == "credit" else amount,
        "vat_rate": vat,
        "subscription_id": subscription_id,
        "reason": reason,
    }, ""


class AgentChargesState(rx.State):
    """One-off charges of the customer of the invoice open in the console."""

    customer: rx.Field[str] = rx.field("")
    subscriptions: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    pending: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

    _invoice_id: str = ""
    _customer_id: int = 0
    _sub_ids: list[int] = []
    _pending_ids: list[int] = []
    _msisdns: dict[int, str] = {}

    def _forget(self) -> None:
        self._invoice_id = ""
        self._customer_id = 0
        self._sub_ids = []
        self._pending_ids = []
        self._msisdns = {}
        self.customer = ""
        self.subscriptions = []
        self.pending = []

    async def _who(self) -> tuple[AgentSessionState, str]:
        agent, _token, lang = await AgentSessionState.of(self)
        return agent, lang

    def _call(self, agent: AgentSessionState, lang: str, what: str, failed: Text = None, **options: Any):
        """A call to the core (:func:`selfcare.state.calls.core_call`): a session the core no longer accepts
        signs the console out, and this state forgets the customer."""
        return core_call(self, Staff(agent, lang, forget=self._forget), what, failed, **options)

    async def _context(self, agent: AgentSessionState, lang: str) -> tuple[str, int]:
        """``(token, customer id)`` of the invoice open in the console (``("", 0)``: no session or invoice)."""
        token = agent._live_token()
        console = await self.get_state(AgentState)
        invoice_id = console.invoice_id
        if not token or not valid_invoice_id(invoice_id):
            self._forget()
            return "", 0
        if invoice_id != self._invoice_id or not self._customer_id:
            self._forget()
            doc = await get_client().invoice(token, invoice_id, lang)
            customer_id = doc.get("customer_id")
            if type(customer_id) is not int:
                return token, 0
            subs = await charges_client().subscriptions(token, customer_id)
            self._invoice_id = invoice_id
            self._customer_id = customer_id
            self._sub_ids = [s["id"] for s in subs if type(s.get("id")) is int]
            self._msisdns = {s["id"]: str(s.get("msisdn", "")) for s in subs if type(s.get("id")) is int}
            buyer = doc.get("buyer") or {}
            self.customer = f"{buyer.get('name', '')} · {buyer.get('customer_number', doc.get('customer_number', ''))}"
            self.subscriptions = [{"value": str(i), "label": m} for i, m in self._msisdns.items()]
        return token, self._customer_id

    async def _refresh(self, token: str, lang: str) -> None:
        charges = await charges_client().charges(token, self._customer_id)
        pending = [c for c in charges if isinstance(c, dict) and c.get("status") == "pending"]
        self._pending_ids = [c["id"] for c in pending if type(c.get("id")) is int]
        self.pending = [charge_row(c, lang, self._msisdns) for c in pending]

    @event
    async def load(self):
        """When an invoice opens in the console: its customer's pending charges."""
        self.error = self.notice = ""
        agent, lang = await self._who()
        async with self._call(agent, lang, "agent charges", quiet=True) as call:
            token, customer_id = await self._context(agent, lang)
            if not token or not customer_id:
                return
            await self._refresh(token, lang)
        if call.failed:
            self._forget()

    @event
    async def add(self, form: dict[str, Any]):
        """Add a one-off charge (or a credit) with a reason; it lands on the customer's next invoice."""
        self.error = self.notice = ""
        agent, lang = await self._who()
        async with self._call(
            agent,
            lang,
            "add charge",
            N_("The charge could not be added just now. Please try again."),
            busy="busy",
            refused={
                Forbidden: N_("You may not add charges."),
                Invalid: lambda exc: gettext(lang, "Not accepted: {message}", message=exc.detail or "422"),
            },
        ) as call:
            token, customer_id = await self._context(agent, lang)
            if not token or not customer_id:
                return
            body, problem = check_charge_form(form, lang, self._sub_ids)
            if problem:
                self.error = problem
                return
            yield
            answer = await charges_client().add_charge(token, customer_id, **body)
            await self._refresh(token, lang)
        if call.failed:
            return
        amount = (answer or {}).get("amount_ore", body["amount_ore"])
        self.notice = gettext(
            lang,
            "{description} {amount} comes on the customer's next invoice.",
            description=body["description"],
            amount=format_signed_money(amount if type(amount) is int else 0, lang),
        )
        for field in ("agent-charge-description", "agent-charge-amount", "agent-charge-reason"):
            yield rx.set_value(field, "")

    @event
    async def remove(self, charge_id: str):
        """Remove a pending charge of this customer (one this state listed; nothing else)."""
        self.error = self.notice = ""
        agent, lang = await self._who()
        token = ""
        async with self._call(
            agent,
            lang,
            f"remove charge {charge_id}",
            N_("The charge could not be removed (already invoiced?)."),
            refused={Forbidden: N_("You may not remove charges.")},
        ) as call:
            token, customer_id = await self._context(agent, lang)
            if not token or not customer_id:
                return
            cid = int(charge_id) if isinstance(charge_id, str) and charge_id.isdigit() else 0
            if cid not in self._pending_ids:
                self.error = gettext(lang, "That charge is not pending for this customer.")
                return
            await charges_client().delete_charge(token, cid)
            await self._refresh(token, lang)
        if call.failed:
            if not call.ended and not call.refused and self._customer_id and token:
                try:  # the list as the core has it now
                    await self._refresh(token, lang)
                except ApiError:
                    pass
            return
        self.notice = gettext(lang, "The charge was removed.")
