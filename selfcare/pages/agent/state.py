"""The support console's session and its state (``/agent``): the inbox and a thread beside its invoice.

The agent's session is separate from the subscriber's: :class:`AgentSessionState` keeps the
agent's JWT in a backend-only field (:class:`selfcare.state.staff.StaffSessionState`), and every
handler of the console starts by asking it for a live token; without one a handler does nothing.
The core checks the role again on every call (agent or supervisor; credits above the limit and
the audit log need a supervisor).

:class:`AgentState` is written in three modules: here the inbox and what the console shares; the
open thread beside its invoice, the replies and the thread's status in :mod:`.thread`; the credits
and waived fees with their confirmation in :mod:`.corrections` (parts of the same state). The customer's one-off charges are a state of their own (:mod:`.charges`), the audit log
too (:mod:`.audit`).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import reflex as rx

from selfcare import thread_bus
from selfcare.i18n import N_
from selfcare.pages.agent.corrections import CorrectionsPart
from selfcare.pages.agent.rows import inbox_row
from selfcare.pages.agent.thread import ThreadPart
from selfcare.state.calls import Staff, Text, core_call
from selfcare.state.staff import StaffSessionState
from selfcare.state.typed import event
from selfcare.support_client import support_client

AGENT_ROUTE = "/agent"
INBOX_FILTERS = ("", "waiting", "mine", "resolved")
INBOX_REFRESH_S = 5.0


class AgentSessionState(StaffSessionState, rx.State):
    """Who is signed in to the support console: an agent or a supervisor."""

    ROLES: ClassVar[tuple[str, ...]] = ("agent", "supervisor")
    CONSOLE: ClassVar[str] = "agent"
    ROUTE: ClassVar[str] = AGENT_ROUTE
    REFUSED: ClassVar[str] = N_("This is not a customer service account. Marketing signs in at /marketing.")

    agent_name: rx.Field[str] = rx.field("")
    username: rx.Field[str] = rx.field("")
    is_supervisor: rx.Field[bool] = rx.field(False)

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


class AgentState(ThreadPart, CorrectionsPart, rx.State):
    """The console: the inbox, the open thread and its invoice (:class:`ThreadPart`), corrections
    (:class:`CorrectionsPart`)."""

    inbox: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    inbox_total: rx.Field[int] = rx.field(0)
    inbox_filter: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

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

    async def _refresh_inbox(self, token: str, lang: str) -> None:
        f = self.inbox_filter
        answer = await support_client().inbox(
            token, status=f if f in ("waiting", "resolved") else None, mine=f == "mine", limit=100
        )
        self.inbox = [inbox_row(x, lang) for x in answer.get("items") or []]
        self.inbox_total = int(answer.get("total") or 0)

    # -- inbox --------------------------------------------------------------------------------

    @event
    async def load(self):
        """on_load of ``/agent``: the inbox (nothing without an agent session) and its live refresh."""
        agent, token, lang = await self._agent()
        if not token:
            self._forget()
            return None
        async with self._call(
            agent, lang, "inbox", N_("The inbox could not be loaded just now. Please try again.")
        ) as call:
            await self._refresh_inbox(token, lang)
        if call.failed:
            return None
        self._generation += 1
        return AgentState.watch

    @event
    async def set_filter(self, value: str):
        self.inbox_filter = value if value in INBOX_FILTERS else ""
        agent, token, lang = await self._agent()
        if not token:
            self._forget()
            return
        async with self._call(agent, lang, "inbox"):
            await self._refresh_inbox(token, lang)

    @event(background=True)
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

    @event
    def stop(self):
        self._generation += 1
