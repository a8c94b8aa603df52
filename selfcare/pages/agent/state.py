"""The support console's session and its state (``/agent``): the inbox and a thread beside its invoice.

The agent's session is separate from the subscriber's: :class:`AgentSessionState` keeps the
agent's JWT in a backend-only field (:class:`selfcare.state.staff.StaffSessionState`), and every
handler of the console starts by asking it for a live token; without one a handler does nothing.
The core checks the role again on every call (agent or supervisor; credits above the limit and
the audit log need a supervisor).

:class:`AgentState` is written in two modules: here the inbox, the open thread and the replies;
the credits and waived fees with their confirmation in :mod:`.corrections` (a part of the same
state). The customer's one-off charges are a state of their own (:mod:`.charges`), the audit log
too (:mod:`.audit`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from selfcare import presenters, thread_bus
from selfcare.api_client import NotFound, get_client, valid_invoice_id
from selfcare.i18n import N_, format_money, gettext
from selfcare.pages.agent.corrections import CorrectionsPart
from selfcare.pages.agent.rows import STATUS_TEXT, inbox_row, payment_row
from selfcare.state.calls import Staff, Text, core_call
from selfcare.state.fields import clear_if_sent
from selfcare.state.staff import StaffSessionState
from selfcare.support_client import MAX_MESSAGE, support_client

AGENT_ROUTE = "/agent"
INBOX_FILTERS = ("", "waiting", "mine", "resolved")
INBOX_REFRESH_S = 5.0


class AgentSessionState(StaffSessionState, rx.State):
    """Who is signed in to the support console: an agent or a supervisor."""

    ROLES = ("agent", "supervisor")
    CONSOLE = "agent"
    ROUTE = AGENT_ROUTE
    REFUSED = N_("This is not a customer service account. Marketing signs in at /marketing.")

    agent_name: str = ""
    username: str = ""
    is_supervisor: bool = False

    def _took(self, answer: dict[str, Any]) -> None:
        self.username = str(answer.get("username", ""))
        self.agent_name = str(answer.get("name", ""))
        self.is_supervisor = answer.get("role") == "supervisor"

    def _forget_account(self) -> None:
        self.agent_name = ""
        self.username = ""
        self.is_supervisor = False

    def _console(self) -> type[AgentState]:
        return AgentState


class AgentState(CorrectionsPart, rx.State):
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

    _generation: int = 0

    async def _agent(self) -> tuple[AgentSessionState, str, str]:
        return await AgentSessionState.of(self)

    def _call(self, agent: AgentSessionState, lang: str, what: str, failed: Text = None, **options: Any):
        """A call to the core for the console (:func:`selfcare.state.calls.core_call`): a session the core
        no longer accepts signs the console out, and it forgets what it showed."""
        return core_call(self, Staff(agent, lang, forget=self._forget), what, failed, **options)

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
        async with self._call(agent, lang, "inbox",
                              N_("The inbox could not be loaded just now. Please try again.")) as call:
            await self._refresh_inbox(token, lang)
        if call.failed:
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
        async with self._call(agent, lang, "inbox"):
            await self._refresh_inbox(token, lang)

    @rx.event(background=True)
    async def watch(self):
        """While the console is open: the inbox and the open thread every few seconds."""
        async with self:
            generation = self._generation
            client_token = self.rx_router_session.client_token
        while True:
            await asyncio.sleep(INBOX_REFRESH_S)
            if not await thread_bus.client_connected(client_token):
                return
            async with self:
                if self._generation != generation:
                    return
                agent, token, lang = await self._agent()
                if not token:
                    self._forget()
                    return
                async with self._call(agent, lang, "console refresh", quiet=True) as call:
                    await self._refresh_inbox(token, lang)
                    if self.invoice_id:
                        await self._load_thread(token, self.invoice_id, lang, audit_view=False)
                if call.ended:
                    return

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
        self.messages = [presenters.message_row(m, "agent", lang, names) for m in thread.get("messages") or []]
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

    async def _after_change(self, token: str, lang: str) -> None:
        thread_bus.notify(self.invoice_id)  # the subscriber's open page asks at once
        await self._load_thread(token, self.invoice_id, lang, audit_view=False)
        await self._refresh_inbox(token, lang)

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
        async with self._call(agent, lang, f"agent thread {invoice_id}",
                              N_("The thread could not be loaded just now. Please try again."), busy="busy",
                              refused={NotFound: N_("Invoice not found")}) as call:
            await self._load_thread(token, invoice_id, lang, audit_view=True)
        if isinstance(call.exc, NotFound):
            self._close_thread()

    @rx.event
    async def show_line(self, position: str):
        """The itemised usage behind one line of the open invoice."""
        agent, token, lang = await self._agent()
        if not token or not self.invoice_id or not isinstance(position, str) or not position.isdigit():
            return
        async with self._call(agent, lang, "line usage", quiet=True):
            await self._line_usage(token, self.invoice_id, int(position), lang)

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
        async with self._call(agent, lang, f"reply on {self.invoice_id}",
                              N_("The message could not be sent just now. Please try again.")) as call:
            await support_client().post_message(token, self.invoice_id, text)
            await self._after_change(token, lang)
        if call.failed:
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
        async with self._call(agent, lang, f"{action} thread {self.thread_id}",
                              N_("That did not work just now. Please try again.")):
            if action == "resolve":
                await client.resolve(token, self.thread_id)
            else:
                await client.assign(token, self.thread_id, release=action == "release")
            await self._load_thread(token, self.invoice_id, lang, audit_view=False)
            await self._refresh_inbox(token, lang)
