"""How fast an agent's reply reaches the subscriber's open invoice page, with 100 subscribers at once.

Against the app as the README runs it (``reflex run --env prod``, core embedded), on loopback:

1. ``--subscribers`` (100) subscribers each open one invoice by its link, as a browser tab does,
   on their own Socket.IO connection to Reflex's ``/_event`` (the frontend's protocol): the
   link's on_load (``LinkState.open``), the invoice (``InvoiceState.open_invoice``) and the
   thread (``ThreadState.open``, which starts the page's live poll);
2. all of them post a question at once through the page's own handler (``ThreadState.send``);
3. one agent answers every thread in turn, either through the console's handler on its own
   socket (``AgentState.reply``: the same backend worker wakes the subscriber's poll at once)
   or through the core API (``POST /core/invoices/{id}/thread/messages``: the subscriber's
   poll finds it at its next tick);
4. for each answer: the time from the agent pressing "send" to the state delta carrying the
   answer's text arriving on that subscriber's socket, i.e. on their page. p50/p95/max;
   target p95 <= 500 ms.

    .venv/bin/python bench/support.py [--subscribers 100] [--via console|core|both] [--poll 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.web import NAMESPACE, percentile  # noqa: E402
from tests.e2e.app_process import RunningApp, start_app  # noqa: E402

AGENT_PASSWORD = "bench-agent-password-0123"


class Tab:
    """One browser tab on Reflex's ``/_event`` socket (Engine.IO 4 + Socket.IO over a websocket)."""

    def __init__(self, app: RunningApp, path: str, query: dict[str, str], as_path: str) -> None:
        self.app = app
        self.token = str(uuid.uuid4())
        self.router = {"pathname": path, "query": query, "asPath": as_path}
        self.ws: Any = None
        self.watchers: list[tuple[str, asyncio.Future[float]]] = []
        self.updates: asyncio.Queue[str] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        base = self.app.url.replace("http://", "ws://")
        self.ws = await websockets.connect(
            f"{base}/_event/?EIO=4&transport=websocket&token={self.token}",
            origin=self.app.url,
            open_timeout=60,  # type: ignore[arg-type]
            max_size=None,
            compression=None,
        )
        if not str(await self.ws.recv()).startswith("0"):
            raise RuntimeError("not an Engine.IO open packet")
        hydrate = {"name": "reflex___state____state.hydrate", "payload": {}, "router_data": self.router}
        await self.ws.send(f"40{NAMESPACE}," + json.dumps({"event": hydrate}))
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.updates.get(), 60)

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = str(raw)
            if msg == "2":
                await self.ws.send("3")
                continue
            if not msg.startswith(f"42{NAMESPACE},"):
                continue
            now = time.perf_counter()
            for text, fut in list(self.watchers):
                if text in msg and not fut.done():
                    fut.set_result(now)
                    self.watchers.remove((text, fut))
            await self.updates.put(msg)

    def watch(self, text: str) -> asyncio.Future[float]:
        """A future that holds the arrival time of the first update that carries ``text``."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.watchers.append((json.dumps(text)[1:-1], fut))
        return fut

    async def event(self, handler: str, payload: dict[str, Any], until: str | None = None, timeout: float = 60) -> None:
        """Send one event; wait for an update (carrying ``until`` if given)."""
        fut = self.watch(until) if until else None
        while not self.updates.empty():
            self.updates.get_nowait()
        await self.ws.send(
            f"42{NAMESPACE}," + json.dumps(["event", {"name": handler, "payload": payload, "router_data": self.router}])
        )
        if fut is not None:
            await asyncio.wait_for(fut, timeout)
        else:
            await asyncio.wait_for(self.updates.get(), timeout)

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()


def _names() -> dict[str, str]:
    from selfcare.pages.agent.state import AgentSessionState, AgentState
    from selfcare.pages.invoice.state import InvoiceState
    from selfcare.pages.invoice.thread import ThreadState
    from selfcare.pages.link.state import LinkState

    return {
        "link": LinkState.get_full_name(),
        "invoice": InvoiceState.get_full_name(),
        "thread": ThreadState.get_full_name(),
        "agent_session": AgentSessionState.get_full_name(),
        "agent": AgentState.get_full_name(),
    }


def _setup(app: RunningApp, subscribers: int) -> tuple[list[dict[str, str]], str]:
    """One open invoice per customer (the newest), its link; an agent account."""
    import subprocess

    env = {**app.env, "SELFCARE_AGENT_PASSWORD": AGENT_PASSWORD}
    subprocess.run(
        [sys.executable, "-m", "backend_stub", "create-agent", "--username", "bench-agent", "--name", "Bengt Bench"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    headers = {"Authorization": f"Bearer {app.service_token()}"}
    chosen: list[dict[str, str]] = []
    seen: set[str] = set()
    with httpx.Client(base_url=app.core_url, headers=headers, timeout=60) as core:
        offset = 0
        while len(chosen) < subscribers:
            page = core.get("/invoices", params={"kind": "invoice", "limit": 200, "offset": offset}).json()["items"]
            if not page:
                break
            for inv in page:
                if inv["customer_number"] in seen:
                    continue
                seen.add(inv["customer_number"])
                link = core.post(f"/invoices/{inv['id']}/link").json()
                chosen.append({"invoice_id": inv["id"], "link": link["token"]})
                if len(chosen) == subscribers:
                    break
            offset += 200
    if len(chosen) < subscribers:
        raise RuntimeError(f"only {len(chosen)} customers with invoices; seed more")
    return chosen, app.service_token()


async def run(app: RunningApp, subscribers: int, via: str) -> dict[str, list[float]]:
    names = _names()
    invoices, _service = _setup(app, subscribers)
    tabs = [Tab(app, "/i/[link_token]", {"link_token": x["link"]}, f"/i/{x['link']}") for x in invoices]
    for i in range(0, len(tabs), 20):  # connect in batches, as people arrive
        await asyncio.gather(*(t.open() for t in tabs[i : i + 20]))

    async def open_page(tab: Tab, invoice_id: str) -> None:
        await tab.event(f"{names['link']}.open", {})
        tab.router = {
            "pathname": "/invoices/[invoice_id]",
            "query": {"invoice_id": invoice_id},
            "asPath": f"/invoices/{invoice_id}",
        }
        await tab.event(f"{names['invoice']}.open_invoice", {"invoice_id": invoice_id}, until=invoice_id)
        await tab.event(f"{names['thread']}.open", {"invoice_id": invoice_id})

    await asyncio.gather(*(open_page(t, x["invoice_id"]) for t, x in zip(tabs, invoices, strict=True)))
    print(f"{len(tabs)} invoice pages open, each polling its thread", file=sys.stderr)
    t0 = time.perf_counter()
    await asyncio.gather(
        *(
            t.event(f"{names['thread']}.send", {"form": {"text": f"Question {i}", "line": "0"}}, until=f"Question {i}")
            for i, t in enumerate(tabs)
        )
    )
    print(f"{len(tabs)} questions posted at once in {time.perf_counter() - t0:.2f} s", file=sys.stderr)

    results: dict[str, list[float]] = {}
    agent = Tab(app, "/agent", {}, "/agent")
    await agent.open()
    await agent.event(
        f"{names['agent_session']}.sign_in",
        {"form": {"username": "bench-agent", "password": AGENT_PASSWORD}},
        until="Bengt",
    )
    modes = ["console", "core"] if via == "both" else [via]
    with httpx.Client(base_url=app.core_url, timeout=60) as core:
        login = core.post(
            "/agent-auth/login",
            headers={"Authorization": f"Bearer {app.service_token()}"},
            json={"username": "bench-agent", "password": AGENT_PASSWORD},
        ).json()
        agent_headers = {"Authorization": f"Bearer {login['access_token']}"}
        for mode in modes:
            latencies: list[float] = []
            for i, (tab, inv) in enumerate(zip(tabs, invoices, strict=True)):
                answer = f"Svar {mode} {i} {uuid.uuid4().hex[:8]}"
                if mode == "console":
                    await agent.event(
                        f"{names['agent']}.open_thread", {"invoice_id": inv["invoice_id"]}, until=inv["invoice_id"]
                    )
                arrived = tab.watch(answer)
                sent = time.perf_counter()
                if mode == "console":
                    await agent.ws.send(
                        f"42{NAMESPACE},"
                        + json.dumps(
                            [
                                "event",
                                {
                                    "name": f"{names['agent']}.reply",
                                    "payload": {"form": {"text": answer}},
                                    "router_data": agent.router,
                                },
                            ]
                        )
                    )
                else:
                    resp = await asyncio.to_thread(
                        core.post,
                        f"/invoices/{inv['invoice_id']}/thread/messages",
                        headers=agent_headers,
                        json={"text": answer},
                    )
                    resp.raise_for_status()
                latencies.append((await asyncio.wait_for(arrived, 30)) - sent)
                await asyncio.sleep(0.05)  # one agent, not a machine gun
            results[mode] = latencies
    await agent.close()
    await asyncio.gather(*(t.close() for t in tabs))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument(
        "--via",
        choices=["console", "core", "both"],
        default="both",
        help="how the agent answers: the console's handler, the core API, or both in turn",
    )
    ap.add_argument("--poll", type=float, default=1.0, help="SELFCARE_THREAD_POLL_S for the app (seconds)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-support-") as tmp:
        workdir = Path(tmp)
        print("starting the app (SQLite, 1 worker) with `reflex run --env prod`…", file=sys.stderr)
        t0 = time.perf_counter()
        app = start_app(
            workdir,
            database_url=f"sqlite:///{workdir / 'selfcare.db'}",
            seed_args=["--customers", str(args.subscribers + 10), "--months", "1"],
            extra_env={"SELFCARE_THREAD_POLL_S": str(args.poll)},
        )
        try:
            print(f"ready in {time.perf_counter() - t0:.0f} s at {app.url}", file=sys.stderr)
            results = asyncio.run(run(app, args.subscribers, args.via))
        finally:
            app.stop()

    print(
        f"\nbench/support.py: {args.subscribers} subscribers with their invoice page open (poll every "
        f"{args.poll:g} s), all posting, one agent answering each in turn"
    )
    print("time from the agent's reply to the answer on the subscriber's page (state delta on their socket):")
    for mode, lat in results.items():
        ms = [x * 1000 for x in lat]
        p95 = percentile(ms, 0.95)
        label = "agent in the console (same worker)" if mode == "console" else "agent through the core API"
        print(
            f"  {label:<36} n={len(ms)}  p50 {statistics.median(ms):6.0f} ms   p95 {p95:6.0f} ms   "
            f"max {max(ms):6.0f} ms   (target p95 <= 500 ms: {'met' if p95 <= 500 else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
