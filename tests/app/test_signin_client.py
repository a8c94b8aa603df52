"""The app passes the browser's real address to the core (issue 14), so the core's per-client
limits apply through the app: one app session asking codes for 24 identifiers is limited.

The address is the websocket's peer, or, through proxies listed in ``SELFCARE_TRUSTED_PROXIES``,
the right-most untrusted ``X-Forwarded-For`` hop. A revoked link's session leads through sign-in
back to its invoice.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from reflex.istate.data import HeaderData, PageData, SessionData

from backend_stub.services.support import agents
from selfcare import api_client, client_address
from selfcare.pages.agent.state import AgentSessionState
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.link.state import LinkState
from selfcare.pages.login.state import LoginState
from selfcare.state.session import LOGIN_ROUTE, SessionState
from tests.app.conftest import drain, fresh_states, latest_code, run, service_token, subscriber_token, substate
from tests.app.test_states import _ids

PROXY = "10.0.0.5"


class Recording(httpx.AsyncBaseTransport):
    """The core's ASGI transport, keeping each request's headers."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def header_of(self, path: str) -> str | None:
        sent = [r for r in self.requests if r.url.path == path]
        assert sent, f"nothing sent to {path}"
        return sent[-1].headers.get(client_address.CLIENT_HEADER)


@pytest.fixture
def recording(core_app):
    transport = Recording(core_app)
    c = api_client.CoreClient(base_url="http://core", transport=transport)
    api_client.set_client(c)
    yield transport
    api_client.set_client(None)


def _browser(state, peer: str, forwarded: str | None = None) -> None:
    """Put ``state`` on a websocket from ``peer`` (with an X-Forwarded-For header, if given)."""
    state.rx_router_session = SessionData(client_token=uuid.uuid4().hex, client_ip=peer)
    headers = {"asgi-scope-client": peer, **({"x-forwarded-for": forwarded} if forwarded else {})}
    state.rx_router_headers = HeaderData.from_router_data({"headers": headers})


def test_one_app_session_asking_codes_for_24_identifiers_is_limited(recording):
    root = fresh_states()
    login = substate(root, LoginState)
    _browser(login, "198.51.100.77")
    sent = 0
    for i in range(24):
        login.step = "identify"
        run(drain(LoginState.request_code.fn(login, {"identifier": f"K7{i:05d}"})))
        sent += login.step == "code"
    assert recording.header_of("/auth/otp/request") == "198.51.100.77"
    assert (sent, 24 - sent) == (20, 4)  # 20 free, then the client backs off
    assert "min" in login.error


def test_the_address_behind_a_trusted_proxy_is_the_browsers(recording, env):
    env.set(client_address.TRUSTED_PROXIES_ENV, "10.0.0.0/24")
    root = fresh_states()
    login = substate(root, LoginState)
    _browser(login, PROXY, forwarded="6.6.6.6, 203.0.113.9, 10.0.0.4")  # the browser wrote the first one
    run(drain(LoginState.request_code.fn(login, {"identifier": "K100004"})))
    assert recording.header_of("/auth/otp/request") == "203.0.113.9"
    code = run(latest_code(api_client.get_client(), "K100004"))
    run(drain(LoginState.verify_code.fn(login, {"code": code})))
    assert recording.header_of("/auth/otp/verify") == "203.0.113.9"
    assert substate(root, SessionState).signed_in


def test_a_browser_cannot_name_its_own_address(recording, env):
    env.unset(client_address.TRUSTED_PROXIES_ENV)
    login = substate(fresh_states(), LoginState)
    _browser(login, "198.51.100.8", forwarded="203.0.113.1")  # not through a trusted proxy: ignored
    run(drain(LoginState.request_code.fn(login, {"identifier": "K100002"})))
    assert recording.header_of("/auth/otp/request") == "198.51.100.8"


def test_staff_sign_in_passes_the_address(recording, core_app):
    username = f"cip{uuid.uuid4().hex[:6]}"
    agents.create_agent(core_app.state.core.engine, username, "Cia", "correct horse battery staple", "agent")
    agent = substate(fresh_states(), AgentSessionState)
    _browser(agent, "198.51.100.99")
    run(drain(AgentSessionState.sign_in.fn(agent, {"username": username, "password": "correct horse battery staple"})))
    assert agent.signed_in and recording.header_of("/agent-auth/login") == "198.51.100.99"


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("198.51.100.1", None, "", "198.51.100.1"),
        ("198.51.100.1", "203.0.113.5", "", "198.51.100.1"),  # a header from a browser is not believed
        (PROXY, "203.0.113.5", "10.0.0.5", "203.0.113.5"),
        (PROXY, "203.0.113.5, 10.0.0.7", "10.0.0.0/24", "203.0.113.5"),  # two trusted hops
        (PROXY, "10.0.0.7", "10.0.0.0/24", "10.0.0.7"),  # nothing but proxies: the last one seen
        (PROXY, "garbage, 203.0.113.5", "10.0.0.5", "203.0.113.5"),
        (PROXY, "203.0.113.5, garbage", "10.0.0.5", PROXY),  # an unreadable hop: stop at what we can vouch for
        ("2001:db8::1", "[2001:db8:ffff::9]:443", "2001:db8::/64", "2001:db8:ffff::9"),
        ("", "203.0.113.5", "", ""),
    ],
)
def test_resolving_the_browsers_address(peer, forwarded, proxies, expected):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    networks = client_address.trusted_proxies({client_address.TRUSTED_PROXIES_ENV: proxies})
    assert client_address.resolve(peer, headers, networks) == expected


def test_a_bad_trusted_proxy_entry_names_the_variable():
    with pytest.raises(ValueError, match="SELFCARE_TRUSTED_PROXIES.*nonsense"):
        client_address.trusted_proxies({client_address.TRUSTED_PROXIES_ENV: "10.0.0.1, nonsense"})


def test_a_link_session_ended_by_revocation_leads_through_sign_in_to_its_invoice(client):
    invoice_id = _ids(client, 2)[1]
    link = run(client.create_link(subscriber_token(2), invoice_id))
    root = fresh_states()
    session = substate(root, SessionState)
    opener = substate(root, LinkState)
    opener.rx_router_page = PageData(path=f"/i/{link['token']}", params={"link_token": link["token"]})
    run(drain(LinkState.open.fn(opener)))
    assert session.scoped
    page = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(page, invoice_id)))
    assert page.view["id"] == invoice_id
    # Support revokes the invoice's links while the page is open: the next load ends the session.
    revoked = run(
        client._http.post(
            f"/invoices/{invoice_id}/links/revoke", headers={"Authorization": f"Bearer {service_token()}"}
        )
    )
    assert revoked.json()["revoked"] >= 1
    updates = run(drain(InvoiceState.open_invoice.fn(page, invoice_id)))
    assert LOGIN_ROUTE in repr(updates) and not session.scoped and session._token == ""
    assert session.link_expired and session._after_login == f"/invoices/{invoice_id}"
    assert page.view == {}
    # A fresh session may not be started from the ended one: the link is gone (sign-in asked again).
    run(drain(LinkState.open.fn(opener)))
    assert not session.scoped and session.link_expired
