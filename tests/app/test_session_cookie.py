"""The session cookie (issue 14, item 7): what a new tab finds of a session, and what it refuses.

The cookie's HTTP routes and the browser's part are in ``tests/e2e/test_session_tabs.py``; here the
pieces: the grant of a hand-off, the cookie header, the backend's address as the browser computes it,
and the adoption of the cookie's session by a tab's ``SessionState``.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from reflex.istate.data import HeaderData

from selfcare import session_cookie
from selfcare.pages.login.state import LoginState
from selfcare.pages.overview.state import OverviewState
from selfcare.state.session import LOGIN_ROUTE, SessionState
from tests.app.conftest import drain, fresh_states, handed_off, latest_code, run, subscriber_token, substate
from tests.app.test_states import _ids


def _sign_in(client, number: str = "K100001"):
    """Tab one signs in with a code; returns its session state."""
    root = fresh_states()
    login, session = substate(root, LoginState), substate(root, SessionState)
    run(drain(LoginState.request_code.fn(login, {"identifier": number})))
    updates = run(drain(LoginState.verify_code.fn(login, {"code": run(latest_code(client, number))})))
    assert handed_off(updates, session) == "/"
    return session


def _tab_with_cookie(cookie: str):
    """A new tab whose websocket handshake carried ``cookie``."""
    root = fresh_states()
    root.rx_router_headers = HeaderData(cookie=cookie, origin="http://localhost:3000")
    return root, substate(root, SessionState)


def test_a_new_tab_finds_the_session_of_the_cookie(client):
    first = _sign_in(client)
    root, second = _tab_with_cookie(f"theme=light; {session_cookie.COOKIE}={first._token}; lang=sv")
    assert second._token_for_customer() == (first._token, 1)
    assert second.signed_in and not second.scoped and second.customer_number == "K100001"
    # … and it works: the overview loads in the new tab.
    overview = substate(root, OverviewState)
    updates = run(drain(OverviewState.load.fn(overview)))
    assert not any(LOGIN_ROUTE in repr(u) for u in updates) and overview.error == ""
    assert second._token_for_customer()[0] == first._token  # the core accepted it
    # The cookie carries no name; the overview asks the core once, so the greeting has it as after a sign-in.
    assert first.customer_name and second.customer_name == first.customer_name


def test_a_signed_out_session_is_not_found_again_by_any_tab(client):
    first = _sign_in(client)
    token = first._token
    updates = run(drain(SessionState.sign_out.fn(first)))
    assert handed_off(updates, first, "end") == LOGIN_ROUTE
    # The tab that signed out does not take the (old) cookie back …
    first.rx_router_headers = HeaderData(cookie=f"{session_cookie.COOKIE}={token}")
    assert first._token_for_customer() == ("", 0)
    # … and in another tab it is refused by the core at the first call, then never adopted again there.
    root, other = _tab_with_cookie(f"{session_cookie.COOKIE}={token}")
    assert other._token_for_customer()[0] == token
    overview = substate(root, OverviewState)
    updates = run(drain(OverviewState.load.fn(overview)))
    assert any("_redirect" in repr(u) and LOGIN_ROUTE in repr(u) for u in updates)
    assert other._token_for_customer() == ("", 0)


@pytest.mark.parametrize("kind", ["plain-token", "expired", "staff", "other-secret", "garbage"])
def test_a_cookie_that_is_not_a_live_subscriber_session_is_not_adopted(kind):
    now = int(time.time())
    claims = {
        "sub": "K100001",
        "role": "subscriber",
        "cid": 1,
        "jti": "j1",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": "selfcare-core",
        "aud": "selfcare-api",
        "ses": 1,
    }
    secret = session_cookie._secret()
    token = {
        "plain-token": subscriber_token(1),  # a token that is not a recorded session (no ses)
        "expired": jwt.encode({**claims, "exp": now - 60}, secret, algorithm="HS256"),
        "staff": jwt.encode({**claims, "role": "agent", "cid": None}, secret, algorithm="HS256"),
        "other-secret": jwt.encode(claims, "x" * 48, algorithm="HS256"),
        "garbage": "not.a.token",
    }[kind]
    _root, tab = _tab_with_cookie(f"{session_cookie.COOKIE}={token}")
    assert tab._token_for_customer() == ("", 0) and tab._token_for_invoice("0" * 36) == ""


def test_the_cookie_header_is_read_strictly():
    name = session_cookie.COOKIE
    assert session_cookie.read_cookie(f"a=1; {name}=abc.def.ghi") == "abc.def.ghi"
    assert session_cookie.read_cookie(f"x{name}=abc") == ""
    assert session_cookie.read_cookie("") == ""
    assert session_cookie.read_cookie(f"{name}={'a' * 5000}") == ""


@pytest.mark.parametrize(
    ("api_url", "page", "expected"),
    [
        ("http://localhost:3000", "http://127.0.0.1:3000", "http://127.0.0.1:3000"),  # the page's host name
        ("http://localhost:8000", "http://localhost:3000", "http://localhost:8000"),  # dev: two ports
        ("http://0.0.0.0:8000", "https://selfcare.example.se", "https://selfcare.example.se"),  # behind TLS
        ("https://api.example.se", "https://selfcare.example.se", "https://api.example.se"),  # named: as named
    ],
)
def test_the_backend_address_is_the_one_the_browser_uses(api_url, page, expected):
    assert session_cookie.backend_base(api_url, page) == expected


def test_a_grant_is_signed_short_lived_and_names_its_tab_nonce_and_purpose():
    url, nonce = session_cookie.handoff_url("http://localhost:3000", "http://localhost:3000", "tab-1", "start")
    parts = urlsplit(url)
    assert parts.path == session_cookie.START_PATH and "token" not in url
    grant = parse_qs(parts.query)["g"][0]
    assert session_cookie.read_grant(grant) == {"c": "tab-1", "n": nonce, "p": "start", "o": "http://localhost:3000"}
    # Tampered, expired or foreign: refused before any state is touched.
    assert session_cookie.read_grant(grant[:-2] + ("AA" if not grant.endswith("AA") else "BB")) is None
    old = session_cookie.make_grant("tab-1", nonce, "start", "http://localhost:3000", now=time.time() - 61)
    assert session_cookie.read_grant(old) is None
    foreign = jwt.encode(
        {
            "aud": "selfcare-api",
            "c": "tab-1",
            "n": nonce,
            "p": "start",
            "o": "x",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        session_cookie._secret(),
    )
    assert session_cookie.read_grant(foreign) is None


def test_a_hand_off_is_taken_once_and_only_for_its_purpose(client):
    session = _sign_in(client)
    nonce = session._handoff
    assert session._redeem_handoff(nonce, "end") is None  # the wrong purpose spends it too
    assert session._redeem_handoff(nonce, "start") is None
    session._handoff_to("start", "/usage")
    nonce = session._handoff
    taken = session._redeem_handoff(nonce, "start")
    assert taken == {"token": session._token, "expires_at": session._expires_at, "next": "/usage"}
    assert session._redeem_handoff(nonce, "start") is None  # once
    session._handoff_to("start", "//evil.example/x")
    assert session._handoff_next == "/"  # never another site


async def _get(path: str, cookie: str = ""):
    """``GET path`` through the app's HTTP front (the session routes around a page server that answers 200)."""
    import httpx

    async def pages(scope, receive, send):  # stands for Reflex's own app: the page /i/[link_token]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"the page"})

    transport = httpx.ASGITransport(app=session_cookie.api_transformer(pages))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as http:
        return await http.get(path, headers={"cookie": cookie} if cookie else {})


def test_an_invoice_link_opens_in_one_step_with_its_session_in_the_cookie(client):
    invoice_id = _ids(client, 3)[0]
    link = run(client.create_link(subscriber_token(3), invoice_id))
    answer = run(_get(f"/i/{link['token']}"))
    assert answer.status_code == 303 and answer.headers["location"] == f"/invoices/{invoice_id}"
    assert answer.headers["cache-control"] == "no-store"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{session_cookie.COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie and "Secure" not in cookie  # http: not Secure
    token = cookie.split(";")[0].split("=", 1)[1]
    assert session_cookie.verify_session_token(token)["inv"] == invoice_id
    # A new tab with that cookie reaches the invoice (only).
    _root, tab = _tab_with_cookie(f"{session_cookie.COOKIE}={token}")
    assert tab._token_for_invoice(invoice_id) == token and tab.scoped and tab._token_for_customer() == ("", 0)


def test_a_link_never_replaces_a_full_session_and_a_dead_one_goes_to_its_page(client):
    invoice_id = _ids(client, 3)[0]
    link = run(client.create_link(subscriber_token(3), invoice_id))
    full = _sign_in(client, "K100002")._token
    kept = run(_get(f"/i/{link['token']}", cookie=f"{session_cookie.COOKIE}={full}"))
    assert kept.status_code == 200 and kept.text == "the page" and "set-cookie" not in kept.headers
    for path in ("/i/" + "a" * 16, "/i/<script>", "/i/short"):
        answer = run(_get(path))
        assert answer.status_code == 200 and answer.text == "the page", path
    assert run(_get("/i/" + link["token"], cookie="x=1")).status_code == 303


def test_a_link_of_the_signed_in_customer_goes_straight_to_the_invoice_in_the_full_session(client):
    invoice_id = _ids(client, 3)[0]
    link = run(client.create_link(subscriber_token(3), invoice_id))
    full = _sign_in(client, "K100003")._token
    assert session_cookie.verify_session_token(full)["cid"] == 3
    answer = run(_get(f"/i/{link['token']}", cookie=f"{session_cookie.COOKIE}={full}"))
    assert answer.status_code == 303 and answer.headers["location"] == f"/invoices/{invoice_id}"
    assert "set-cookie" not in answer.headers and answer.headers["cache-control"] == "no-store"


def test_the_session_routes_take_only_get_and_a_valid_grant(client):
    refused = run(_get(session_cookie.START_PATH))
    assert refused.status_code == 400 and refused.headers["cache-control"] == "no-store"
    assert run(_get(session_cookie.END_PATH + "?g=" + "x" * 40)).status_code == 400
    other = session_cookie.make_grant("tab", "nonce", "end", "http://127.0.0.1:3000")
    assert run(_get(f"{session_cookie.START_PATH}?g={other}")).status_code == 400  # an end grant does not start


def test_the_sessions_helpers_are_not_handlers_the_browser_could_call():
    """Every public method of a Reflex state is an event handler any browser can call: the session's
    token helpers are private (leading underscore), so only these four exist."""
    from selfcare.state.staff import StaffSessionState

    assert set(SessionState.event_handlers) - {"setvar"} == {"at_sign_in", "require_session", "set_lang", "sign_out"}
    assert not {"live_token", "token_for_customer", "token_for_invoice", "owns_customer"} & (
        set(StaffSessionState.event_handlers) | set(SessionState.event_handlers)
    )
