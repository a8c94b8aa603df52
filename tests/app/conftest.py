"""The app's states and API client against the real core ASGI app on a seeded SQLite file."""

from __future__ import annotations

import asyncio
import inspect
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import reflex as rx

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.core import Core
from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
from backend_stub.storage.db import make_engine
from selfcare import api_client
from tests.conftest import TEST_NOW, reset_settings, run_coroutine

SECRET = "app-test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def core_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One seeded core for the app tests (read-mostly; tests that write use their own invoices)."""
    from backend_stub.demo.seed import seed

    old = {k: os.environ.get(k) for k in ("SELFCARE_JWT_SECRET", "SELFCARE_ENV")}
    os.environ["SELFCARE_JWT_SECRET"] = SECRET
    os.environ["SELFCARE_ENV"] = "dev"
    reset_settings()
    db = Path(tmp_path_factory.mktemp("appcore")) / "core.db"
    core = Core(make_engine(f"sqlite:///{db}"))
    # Seeded on the tests' business day (tests.conftest.TEST_NOW), as every test then runs: session-scoped, this
    # runs before the per-test frozen clock, and on the wall clock the data would follow the real date.
    with clock.use(clock.FrozenClock(TEST_NOW)):
        seed(core, 4, 3, quiet=True)
    app = create_app(core, auth=AuthSettings(secret=SECRET))
    yield app
    core.engine.dispose()
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


@pytest.fixture
def client(core_app: Any) -> Iterator[api_client.CoreClient]:
    c = api_client.CoreClient(base_url="http://core", transport=httpx.ASGITransport(app=core_app))
    api_client.set_client(c)
    yield c
    api_client.set_client(None)


def subscriber_token(customer_id: int) -> str:
    return issue_token(
        AuthSettings(secret=SECRET),
        subject=f"K{100000 + customer_id}",
        role=Role.SUBSCRIBER,
        customer_id=customer_id,
        ttl=timedelta(minutes=10),
    )


def service_token() -> str:
    return issue_token(AuthSettings(secret=SECRET), subject="test", role=Role.SERVICE, ttl=timedelta(minutes=10))


async def latest_code(client: api_client.CoreClient, customer_number: str) -> str:
    """The newest one-time code sent to a customer (the demo's outbox, through the core API)."""
    resp = await client._http.get(
        "/dev/outbox",
        params={"customer": customer_number, "limit": 5},
        headers={"Authorization": f"Bearer {service_token()}"},
    )
    resp.raise_for_status()
    for msg in resp.json():
        if m := re.search(r"\b(\d{6})\b", msg["text"]):
            return m.group(1)
    raise AssertionError(f"no code sent to {customer_number}")


run = run_coroutine  # noqa: E305 (tests.conftest: also inside a running loop)


def fresh_states() -> rx.State:
    """A root state with every app state beneath it, as one browser tab (its own client token) would have."""
    import uuid

    from reflex.istate.data import SessionData

    root = rx.State(_reflex_internal_init=True)
    root.rx_router_session = SessionData(client_token=str(uuid.uuid4()))
    return root


def substate(root: rx.State, cls: type) -> Any:
    return root.get_substate(cls.get_full_name().split(".")[1:])


def signed_in(customer_id: int, lang: str = "sv") -> rx.State:
    """A tab's root state with a live subscriber session of ``customer_id`` (ten minutes) in ``lang``."""
    import time

    from selfcare.state.session import SessionState

    root = fresh_states()
    session = substate(root, SessionState)
    session._start(
        {
            "access_token": subscriber_token(customer_id),
            "expires_at": time.time() + 600,
            "customer_id": customer_id,
            "name": "Test",
            "customer_number": f"K{100000 + customer_id}",
        }
    )
    session.lang = lang
    return root


def shown(state: Any, name: str) -> Any:
    """A var as the page gets it: an async computed var (one following the language, say) awaited."""
    value = getattr(state, name)
    return run(value) if inspect.isawaitable(value) else value


def full_page_load(updates: list[Any]) -> str:
    """The address a handler sent the browser to (``selfcare.state.browser.go_to``: a full page load)."""
    targets = [
        arg[1]._var_value
        for u in updates
        if getattr(getattr(u, "handler", None), "fn", None) is not None
        and u.handler.fn.__qualname__ == "BrowserState.go"
        for arg in u.args
    ]
    assert len(targets) == 1, f"expected one full page load, got {updates!r}"
    return targets[0]


def handed_off(updates: list[Any], session: Any, purpose: str = "start") -> str:
    """Where a hand-off through the session cookie's route leads (``selfcare.session_cookie``): the
    browser goes to the route with a grant for this tab's pending nonce; the answer is the next page."""
    from urllib.parse import parse_qs, urlsplit

    from selfcare import session_cookie

    url = urlsplit(full_page_load(updates))
    assert url.path == (session_cookie.START_PATH if purpose == "start" else session_cookie.END_PATH), url
    grant = session_cookie.read_grant(parse_qs(url.query)["g"][0])
    assert grant is not None and grant["n"] == session._handoff and grant["p"] == purpose
    return session._handoff_next


async def drain(gen) -> list[Any]:
    """Run an event handler (plain, coroutine or async generator) and collect what it yields."""
    out: list[Any] = []
    if hasattr(gen, "__aiter__"):
        async for item in gen:
            out.append(item)
    elif asyncio.iscoroutine(gen):
        out.append(await gen)
    else:
        out.append(gen)
    return out
