"""The message thread on the invoice page: the subscriber asks, customer service answers, live.

Every handler re-checks the session against the invoice (a full session, or the link
session of that one invoice) and the core answers 404 for anything else, which the page
shows as "not found". New messages arrive without a reload: :meth:`ThreadState.poll` is a
background task that asks the core for messages after the newest one it has when the core
signals that the thread changed (:mod:`selfcare.thread_bus`; every ``SELFCARE_THREAD_POLL_S``
seconds when that push is not available). It stops when the page closes (the component unmounts or the
browser's socket goes away), when another invoice is opened, or when the session changes.

Message text is kept as written and only ever shown as text (``rx.text``), never as HTML
or markdown. What the page shows is computed from the messages as the core gave them, in the
session's language of the moment (computed vars reading ``SessionState.lang``): a language
switch relabels authors, read marks, times and the line choices at once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import reflex as rx

from selfcare import thread_bus
from selfcare.api_client import ApiError, NotFound, RateLimited, Unauthorized, valid_invoice_id
from selfcare.i18n import gettext, later, normalise_language, translate_later
from selfcare.pages.invoice.state import InvoiceState
from selfcare.presenters import message_row
from selfcare.state.fields import clear_if_sent
from selfcare.state.session import SessionState
from selfcare.state.typed import event
from selfcare.support_client import MAX_MESSAGE, support_client

logger = logging.getLogger(__name__)

WHOLE_INVOICE = "0"  # the line picker's value for "the whole invoice"
MAX_POLL_S = 4 * 3600  # an open page stops polling after this long (a reload starts it again)


def line_names(lines: list[dict[str, str]]) -> dict[int, str]:
    """Position → description of an invoice's specification lines (``InvoiceState.lines``)."""
    return {int(x["position"]): x.get("description", "") for x in lines if x.get("position", "").isdigit()}


def line_choices(lines: list[dict[str, str]], lang: str) -> list[dict[str, str]]:
    """The line picker: the whole invoice first, then each line with its amount."""
    return [{"value": WHOLE_INVOICE, "label": gettext(lang, "The whole invoice")}] + [
        {"value": x["position"], "label": f"{x['position']}. {x['description']} · {x['amount']}"}
        for x in lines
        if x.get("position", "").isdigit()
    ]


class ThreadState(rx.State):
    """The thread of the invoice on the page, for its subscriber."""

    invoice_id: rx.Field[str] = rx.field("")
    not_found: rx.Field[bool] = rx.field(False)
    sending: rx.Field[bool] = rx.field(False)
    live: rx.Field[bool] = rx.field(False)

    # Backend-only: the messages as the core gave them, and the page's notes untranslated (``later``).
    _raw: list[dict[str, Any]] = []
    _error: list = []
    _notice: list = []
    _last_id: int = 0
    _generation: int = 0
    _token: str = ""

    # -- what the page shows, in the language of the moment -------------------------------------

    @rx.var
    async def messages(self) -> list[dict[str, str]]:
        session = await self.get_state(SessionState)
        invoice = await self.get_state(InvoiceState)
        # The line descriptions are the invoice page's own (in the language it was loaded in).
        names = line_names(invoice.lines) if self.invoice_id and invoice.current_id == self.invoice_id else {}
        lang = normalise_language(session.lang)
        return [message_row(m, "customer", lang, names) for m in self._raw]

    @rx.var
    async def line_options(self) -> list[dict[str, str]]:
        session = await self.get_state(SessionState)
        invoice = await self.get_state(InvoiceState)
        if not self.invoice_id:
            return []
        lines = invoice.lines if invoice.current_id == self.invoice_id else []
        return line_choices(lines, normalise_language(session.lang))

    @rx.var
    async def error(self) -> str:
        session = await self.get_state(SessionState)
        return translate_later(self._error, normalise_language(session.lang))

    @rx.var
    async def notice(self) -> str:
        session = await self.get_state(SessionState)
        return translate_later(self._notice, normalise_language(session.lang))

    # -- helpers ------------------------------------------------------------------------------

    def _clear(self) -> None:
        self.invoice_id = ""
        self._raw = []
        self._last_id = 0
        self._token = ""
        self._error = []
        self._notice = []
        self.live = False
        self._generation += 1  # any running poll stops

    def _take(self, answer: dict[str, Any]) -> bool:
        """Add the new messages of a thread answer; True if any came from customer service."""
        known = {int(m["id"]) for m in self._raw}
        fresh = [m for m in answer.get("messages") or [] if type(m.get("id")) is int and m["id"] not in known]
        # A full answer also carries the read marks of the messages we have.
        marks = {m["id"]: m.get("read") for m in answer.get("messages") or [] if type(m.get("id")) is int}
        marked = [
            {**m, "read": marks[m["id"]]} if m["id"] in marks and bool(marks[m["id"]]) != bool(m.get("read")) else m
            for m in self._raw
        ]
        changed = bool(fresh) or any(a is not b for a, b in zip(marked, self._raw, strict=True))
        if changed:  # a new list: the messages shown are computed again
            self._raw = sorted(marked + fresh, key=lambda m: m["id"])[-200:]
        if fresh:
            self._last_id = max(self._last_id, *(m["id"] for m in fresh))
        return any(m.get("author") == "agent" for m in fresh)

    async def _session_token(self, invoice_id: str) -> tuple[SessionState, str]:
        session = await self.get_state(SessionState)
        return session, session._token_for_invoice(invoice_id)

    # -- event handlers -----------------------------------------------------------------------

    @event
    async def open(self, invoice_id: str):
        """Show the thread of ``invoice_id`` (any id the browser sends is checked) and start the live poll."""
        if not isinstance(invoice_id, str) or not valid_invoice_id(invoice_id):
            self._clear()
            self.not_found = True
            return None
        session, token = await self._session_token(invoice_id)
        if not token:
            self._clear()
            self.not_found = True
            return None
        try:
            answer = await support_client().thread(token, invoice_id)
            # The core refuses foreign invoices already; this is the app's own second check.
            if not session._owns_customer(answer.get("customer_id")):
                raise NotFound(404, "invoice not found")
        except (NotFound, Unauthorized):
            self._clear()
            self.not_found = True
            return None
        except ApiError as exc:
            logger.warning("thread of %s: %s", invoice_id, exc)
            self._clear()
            self._error = later("The messages could not be loaded just now. Please try again.")
            return None
        self._clear()
        self.not_found = False
        self.invoice_id = invoice_id
        self._token = token
        self._take(answer)
        self.live = True
        return ThreadState.poll

    @event
    def stop(self):
        """The component left the page: the poll stops."""
        self._generation += 1
        self.live = False

    @event
    async def send(self, form: dict[str, Any]):
        """Post the subscriber's message (about the whole invoice or one line of it)."""
        invoice_id = self.invoice_id
        _session, token = await self._session_token(invoice_id)
        self._error = []
        self._notice = []
        if not token or token != self._token:
            self._clear()
            self.not_found = True
            return
        text = form.get("text") if isinstance(form, dict) else None
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            self._error = later("Write your message first.")
            return
        if len(text) > MAX_MESSAGE:
            self._error = later(
                "The message is too long: at most {limit} characters (yours has {count}).",
                limit=MAX_MESSAGE,
                count=len(text),
            )
            return
        choice = form.get("line", WHOLE_INVOICE)
        position: int | None = None
        if isinstance(choice, str) and choice.isdigit() and choice != WHOLE_INVOICE:
            position = int(choice)
            invoice = await self.get_state(InvoiceState)
            if invoice.current_id != invoice_id or position not in line_names(invoice.lines):
                self._error = later("Choose a line of this invoice.")
                return
        self.sending = True
        yield
        try:
            msg = await support_client().post_message(token, invoice_id, text, position)
        except RateLimited as exc:
            self._error = later(
                "You have written many messages in a short time. Try again in {minutes} minutes.",
                minutes=max(1, -(-exc.retry_after // 60)),
            )
            return
        except (NotFound, Unauthorized):
            self._clear()
            self.not_found = True
            return
        except ApiError as exc:
            logger.warning("message on %s: %s", invoice_id, exc)
            self._error = later("The message could not be sent just now. Please try again.")
            return
        finally:
            self.sending = False
        self._take({"messages": [msg]})
        self._notice = later("Your message was sent. We usually answer within a working day.")
        yield clear_if_sent("thread-text", text)
        yield InvoiceState.open_invoice(invoice_id)  # the message is on the timeline now

    @event(background=True)
    async def poll(self):
        """Fetch new messages while the page is open; a reply from customer service also refreshes the invoice.

        With the core's push live (:mod:`selfcare.thread_bus`) a quiet page only wakes to check that its tab
        is still open and asks the core nothing; it asks once at the start, for anything written between
        the page's first read and this loop. Without it, the page polls.
        """
        async with self:
            generation = self._generation
            invoice_id = self.invoice_id
            client_token = self.rx_router_session.client_token
            if not invoice_id or not self._token:
                return
        started = time.monotonic()
        seen: int | None = None  # the first round asks at once
        while time.monotonic() - started < MAX_POLL_S:
            if seen is not None:
                live = thread_bus.push_live()
                timeout = thread_bus.IDLE_CHECK_S if live else thread_bus.poll_interval_s()
                changed = await thread_bus.wait(invoice_id, timeout, seen)
                if not await thread_bus.client_connected(client_token):
                    return
                if not changed and live:
                    continue  # quiet: not even the page's state is touched (checked when it wakes)
            seen = thread_bus.version(invoice_id)
            async with self:
                if self._generation != generation or self.invoice_id != invoice_id:
                    return
                _session, token = await self._session_token(invoice_id)
                if not token or token != self._token:  # signed out, expired or another session
                    self._clear()
                    return
                # Only new messages, unless one of ours is still unread (then the read marks too).
                after = (
                    0 if any(m.get("author") == "customer" and not m.get("read") for m in self._raw) else self._last_id
                )
            try:
                answer = await support_client().thread(token, invoice_id, after=after or None)
            except (NotFound, Unauthorized):
                async with self:
                    if self._generation == generation:
                        self._clear()
                        self.not_found = True
                return
            except ApiError as exc:
                logger.info("thread poll %s: %s", invoice_id, exc)
                continue
            async with self:
                if self._generation != generation:
                    return
                answered = self._take(answer)
            if answered:
                yield InvoiceState.open_invoice(invoice_id)  # a credit or a waived fee changes the amount
        async with self:
            if self._generation == generation:
                self.live = False
