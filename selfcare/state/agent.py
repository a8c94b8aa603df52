"""The agents' console (``/agent``): sign-in, inbox, a thread beside its invoice, replies and corrections.

The agent's session is separate from the subscriber's: :class:`AgentSessionState` keeps the
agent's JWT in a backend-only field, and every handler of the console starts by asking it for
a live token; without one a handler does nothing. The core checks the role again on every
call (agent or supervisor; credits above the limit and the audit log need a supervisor).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from decimal import Decimal
from typing import Any

import reflex as rx

from selfcare import client_address, presenters, thread_bus
from selfcare.api_client import ApiError, NotFound, Unauthorized, get_client, valid_invoice_id
from selfcare.i18n import N_, format_datetime, format_money, gettext
from selfcare.state.fields import clear_if_sent
from selfcare.state.session import SessionState, _epoch
from selfcare.state.staff import check_credentials, live_token, staff_sign_in
from selfcare.state.thread import message_row
from selfcare.support_client import MAX_MESSAGE, Forbidden, support_client

logger = logging.getLogger(__name__)

AGENT_ROUTE = "/agent"
AUDIT_ROUTE = "/agent/audit"
INBOX_FILTERS = ("", "waiting", "mine", "resolved")
AUDIT_ACTIONS = ("", "sign_in", "sign_in_failed", "view", "reply", "assign", "resolve", "credit", "credit_refused", "waive_fee")
INBOX_REFRESH_S = 5.0
_KR = re.compile(r"\d{1,7}([.,]\d{1,2})?")  # whole kronor, or kronor and öre


def parse_kr(text: object) -> int | None:
    """``"50"``, ``"50,00"``, ``"1 249,50 kr"`` → öre; ``None`` when it is not a positive amount in kr."""
    if not isinstance(text, str):
        return None
    cleaned = text.lower().replace("kr", "").replace("\u00a0", "").replace(" ", "").strip()
    if not _KR.fullmatch(cleaned):
        return None
    amount = Decimal(cleaned.replace(",", "."))
    if amount <= 0:
        return None
    return int(amount * 100)


_UNITS = {"sv": ("d", "tim", "min"), "en": ("d", "h", "min")}


def waited(seconds: int, lang: str) -> str:
    """How long a thread has waited: ``5 min``, ``3 tim 10 min`` / ``3 h 10 min``, ``2 d 4 tim``."""
    day, hour, minute = _UNITS.get(lang, _UNITS["sv"])
    seconds = max(0, int(seconds))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} {day} {hours % 24} {hour}"
    if hours:
        return f"{hours} {hour} {minutes % 60} {minute}"
    return f"{minutes} {minute}"


STATUS_TEXT = {"waiting": N_("Waiting"), "answered": N_("Answered"), "resolved": N_("Resolved")}
STATUS_TONE = {"waiting": "red", "answered": "blue", "resolved": "gray"}


def inbox_row(item: dict[str, Any], lang: str) -> dict[str, str]:
    last = item.get("last_message") or {}
    status = str(item.get("status", ""))
    return {
        "thread_id": str(item.get("id", "")),
        "invoice_id": str(item.get("invoice_id", "")),
        "invoice_number": str(item.get("invoice_number", "")),
        "customer": f"{item.get('customer_name', '')} · {item.get('customer_number', '')}",
        "status": gettext(lang, STATUS_TEXT.get(status, "Answered")),
        "status_key": status,
        "tone": STATUS_TONE.get(status, "gray"),
        "waited": waited(int(item.get("waiting_seconds") or 0), lang) if status == "waiting" else "",
        "assigned": str(item.get("assigned_to") or ""),
        "excerpt": str(last.get("text") or ""),
        "at": format_datetime(last["created_at"], lang) if last.get("created_at") else "",
    }


def payment_row(p: dict[str, Any], lang: str) -> dict[str, str]:
    amount = p.get("amount_ore")
    return {"at": format_datetime(p["received_at"], lang) if p.get("received_at") else "",
            "method": str(p.get("method", "")), "reference": str(p.get("reference", "")),
            "amount": format_money(amount if type(amount) is int else 0, lang)}


def audit_row(e: dict[str, Any], lang: str) -> dict[str, str]:
    detail = e.get("detail")
    return {"id": str(e.get("id", "")), "at": format_datetime(e["at"], lang) if e.get("at") else "",
            "actor": str(e.get("actor", "")), "action": str(e.get("action", "")), "target": str(e.get("target", "")),
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""}



def clean_reason(form: dict[str, Any]) -> str:
    """The form's reason for a credit or a waiver, stripped; ``""`` when missing or over 500 characters."""
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    return reason if len(reason) <= 500 else ""


class AgentSessionState(rx.State):
    """Who is signed in to the console. The token never reaches the browser."""

    signed_in: bool = False
    agent_name: str = ""
    username: str = ""
    is_supervisor: bool = False
    login_error: str = ""
    signing_in: bool = False

    _token: str = ""
    _expires_at: float = 0.0

    def live_token(self) -> str:
        return live_token(self)

    def _drop(self) -> None:
        self._token = ""
        self._expires_at = 0.0
        self.signed_in = False
        self.agent_name = ""
        self.username = ""
        self.is_supervisor = False

    async def _lang(self) -> str:
        return (await self.get_state(SessionState))._lang()

    @rx.event
    async def sign_in(self, form: dict[str, Any]):
        """Username and password → an agent session (the core rate-limits and audits every try)."""
        lang = await self._lang()
        username, password, self.login_error = check_credentials(form, lang)
        if self.login_error:
            return
        self.signing_in = True
        yield
        try:
            answer, self.login_error = await staff_sign_in(
                username, password, client_ip=client_address.of_state(self),
                roles=("agent", "supervisor"), lang=lang, console="agent",
                refused_text=N_("This is not a customer service account. Marketing signs in at /marketing."))
        finally:
            self.signing_in = False
        if answer is None:
            return
        self._token = str(answer["access_token"])
        self._expires_at = _epoch(answer.get("expires_at"), 8 * 3600)
        self.signed_in = True
        self.username = str(answer.get("username", ""))
        self.agent_name = str(answer.get("name", ""))
        self.is_supervisor = answer.get("role") == "supervisor"
        yield AgentState.load

    @rx.event
    async def sign_out(self):
        token = self._token
        self._drop()
        console = await self.get_state(AgentState)
        console._forget()
        if token:
            try:
                await support_client().logout(token)
            except ApiError as exc:
                logger.info("agent logout: %s", exc)
        return rx.redirect(AGENT_ROUTE)


class AgentState(rx.State):
    """The console: the inbox, the open thread and its invoice."""

    inbox: list[dict[str, str]] = []
    inbox_total: int = 0
    inbox_filter: str = ""
    error: str = ""
    notice: str = ""
    busy: bool = False

    # The open thread and its invoice.
    invoice_id: str = ""
    thread_id: int = 0
    thread_status: str = ""
    thread_status_text: str = ""
    thread_assigned: str = ""
    messages: list[dict[str, str]] = []
    view: dict[str, Any] = {}
    lines: list[dict[str, str]] = []
    line_options: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    other_invoices: list[dict[str, str]] = []
    usage_title: str = ""
    usage_rows: list[dict[str, str]] = []
    usage_total: int = 0
    fee_to_waive: str = ""  # the reminder fee not yet waived ("" when there is none: no waive button)

    # A credit or a waiver waiting for the agent's confirmation: what the invoice will look like after it.
    confirm_kind: str = ""  # "credit" | "waive" | ""
    confirm_lines: list[dict[str, str]] = []
    confirm_amount: str = ""
    confirm_left: str = ""

    _generation: int = 0
    # What the confirmation would issue, exactly as previewed (backend-only: the browser cannot choose it).
    _pending: dict[str, Any] = {}

    async def _agent(self) -> tuple[AgentSessionState, str, str]:
        agent = await self.get_state(AgentSessionState)
        return agent, agent.live_token(), (await self.get_state(SessionState))._lang()

    def _forget(self) -> None:
        self._close_thread()
        self.inbox = []
        self.inbox_total = 0
        self.error = ""
        self.notice = ""
        self._generation += 1

    def _close_thread(self) -> None:
        self.invoice_id = ""
        self.thread_id = 0
        self.thread_status = ""
        self.thread_status_text = ""
        self.thread_assigned = ""
        self.messages = []
        self.view = {}
        self.lines = []
        self.line_options = []
        self.timeline = []
        self.payments = []
        self.other_invoices = []
        self.usage_title = ""
        self.usage_rows = []
        self.usage_total = 0
        self.fee_to_waive = ""
        self._drop_confirmation()

    def _drop_confirmation(self) -> None:
        self._pending = {}
        self.confirm_kind = ""
        self.confirm_lines = []
        self.confirm_amount = ""
        self.confirm_left = ""

    def _lost_session(self, agent: AgentSessionState, lang: str) -> None:
        agent._drop()
        self._forget()
        agent.login_error = gettext(lang, "Your session has ended. Sign in again.")

    async def _refresh_inbox(self, token: str, lang: str) -> None:
        f = self.inbox_filter
        answer = await support_client().inbox(token, status=f if f in ("waiting", "resolved") else None,
                                              mine=f == "mine", limit=100)
        self.inbox = [inbox_row(x, lang) for x in answer.get("items") or []]
        self.inbox_total = int(answer.get("total") or 0)

    # -- inbox --------------------------------------------------------------------------------

    @rx.event
    async def load(self):
        """on_load of ``/agent``: the inbox (nothing without an agent session) and its live refresh."""
        agent, token, lang = await self._agent()
        if not token:
            self._forget()
            return None
        try:
            await self._refresh_inbox(token, lang)
        except Unauthorized:
            self._lost_session(agent, lang)
            return None
        except ApiError as exc:
            logger.warning("inbox: %s", exc)
            self.error = gettext(lang, "The inbox could not be loaded just now. Please try again.")
            return None
        self._generation += 1
        return AgentState.watch

    @rx.event
    async def set_filter(self, value: str):
        self.inbox_filter = value if value in INBOX_FILTERS else ""
        agent, token, lang = await self._agent()
        if not token:
            self._forget()
            return
        try:
            await self._refresh_inbox(token, lang)
        except Unauthorized:
            self._lost_session(agent, lang)
        except ApiError as exc:
            logger.warning("inbox: %s", exc)

    @rx.event(background=True)
    async def watch(self):
        """While the console is open: the inbox and the open thread every few seconds."""
        from selfcare.state.thread import client_connected

        async with self:
            generation = self._generation
            client_token = self.rx_router_session.client_token
        while True:
            await asyncio.sleep(INBOX_REFRESH_S)
            if not await client_connected(client_token):
                return
            async with self:
                if self._generation != generation:
                    return
                agent, token, lang = await self._agent()
                if not token:
                    self._forget()
                    return
                try:
                    await self._refresh_inbox(token, lang)
                    if self.invoice_id:
                        await self._load_thread(token, self.invoice_id, lang, audit_view=False)
                except Unauthorized:
                    self._lost_session(agent, lang)
                    return
                except ApiError as exc:
                    logger.info("console refresh: %s", exc)

    @rx.event
    def stop(self):
        self._generation += 1

    # -- one thread ---------------------------------------------------------------------------

    async def _load_thread(self, token: str, invoice_id: str, lang: str, *, audit_view: bool) -> None:
        client = support_client()
        # The core audits an agent's read without ``after`` as a view: opening is one, refreshes are not.
        thread = await client.thread(token, invoice_id, after=None if audit_view else 0)
        doc = await get_client().invoice(token, invoice_id, lang)
        t = thread.get("thread") or {}
        self.invoice_id = invoice_id
        self.thread_id = int(t.get("id") or 0)
        self.thread_status = str(t.get("status") or "")
        self.thread_status_text = gettext(lang, STATUS_TEXT[self.thread_status]) if self.thread_status in STATUS_TEXT \
            else gettext(lang, "No messages yet.")
        self.thread_assigned = str(t.get("assigned_to") or "")
        self.view = presenters.invoice_view(doc, lang)
        self.lines = presenters.spec_lines(doc, lang)
        names = {int(x["position"]): x["description"] for x in self.lines if x["position"].isdigit()}
        self.messages = [message_row(m, "agent", lang, names) for m in thread.get("messages") or []]
        self.line_options = [{"value": "0", "label": gettext(lang, "An amount")}] + [
            {"value": x["position"], "label": f"{x['position']}. {x['description']} · {x['amount']}"}
            for x in self.lines if x["position"].isdigit()]
        self.timeline = presenters.timeline_rows(doc, lang)
        self.payments = [payment_row(p, lang) for p in doc.get("payments") or []]
        fees = doc.get("reminder_fees_ore")
        self.fee_to_waive = format_money(fees, lang) if type(fees) is int and fees > 0 else ""
        customer_id = doc.get("customer_id")
        if type(customer_id) is int:
            listing = await get_client().invoices(token, customer_id, limit=24)
            self.other_invoices = [presenters.invoice_row(x, lang) for x in listing.get("items") or []
                                   if x.get("id") != invoice_id]
        asked = [m.get("line_position") for m in thread.get("messages") or []
                 if m.get("author") == "customer" and type(m.get("line_position")) is int]
        if asked and not self.usage_rows:
            await self._line_usage(token, invoice_id, asked[-1], lang)

    async def _line_usage(self, token: str, invoice_id: str, position: int, lang: str) -> None:
        try:
            answer = await get_client().line_usage(token, invoice_id, position, limit=100)
        except NotFound:
            self.usage_rows, self.usage_total = [], 0
        else:
            self.usage_rows = [presenters.usage_row(r, lang) for r in answer.get("items") or []]
            self.usage_total = int(answer.get("total") or len(self.usage_rows))
        self.usage_title = next((f"{x['position']}. {x['description']}" for x in self.lines
                                 if x["position"] == str(position)), "")

    @rx.event
    async def open_thread(self, invoice_id: str):
        """Open the thread of ``invoice_id`` beside its invoice (audited by the core as a view)."""
        agent, token, lang = await self._agent()
        self.error = ""
        self.notice = ""
        if not token or not valid_invoice_id(invoice_id):
            self._close_thread()
            return
        self._close_thread()
        self.busy = True
        yield
        try:
            await self._load_thread(token, invoice_id, lang, audit_view=True)
        except NotFound:
            self._close_thread()
            self.error = gettext(lang, "Invoice not found")
        except Unauthorized:
            self._lost_session(agent, lang)
        except ApiError as exc:
            logger.warning("agent thread %s: %s", invoice_id, exc)
            self.error = gettext(lang, "The thread could not be loaded just now. Please try again.")
        finally:
            self.busy = False

    @rx.event
    async def show_line(self, position: str):
        """The itemised usage behind one line of the open invoice."""
        agent, token, lang = await self._agent()
        if not token or not self.invoice_id or not isinstance(position, str) or not position.isdigit():
            return
        try:
            await self._line_usage(token, self.invoice_id, int(position), lang)
        except Unauthorized:
            self._lost_session(agent, lang)
        except ApiError as exc:
            logger.info("line usage: %s", exc)

    async def _after_change(self, token: str, lang: str) -> None:
        thread_bus.notify(self.invoice_id)  # the subscriber's open page asks at once
        await self._load_thread(token, self.invoice_id, lang, audit_view=False)
        await self._refresh_inbox(token, lang)

    @rx.event
    async def reply(self, form: dict[str, Any]):
        """Answer the subscriber (they are notified by their channel with the invoice's link)."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id:
            return
        text = form.get("text") if isinstance(form, dict) else None
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            self.error = gettext(lang, "Write your message first.")
            return
        if len(text) > MAX_MESSAGE:
            self.error = gettext(lang, "The message is too long: at most {limit} characters (yours has {count}).",
                                 limit=MAX_MESSAGE, count=len(text))
            return
        try:
            await support_client().post_message(token, self.invoice_id, text)
            await self._after_change(token, lang)
        except Unauthorized:
            self._lost_session(agent, lang)
            return
        except ApiError as exc:
            logger.warning("reply on %s: %s", self.invoice_id, exc)
            self.error = gettext(lang, "The message could not be sent just now. Please try again.")
            return
        self.notice = gettext(lang, "Reply sent. The customer is notified.")
        yield clear_if_sent("agent-reply-text", text)

    @rx.event
    async def assign_to_me(self):
        await self._thread_action("assign")

    @rx.event
    async def release(self):
        await self._thread_action("release")

    @rx.event
    async def resolve(self):
        await self._thread_action("resolve")

    async def _thread_action(self, action: str) -> None:
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or self.thread_id <= 0:
            return
        client = support_client()
        try:
            if action == "resolve":
                await client.resolve(token, self.thread_id)
            else:
                await client.assign(token, self.thread_id, release=action == "release")
            await self._load_thread(token, self.invoice_id, lang, audit_view=False)
            await self._refresh_inbox(token, lang)
        except Unauthorized:
            self._lost_session(agent, lang)
        except ApiError as exc:
            logger.warning("%s thread %s: %s", action, self.thread_id, exc)
            self.error = gettext(lang, "That did not work just now. Please try again.")

    @rx.event
    async def credit(self, form: dict[str, Any]):
        """Preview crediting an amount or one line of the open invoice, with a reason: what the invoice will
        look like after the credit note. Nothing is issued until :meth:`confirm`."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or not isinstance(form, dict):
            return
        reason = clean_reason(form)
        if not reason:
            self.error = gettext(lang, "Reason: say why the invoice is credited (at most 500 characters).")
            return
        line = form.get("line", "0")
        amount_ore: int | None = None
        positions: list[int] | None = None
        if isinstance(line, str) and line.isdigit() and line != "0":
            if line not in {x["position"] for x in self.lines}:
                self.error = gettext(lang, "Line: choose a line of this invoice.")
                return
            positions = [int(line)]
        else:
            amount_ore = parse_kr(form.get("amount"))
            if amount_ore is None:
                self.error = gettext(lang, "Amount: write an amount in kronor, e.g. 50 or 49,50.")
                return
        self._drop_confirmation()
        request = {"kind": "credit", "invoice_id": self.invoice_id, "reason": reason, "amount_ore": amount_ore,
                   "line_positions": positions}
        try:
            preview = await support_client().credit_preview(token, self.invoice_id, reason, amount_ore=amount_ore,
                                                            line_positions=positions)
        except Forbidden:
            self.error = gettext(lang, "This credit needs a supervisor: it is above your limit.")
            return
        except Unauthorized:
            self._lost_session(agent, lang)
            return
        except ApiError as exc:
            logger.warning("credit preview on %s: %s", self.invoice_id, exc)
            self.error = gettext(lang, "The credit was refused: {reason}", reason=exc.detail or exc.status)
            return
        self._show_confirmation(request, preview, lang)

    def _show_confirmation(self, request: dict[str, Any], preview: dict[str, Any], lang: str) -> None:
        """What the invoice will look like after the credit or waiver; nothing is issued until confirmed."""
        def money(key: str) -> int:
            value = preview.get(key)
            return value if type(value) is int else 0

        if request["kind"] == "credit":
            lines = [{"description": str(x.get("description", "")),
                      "amount": format_money(x["amount_ore"], lang)}
                     for x in preview.get("lines") or [] if isinstance(x, dict) and type(x.get("amount_ore")) is int]
            if money("rounding_ore"):
                lines.append({"description": gettext(lang, "Öre rounding"),
                              "amount": format_money(money("rounding_ore"), lang)})
            self.confirm_amount = gettext(lang, "Amount of the invoice: {before} → {after}",
                                          before=format_money(money("amount_ore"), lang),
                                          after=format_money(money("new_amount_ore"), lang))
            expected = {"credited_ore": money("credited_ore"), "new_balance_ore": money("new_balance_ore")}
        else:
            lines = [{"description": gettext(lang, "Reminder fee waived"),
                      "amount": format_money(-money("fee_ore"), lang)}]
            self.confirm_amount = ""
            expected = {"fee_ore": money("fee_ore"), "new_balance_ore": money("new_balance_ore")}
        self.confirm_lines = lines
        self.confirm_left = gettext(lang, "Left to pay: {before} → {after}",
                                    before=format_money(money("balance_ore"), lang),
                                    after=format_money(money("new_balance_ore"), lang))
        self.confirm_kind = request["kind"]
        self._pending = {**request, "expected": expected}

    @rx.event
    def cancel_confirmation(self):
        """Leave the credit or waiver unissued."""
        self._drop_confirmation()

    @rx.event
    async def confirm(self):
        """Issue the previewed credit note or waiver, and only that one (checked again against the core)."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        pending = self._pending
        if not token or not self.invoice_id or not pending or pending.get("invoice_id") != self.invoice_id:
            self._drop_confirmation()
            if token and self.invoice_id:
                self.error = gettext(lang, "Nothing to confirm: look at the preview first.")
            return
        self._drop_confirmation()
        client = support_client()
        try:
            # The invoice may have changed since the preview (a payment, another agent's credit): ask again, and
            # issue only when it still says what the agent saw.
            if pending["kind"] == "credit":
                again = await client.credit_preview(token, self.invoice_id, pending["reason"],
                                                    amount_ore=pending["amount_ore"],
                                                    line_positions=pending["line_positions"])
            else:
                again = await client.waive_preview(token, self.invoice_id)
            if any(again.get(k) != v for k, v in pending["expected"].items()):
                self.error = gettext(lang, "The invoice has changed since the preview. Check the new figures.")
                self._show_confirmation({k: v for k, v in pending.items() if k != "expected"}, again, lang)
                return
            if pending["kind"] == "credit":
                answer = await client.credit(token, self.invoice_id, pending["reason"],
                                             amount_ore=pending["amount_ore"], line_positions=pending["line_positions"])
            else:
                answer = await client.waive_fee(token, self.invoice_id, pending["reason"])
            await self._after_change(token, lang)
        except Forbidden:
            self.error = gettext(lang, "This credit needs a supervisor: it is above your limit.")
            return
        except Unauthorized:
            self._lost_session(agent, lang)
            return
        except ApiError as exc:
            logger.warning("%s on %s: %s", pending["kind"], self.invoice_id, exc)
            self.error = gettext(lang, "The credit was refused: {reason}", reason=exc.detail or exc.status) \
                if pending["kind"] == "credit" else \
                gettext(lang, "No fee was waived: {reason}", reason=exc.detail or exc.status)
            return
        if pending["kind"] == "credit":
            new_amount = (answer.get("invoice") or {}).get("new_amount_ore")
            self.notice = gettext(lang, "Credit note {number} issued. The new amount is {amount}.",
                                  number=(answer.get("credit_note") or {}).get("number", ""),
                                  amount=format_money(new_amount if type(new_amount) is int else 0, lang))
            yield rx.set_value("agent-credit-amount", "")
            yield rx.set_value("agent-credit-reason", "")
        else:
            self.notice = gettext(lang, "The reminder fee was waived.")
            yield rx.set_value("agent-waive-reason", "")

    @rx.event
    async def waive_fee(self, form: dict[str, Any]):
        """Preview waiving the open invoice's reminder fees, with a reason; :meth:`confirm` waives them."""
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or not isinstance(form, dict):
            return
        reason = clean_reason(form)
        if not reason:
            self.error = gettext(lang, "Reason: say why the fee is waived (at most 500 characters).")
            return
        self._drop_confirmation()
        try:
            preview = await support_client().waive_preview(token, self.invoice_id)
        except Unauthorized:
            self._lost_session(agent, lang)
            return
        except ApiError as exc:
            logger.info("waive preview on %s: %s", self.invoice_id, exc)
            self.error = gettext(lang, "No fee was waived: {reason}", reason=exc.detail or exc.status)
            return
        self._show_confirmation({"kind": "waive", "invoice_id": self.invoice_id, "reason": reason}, preview, lang)


class AuditState(rx.State):
    """``/agent/audit``: the audit log, for supervisors only."""

    rows: list[dict[str, str]] = []
    total: int = 0
    action: str = ""
    allowed: bool = False
    error: str = ""

    @rx.event
    async def load(self):
        """on_load of ``/agent/audit``."""
        await self._load()

    @rx.event
    async def set_action(self, value: str):
        self.action = value if value in AUDIT_ACTIONS else ""
        await self._load()

    async def _load(self) -> None:
        agent = await self.get_state(AgentSessionState)
        token = agent.live_token()
        lang = (await self.get_state(SessionState))._lang()
        self.rows, self.total, self.error = [], 0, ""
        self.allowed = bool(token) and agent.is_supervisor
        if not self.allowed:
            return
        try:
            answer = await support_client().audit(token, action=self.action or None, limit=200)
        except Forbidden:
            self.allowed = False
            return
        except Unauthorized:
            agent._drop()
            self.allowed = False
            return
        except ApiError as exc:
            logger.warning("audit: %s", exc)
            self.error = gettext(lang, "The audit log could not be loaded just now. Please try again.")
            return
        self.rows = [audit_row(e, lang) for e in answer.get("items") or []]
        self.total = int(answer.get("total") or 0)
