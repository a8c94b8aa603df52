"""``/invoices``: every invoice, newest first, a page at a time."""

from __future__ import annotations

import reflex as rx

from selfcare import presenters
from selfcare.api_client import get_client
from selfcare.i18n import N_
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event


class InvoicesState(rx.State):
    """``/invoices``: every invoice, newest first, a page at a time."""

    rows: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)
    page: rx.Field[int] = rx.field(0)
    page_size: rx.Field[int] = rx.field(10)
    loading: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    @rx.var
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @rx.var
    def has_prev(self) -> bool:
        return self.page > 0

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total

    @event
    async def load(self):
        async for update in self._fetch(0):
            yield update

    @event
    async def next_page(self):
        async for update in self._fetch(self.page + 1):
            yield update

    @event
    async def prev_page(self):
        async for update in self._fetch(self.page - 1):
            yield update

    async def _fetch(self, page: int):
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token:
            yield rx.redirect(LOGIN_ROUTE)
            return
        lang = session._lang()
        page = max(0, page)
        self.loading = True
        yield
        async with core_call(
            self,
            Subscriber(session),
            "invoices",
            N_("Your invoices could not be loaded just now. Please try again."),
            busy="loading",
        ) as call:
            listing = await get_client().invoices(
                token, customer_id, limit=self.page_size, offset=page * self.page_size
            )
        if call.failed:
            if call.event:
                yield call.event
            return
        self.error = ""
        self.page = page
        self.total = int(listing.get("total") or 0)
        self.rows = [presenters.invoice_row(i, lang) for i in listing.get("items") or []]
