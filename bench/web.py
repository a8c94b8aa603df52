"""How fast the app is for a subscriber, measured on loopback against the app as the README runs it.

Prints:

1. the time until the invoice page (``/invoices/<id>``, signed in) shows its amount in
   headless Chromium at 390×844: a full page load, warm (browser cache and backend warmed by
   one load first), from navigation start to ``#invoice-amount`` holding a formatted amount;
   target ≤ 1.0 s;
2. the JavaScript that page loads: files, bytes as sent (gzip) and unpacked;
3. the round trip of a state event with 50 concurrent sessions, each on its own Socket.IO
   connection to Reflex's ``/_event`` endpoint speaking the frontend's protocol (Engine.IO 4
   over a websocket, the hydrate event in the CONNECT packet, then ``SessionState.set_lang``
   toggled sv/en: a real handler whose delta re-renders the page's texts); p50/p95/p99,
   target p95 ≤ 100 ms. Two runs: back to back (each session sends its next event the moment
   the previous one is answered: the backend saturated, latency mostly queueing) and paced
   (one event per session every ``--pace`` seconds, like people tapping).

    .venv/bin/python bench/web.py [--scale] [--sessions 50] [--events 40] [--loads 15]

``--scale``: the app on Redis + PostgreSQL with two backend workers (as in scale-mode tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.app_process import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    RunningApp,
    pg_schema,
    start_app,
)

AMOUNT_JS = """() => {
  const el = document.getElementById('invoice-amount');
  return el && /\\d/.test(el.textContent || '') && /kr/.test(el.textContent || '') ? performance.now() : null;
}"""
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
NAMESPACE = "/_event"  # Reflex's Socket.IO namespace (the event endpoint's path)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- 1 and 2: the invoice page in Chromium --------------------------------------------------


def _sign_in(page: Any, app: RunningApp, core: httpx.Client, customer_number: str) -> None:
    page.goto(app.url + "/login")
    page.fill("#login-identifier", customer_number)
    page.click("#login-send")
    page.wait_for_selector("#login-code", state="visible")
    deadline = time.monotonic() + 20
    code = None
    while code is None and time.monotonic() < deadline:
        for msg in core.get("/dev/outbox", params={"customer": customer_number, "limit": 3}).json():
            if (found := CODE_RE.search(msg.get("text") or "")) is not None:
                code = found.group(1)
                break
        else:
            time.sleep(0.2)
    if code is None:
        raise RuntimeError(f"no sign-in code for {customer_number} in the dev outbox")
    page.fill("#login-code", code)
    page.click("#login-submit")
    page.wait_for_url(app.url + "/", timeout=20_000)


def _script_bytes(app: RunningApp, urls: list[str]) -> tuple[int, int, int]:
    """(files, gzip bytes as served, unpacked bytes) of the page's scripts, fetched again over HTTP."""
    sent = unpacked = 0
    with httpx.Client(timeout=30) as client:
        for url in urls:
            resp = client.get(url, headers={"Accept-Encoding": "gzip"})
            resp.raise_for_status()
            unpacked += len(resp.content)
            sent += int(resp.headers.get("content-length") or len(resp.content))
    return len(urls), sent, unpacked


def invoice_page(app: RunningApp, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with httpx.Client(
        base_url=app.core_url, timeout=30, headers={"Authorization": f"Bearer {app.service_token()}"}
    ) as core:
        customer = core.get("/customers", params={"q": "K100001"}).json()["items"][0]
        invoice = core.get("/invoices", params={"customer_id": customer["id"], "limit": 1}).json()["items"][0]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(
                viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True, locale="sv-SE"
            )
            page = context.new_page()
            _sign_in(page, app, core, customer["customer_number"])
            url = f"{app.url}/invoices/{invoice['id']}"
            times: list[float] = []
            for i in range(loads + 1):  # the first load warms the cache and the backend
                page.goto(url, wait_until="commit")
                shown = page.wait_for_function(AMOUNT_JS, polling="raf", timeout=30_000).json_value()
                if i:
                    times.append(float(shown) / 1000)
            amount = page.inner_text("#invoice-amount")
            scripts = page.evaluate("""() => performance.getEntriesByType('resource')
                .map(e => e.name).filter(n => /\\.m?js(\\?|$)/.test(new URL(n).pathname))""")
            browser.close()
    files, sent, unpacked = _script_bytes(app, sorted(set(scripts)))
    return {
        "invoice": invoice["number"],
        "amount": amount,
        "times": times,
        "js_files": files,
        "js_sent": sent,
        "js_unpacked": unpacked,
    }


# --- 3: state events over Reflex's /_event socket -------------------------------------------


class Session:
    """One browser session as the Reflex frontend speaks it: Engine.IO 4 + Socket.IO over a websocket."""

    def __init__(self, app: RunningApp, state_name: str) -> None:
        self.app = app
        self.token = str(uuid.uuid4())
        self.state_name = state_name
        self.updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    def _router_data(self) -> dict[str, Any]:
        return {"pathname": "/login", "query": {}, "asPath": "/login"}

    async def open(self) -> None:
        base = self.app.url.replace("http://", "ws://")
        self.ws = await websockets.connect(
            f"{base}/_event/?EIO=4&transport=websocket&token={self.token}",
            origin=self.app.url,
            open_timeout=30,  # type: ignore[arg-type]
            max_size=None,
            compression=None,
        )
        opened = await self.ws.recv()
        if not str(opened).startswith("0"):
            raise RuntimeError(f"not an Engine.IO open packet: {opened!r}")
        hydrate = {"name": "reflex___state____state.hydrate", "payload": {}, "router_data": self._router_data()}
        await self.ws.send(f"40{NAMESPACE}," + json.dumps({"event": hydrate}))
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.updates.get(), 30)  # the hydrated state

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = str(raw)
            if msg == "2":  # Engine.IO ping
                await self.ws.send("3")
            elif msg.startswith(f"42{NAMESPACE},"):
                name, *data = json.loads(msg[len(NAMESPACE) + 3 :])
                if name == "event" and data:
                    await self.updates.put(data[0])

    async def event(self, handler: str, payload: dict[str, Any]) -> float:
        """Send one state event; seconds until its state delta is back."""
        event = {"name": f"{self.state_name}.{handler}", "payload": payload, "router_data": self._router_data()}
        started = time.perf_counter()
        await self.ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))
        while True:
            update = await asyncio.wait_for(self.updates.get(), 30)
            if self.state_name in (update.get("delta") or {}):
                return time.perf_counter() - started

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()


async def state_events(app: RunningApp, sessions: int, events: int, pace_s: float) -> dict[str, Any]:
    """Round trips of ``events`` events in each of ``sessions`` sessions at once.

    ``pace_s`` = 0: each session sends its next event the moment the previous one is back
    (saturates the backend: the latency is mostly queueing). ``pace_s`` > 0: each session
    sends one event every ``pace_s`` seconds (started at random offsets), like people tapping.
    """
    from selfcare.state.session import SessionState

    state_name = SessionState.get_full_name()
    clients = [Session(app, state_name) for _ in range(sessions)]
    await asyncio.gather(*(c.open() for c in clients))
    for c in clients:  # one untimed round each: connections and code paths warm
        await c.event("set_lang", {"lang": "en"})
    latencies: list[float] = []

    async def run(c: Session) -> None:
        if pace_s:
            await asyncio.sleep(random.uniform(0, pace_s))
        for i in range(events):
            began = time.perf_counter()
            latencies.append(await c.event("set_lang", {"lang": "sv" if i % 2 == 0 else "en"}))
            if pace_s:
                await asyncio.sleep(max(0.0, pace_s - (time.perf_counter() - began)))

    started = time.perf_counter()
    await asyncio.gather(*(run(c) for c in clients))
    wall = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in clients))
    return {"latencies": latencies, "wall": wall}


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", action="store_true", help="Redis + PostgreSQL + two backend workers")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--events", type=int, default=40, help="timed events per session")
    ap.add_argument("--loads", type=int, default=15, help="timed warm loads of the invoice page")
    ap.add_argument("--pace", type=float, default=0.5, help="seconds between one session's events in the paced run")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        workdir = Path(tmp)
        drop = None
        if args.scale:
            _schema, db_url, drop = pg_schema()
        else:
            db_url = f"sqlite:///{workdir / 'selfcare.db'}"
        print(
            f"starting the app ({'scale: Redis, PostgreSQL, 2 workers' if args.scale else 'default: SQLite, 1 worker'})"
            " with `reflex run --env prod`…",
            file=sys.stderr,
        )
        t0 = time.perf_counter()
        app = start_app(workdir, database_url=db_url, scale=args.scale)
        try:
            print(f"ready in {time.perf_counter() - t0:.0f} s at {app.url}", file=sys.stderr)
            page = invoice_page(app, args.loads)
            runs = {
                "back to back": asyncio.run(state_events(app, args.sessions, args.events, 0.0)),
                f"one per session every {args.pace:g} s": asyncio.run(
                    state_events(app, args.sessions, args.events, args.pace)
                ),
            }
        finally:
            app.stop()
            if drop is not None:
                drop()

    t = page["times"]
    host = urlsplit(app.url).hostname
    print(f"\nbench/web.py on {host} ({'scale mode' if args.scale else 'default mode'})")
    print(f"invoice page {page['invoice']} shows its amount ({page['amount']}), {len(t)} warm full loads, 390x844:")
    print(
        f"  median {statistics.median(t):.3f} s   p95 {percentile(t, 0.95):.3f} s   max {max(t):.3f} s"
        f"   (target <= 1.0 s: {'met' if percentile(t, 0.95) <= 1.0 else 'NOT met'})"
    )
    print(
        f"JavaScript the invoice page loads: {page['js_files']} files, {page['js_sent'] / 1024:.0f} KiB sent (gzip), "
        f"{page['js_unpacked'] / 1024:.0f} KiB unpacked"
    )
    print(
        f"state event round trip (SessionState.set_lang), {args.sessions} concurrent sessions x {args.events} events:"
    )
    for label, ev in runs.items():
        lat_ms = [x * 1000 for x in ev["latencies"]]
        p95 = percentile(lat_ms, 0.95)
        print(
            f"  {label:<28} p50 {percentile(lat_ms, 0.5):6.1f} ms   p95 {p95:6.1f} ms   "
            f"p99 {percentile(lat_ms, 0.99):6.1f} ms   {len(lat_ms) / ev['wall']:5.0f} events/s"
            f"   (target p95 <= 100 ms: {'met' if p95 <= 100 else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
