"""The harness itself: the app serves as the README starts it, the core answers under /core,
origins are enforced, the sign-in page fits a phone, and scale mode really runs several workers."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import websockets

EVIL = "http://evil.example"


def test_app_and_core_answer(running_app, core_api):
    page = httpx.get(running_app.url + "/", timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "Built with Reflex" not in page.text
    assert httpx.get(running_app.core_url + "/health", timeout=10).json() == {"status": "ok"}
    # The core behind /core checks who is asking; with the service token it answers.
    assert httpx.get(running_app.core_url + "/invoices", timeout=10).status_code == 401
    listed = core_api.get("/invoices", params={"limit": 5})
    assert listed.status_code == 200 and listed.json()["total"] > 0
    # Reflex's own routes are still Reflex's.
    assert httpx.get(running_app.url + "/ping", timeout=10).json() == "pong"


def test_cors_origins_are_explicit(running_app):
    own = running_app.url
    ok = httpx.get(running_app.core_url + "/health", headers={"Origin": own}, timeout=10)
    assert ok.headers.get("access-control-allow-origin") == own
    bad = httpx.get(running_app.core_url + "/health", headers={"Origin": EVIL}, timeout=10)
    assert "access-control-allow-origin" not in bad.headers
    preflight = httpx.options(
        running_app.core_url + "/invoices",
        timeout=10,
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers


async def _socket_open(url: str, origin: str) -> str:
    """Open Reflex's event socket (Engine.IO over a websocket) and connect the namespace."""
    ws_url = url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket&token=e2e-origin-check"
    async with websockets.connect(ws_url, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
        hello = await asyncio.wait_for(ws.recv(), 10)
        assert str(hello).startswith("0")
        await ws.send("40/_event," + json.dumps({}))  # CONNECT to Reflex's namespace
        return str(await asyncio.wait_for(ws.recv(), 10))


def _socket_open_sync(url: str, origin: str) -> str:
    # After a browser test Playwright's sync API owns this thread's event loop: use another thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _socket_open(url, origin)).result(timeout=60)


def test_websocket_origin_is_checked(running_app):
    assert _socket_open_sync(running_app.url, running_app.url).startswith("40/_event,")
    with pytest.raises((websockets.exceptions.InvalidStatus, websockets.exceptions.ConnectionClosed)):
        _socket_open_sync(running_app.url, EVIL)


def test_sign_in_page_fits_a_phone(page, app_url, shot, horizontal_overflow):
    page.goto(app_url + "/login")
    page.wait_for_load_state("networkidle")
    page.locator("input").first.wait_for(state="visible")
    shot("login")
    assert horizontal_overflow(page) <= 0
    assert page.locator("text=Built with Reflex").count() == 0


def test_auto_setters_are_off():
    import rxconfig

    assert rxconfig.config.state_auto_setters is False
    assert "*" not in rxconfig.config.cors_allowed_origins


@pytest.mark.scale
def test_scale_mode_runs_several_workers_on_redis_and_postgres(running_app, core_api, page, shot):
    assert running_app.env["REDIS_URL"].startswith("redis://")
    assert running_app.database_url.startswith("postgresql")
    # Supervisor + at least two backend workers in the app's process group.
    assert len(running_app.worker_pids()) >= 3, running_app.worker_pids()
    assert core_api.get("/invoices", params={"limit": 1}).json()["total"] > 0
    page.goto(running_app.url + "/login")
    page.locator("input").first.wait_for(state="visible")
    shot("login")


def test_otp_code_reads_the_code_that_was_sent(core_api, otp_code):
    assert core_api.post("/auth/otp/request", json={"identifier": "K100001"}).status_code == 202
    code = otp_code("K100001")
    assert len(code) == 6 and code.isdigit()
    signed_in = core_api.post("/auth/otp/verify", json={"identifier": "K100001", "code": code})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["customer_number"] == "K100001"
    # Single use: the same code a second time is refused.
    assert core_api.post("/auth/otp/verify", json={"identifier": "K100001", "code": code}).status_code == 401
