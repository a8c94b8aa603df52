"""The thread open in the support console, beside its invoice: the messages, the invoice with its
specification, timeline, payments and the customer's other invoices; replies, assigning and resolving.

A part of :class:`selfcare.pages.agent.state.AgentState` (a Reflex state mixin: its vars and handlers
are the console's own, ``AgentState.open_thread``, ``AgentState.messages``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from selfcare import presenters
from selfcare.api_client import NotFound, get_client, valid_invoice_id
from selfcare.i18n import N_, format_money, gettext
from selfcare.invoice_view import invoice_view
from selfcare.pages.agent.rows import STATUS_TEXT, payment_row
from selfcare.state.fields import clear_if_sent
from selfcare.state.typed import DictField, dict_field, event
from selfcare.support_client import MAX_MESSAGE, support_client

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from selfcare.state.calls import Call, Text


class ThreadPart(rx.State, mixin=True):
    """The open thread and its invoice (``invoice_id`` "": none)."""

    if TYPE_CHECKING:  # the console's, which this is a part of (AgentState)
        error: str
        notice: str
        busy: bool

        async def _agent(self) -> tuple[Any, str, str]: ...

        def _call(
            self, agent: Any, lang: str, what: str, failed: Text = None, **options: Any
        ) -> AbstractAsyncContextManager[Call]: ...

        async def _refresh_inbox(self, token: str, lang: str) -> None: ...

        def _drop_confirmation(self) -> None: ...

    invoice_id: rx.Field[str] = rx.field("")
    thread_id: rx.Field[int] = rx.field(0)
    thread_status: rx.Field[str] = rx.field("")
    thread_status_text: rx.Field[str] = rx.field("")
    thread_assigned: rx.Field[str] = rx.field("")
    messages: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    view: DictField[dict[str, Any]] = dict_field()
    lines: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    line_options: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    timeline: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    payments: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    other_invoices: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    usage_title: rx.Field[str] = rx.field("")
    usage_rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    usage_total: rx.Field[int] = rx.field(0)
    fee_to_waive: rx.Field[str] = rx.field(
        ""
    )  # the reminder fee not yet waived ("" when there is none: no waive button)

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

    async def _load_thread(self, token: str, invoice_id: str, lang: str, *, audit_view: bool) -> None:
        client = support_client()
        # The core audits an agent's read without ``after`` as a view: opening is one, refreshes are not.
        thread = await client.thread(token, invoice_id, after=None if audit_view else 0)
        doc = await get_client().invoice(token, invoice_id, lang)
        t = thread.get("thread") or {}
        self.invoice_id = invoice_id
        self.thread_id = int(t.get("id") or 0)
        self.thread_status = str(t.get("status") or "")
        self.thread_status_text = (
            gettext(lang, STATUS_TEXT[self.thread_status])
            if self.thread_status in STATUS_TEXT
            else gettext(lang, "No messages yet.")
        )
        self.thread_assigned = str(t.get("assigned_to") or "")
        self.view = invoice_view(doc, lang)
        self.lines = presenters.spec_lines(doc, lang)
        names = {int(x["position"]): x["description"] for x in self.lines if x["position"].isdigit()}
        self.messages = [presenters.message_row(m, "agent", lang, names) for m in thread.get("messages") or []]
        self.line_options = [{"value": "0", "label": gettext(lang, "An amount")}] + [
            {"value": x["position"], "label": f"{x['position']}. {x['description']} · {x['amount']}"}
            for x in self.lines
            if x["position"].isdigit()
        ]
        self.timeline = presenters.timeline_rows(doc, lang)
        self.payments = [payment_row(p, lang) for p in doc.get("payments") or []]
        fees = doc.get("reminder_fees_ore")
        self.fee_to_waive = format_money(fees, lang) if type(fees) is int and fees > 0 else ""
        customer_id = doc.get("customer_id")
        if type(customer_id) is int:
            listing = await get_client().invoices(token, customer_id, limit=24)
            self.other_invoices = [
                presenters.invoice_row(x, lang) for x in listing.get("items") or [] if x.get("id") != invoice_id
            ]
        asked = [
            m.get("line_position")
            for m in thread.get("messages") or []
            if m.get("author") == "customer" and type(m.get("line_position")) is int
        ]
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
        self.usage_title = next(
            (f"{x['position']}. {x['description']}" for x in self.lines if x["position"] == str(position)), ""
        )

    async def _after_change(self, token: str, lang: str) -> None:
        # The subscriber's open page hears of the change from the core itself (selfcare.thread_bus).
        await self._load_thread(token, self.invoice_id, lang, audit_view=False)
        await self._refresh_inbox(token, lang)

    @event
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
        async with self._call(
            agent,
            lang,
            f"agent thread {invoice_id}",
            N_("The thread could not be loaded just now. Please try again."),
            busy="busy",
            refused={NotFound: N_("Invoice not found")},
        ) as call:
            await self._load_thread(token, invoice_id, lang, audit_view=True)
        if isinstance(call.exc, NotFound):
            self._close_thread()

    @event
    async def show_line(self, position: str):
        """The itemised usage behind one line of the open invoice."""
        agent, token, lang = await self._agent()
        if not token or not self.invoice_id or not isinstance(position, str) or not position.isdigit():
            return
        async with self._call(agent, lang, "line usage", quiet=True):
            await self._line_usage(token, self.invoice_id, int(position), lang)

    @event
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
            self.error = gettext(
                lang,
                "The message is too long: at most {limit} characters (yours has {count}).",
                limit=MAX_MESSAGE,
                count=len(text),
            )
            return
        async with self._call(
            agent, lang, f"reply on {self.invoice_id}", N_("The message could not be sent just now. Please try again.")
        ) as call:
            await support_client().post_message(token, self.invoice_id, text)
            await self._after_change(token, lang)
        if call.failed:
            return
        self.notice = gettext(lang, "Reply sent. The customer is notified.")
        yield clear_if_sent("agent-reply-text", text)

    @event
    async def assign_to_me(self):
        await self._thread_action("assign")

    @event
    async def release(self):
        await self._thread_action("release")

    @event
    async def resolve(self):
        await self._thread_action("resolve")

    async def _thread_action(self, action: str) -> None:
        agent, token, lang = await self._agent()
        self.error, self.notice = "", ""
        if not token or not self.invoice_id or self.thread_id <= 0:
            return
        client = support_client()
        async with self._call(
            agent, lang, f"{action} thread {self.thread_id}", N_("That did not work just now. Please try again.")
        ):
            if action == "resolve":
                await client.resolve(token, self.thread_id)
            else:
                await client.assign(token, self.thread_id, release=action == "release")
            await self._load_thread(token, self.invoice_id, lang, audit_view=False)
            await self._refresh_inbox(token, lang)
