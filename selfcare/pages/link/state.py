"""``/i/[link_token]``: one invoice opened from its own link, without signing in."""

from __future__ import annotations

import logging

import reflex as rx

from selfcare import session_cookie
from selfcare.api_client import ApiError, LinkGone, NotFound, get_client, valid_invoice_id
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event

logger = logging.getLogger(__name__)


class LinkState(rx.State):
    """``/i/[link_token]``: open one invoice from its own link, without signing in."""

    failed: rx.Field[bool] = rx.field(False)

    @event
    async def open(self):
        link_token = str(self.rx_router_page.params.get("link_token", ""))
        session = await self.get_state(SessionState)
        self.failed = False
        try:
            answer = await get_client().open_link(link_token)
            invoice_id = str(answer["invoice_id"])
            if not valid_invoice_id(invoice_id):
                raise NotFound(404, "bad link")
        except LinkGone as gone:
            # Expired or revoked: sign in, then the invoice (never shown without a sign-in).
            if session.scoped:
                session._drop()
            if session._token_for_customer()[0] and gone.invoice_id:
                return rx.redirect(f"/invoices/{gone.invoice_id}")  # its page checks it is theirs
            session._remember_invoice(gone.invoice_id)
            return rx.redirect(LOGIN_ROUTE)
        except (NotFound, KeyError):
            self.failed = True
            if session.scoped:
                session._drop()  # a bad link ends the previous link's session too
            return None
        except ApiError as exc:
            logger.warning("link open: %s", exc)
            self.failed = True
            return None
        self.failed = False
        full_token, customer_id = session._token_for_customer()
        if not (full_token and customer_id == int(answer.get("customer_id", -1))):
            # Not signed in as this customer: the link's own session, for this one invoice.
            session._start(answer, scope_invoice=invoice_id)
            # By way of the cookie route: the link's session then reaches new tabs and reloads too, unless
            # the browser keeps a full session there (another customer's): a link never replaces it.
            if not session_cookie.full_session_in(str(self.rx_router_headers.cookie or "")):
                return session._handoff_to("start", f"/invoices/{invoice_id}")
        return rx.redirect(f"/invoices/{invoice_id}")
