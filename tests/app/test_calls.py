"""The one way the app's handlers call the core (``selfcare.state.calls.core_call``) and the one staff
session both consoles inherit (``selfcare.state.staff.StaffSessionState``)."""

from __future__ import annotations

import logging
import time

import pytest

from selfcare.api_client import ApiError, NotFound, Unauthorized
from selfcare.i18n import N_, gettext
from selfcare.pages.agent.state import AgentSessionState
from selfcare.pages.marketing.state import MarketingSessionState
from selfcare.state.calls import Staff, Subscriber, Visitor, core_call
from selfcare.state.session import LOGIN_ROUTE, SessionState
from tests.app.conftest import fresh_states, run, subscriber_token, substate

FAILED = N_("The invoice could not be loaded just now. Please try again.")


class Page:
    """Stands in for a page's state: the fields the helper sets."""

    def __init__(self) -> None:
        self.error = ""
        self.busy = False
        self.forgotten = 0

    def forget(self) -> None:
        self.forgotten += 1


async def _through(state: Page, who, exc: BaseException | None, **options):
    """Run one block that raises ``exc`` (or nothing); what the block saw of ``busy``, and the outcome."""
    seen = []
    async with core_call(state, who, "test call", FAILED, **options) as call:
        seen.append(state.busy)
        if exc is not None:
            raise exc
    return seen, call


def test_a_refusal_is_logged_and_said_in_the_language_and_busy_is_cleared(caplog):
    page = Page()
    with caplog.at_level(logging.INFO, logger=__name__):
        seen, call = run(_through(page, Visitor("en"), ApiError(503, "down"), busy="busy"))
    assert seen == [True] and page.busy is False
    assert call.failed and not call.ended and not call.refused and call.event is None
    assert page.error == "The invoice could not be loaded just now. Please try again."
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "test call: core answered 503: down")
    ]
    caplog.clear()
    sv = Page()
    with caplog.at_level(logging.INFO, logger=__name__):
        run(_through(sv, Visitor("sv"), ApiError(503, "down"), quiet=True))
    assert sv.error == gettext("sv", FAILED) != page.error
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_a_block_that_runs_through_changes_nothing_and_other_errors_pass():
    page = Page()
    seen, call = run(_through(page, Visitor("sv"), None, busy="busy"))
    assert seen == [True] and page.busy is False and not call.failed and page.error == ""
    with pytest.raises(KeyError):
        run(_through(page, Visitor("sv"), KeyError("not the core's"), busy="busy"))
    assert page.busy is False and page.error == ""


def test_refusals_of_their_own_by_class_or_status_come_first():
    refused = {NotFound: N_("Invoice not found"), 409: lambda exc: f"taken: {exc.detail}", Unauthorized: None}
    page = Page()
    _seen, call = run(_through(page, Visitor("en"), NotFound(404, "x"), refused=refused))
    assert call.refused and page.error == "Invoice not found"
    _seen, call = run(_through(page, Visitor("en"), ApiError(409, "already"), refused=refused))
    assert call.refused and page.error == "taken: already"
    page.error = ""
    _seen, call = run(_through(page, Visitor("en"), Unauthorized(401, "wrong code"), refused=refused))
    assert call.refused and not call.ended and isinstance(call.exc, Unauthorized) and page.error == ""


def _link_session(invoice_id: str) -> SessionState:
    session = substate(fresh_states(), SessionState)
    session._start(
        {"access_token": subscriber_token(2), "expires_at": time.time() + 600, "customer_id": 2},
        scope_invoice=invoice_id,
    )
    return session


INVOICE = "7f0c1a52-93d1-4c55-a7f4-2b1f0e9d6c11"


def test_an_ended_subscriber_session_is_dropped_and_the_page_goes_to_sign_in():
    session = _link_session(INVOICE)
    page = Page()
    _seen, call = run(
        _through(page, Subscriber(session, forget=page.forget, keep_invoice=INVOICE), Unauthorized(401, "revoked"))
    )
    assert call.ended and page.forgotten == 1 and page.error == ""
    assert LOGIN_ROUTE in repr(call.event)
    assert session._token == "" and not session.scoped
    assert session.link_expired and session._after_login == f"/invoices/{INVOICE}"  # after sign-in: that invoice
    # A card on a page (no sign-in page of its own): dropped and forgotten, the page stays.
    session = _link_session(INVOICE)
    _seen, call = run(
        _through(page, Subscriber(session, forget=page.forget, to_sign_in=False), Unauthorized(401, "revoked"))
    )
    assert call.ended and call.event is None and page.forgotten == 2 and session._token == ""
    assert session._after_login == ""  # nothing kept without keep_invoice


def test_an_ended_staff_session_signs_the_console_out_and_says_why():
    agent = substate(fresh_states(), AgentSessionState)
    agent._token, agent._expires_at, agent.signed_in, agent.agent_name = "t", time.time() + 60, True, "Anna"
    page = Page()
    _seen, call = run(_through(page, Staff(agent, "en", forget=page.forget), Unauthorized(401, "ended")))
    assert call.ended and call.event is None and page.forgotten == 1
    assert agent._token == "" and not agent.signed_in and agent.agent_name == ""
    assert agent.login_error == "Your session has ended. Sign in again."


def test_the_two_consoles_inherit_one_staff_session_but_never_share_it():
    root = fresh_states()
    agent, marketer = substate(root, AgentSessionState), substate(root, MarketingSessionState)
    agent._token, agent._expires_at, agent.signed_in = "agent-token", time.time() + 60, True
    assert marketer._token == "" and not marketer.signed_in and marketer._live_token() == ""
    assert agent._live_token() == "agent-token"
    assert (AgentSessionState.ROLES, MarketingSessionState.ROLES) == (("agent", "supervisor"), ("marketing",))
    assert AgentSessionState.sign_in.fn is not MarketingSessionState.sign_in.fn  # each console's own handler
    agent._expires_at = time.time() - 1  # expired: dropped when asked
    assert agent._live_token() == "" and agent._token == "" and not agent.signed_in
