"""The send-out peak: subscribers open their invoice links within minutes while customer service answers.

Against the app as the README runs it at scale (``reflex run --env prod``, Redis, PostgreSQL,
two backend workers, the core embedded in each), on loopback:

1. ``--subscribers`` (1000) customers get their newest invoice's link, as the send-out does;
2. they arrive spread over ``--minutes`` (10), each as a browser tab does it on its own Socket.IO
   connection to Reflex's ``/_event`` (the frontend's protocol, ``bench/support.py``'s ``Tab``):
   the link's on_load (``LinkState.open``), the invoice (``InvoiceState.open_invoice``) and the
   thread (``ThreadState.open``, which starts the page's live thread). **Usable invoice** is the
   time from the tab's socket opening to the state delta carrying the invoice on it (the static
   page itself is cached and not counted); target p95 <= 1 s;
3. meanwhile one agent answers ``--replies`` (100) of the open pages through the core API, spread
   over the same minutes; **reply to page** is the time from the agent's POST to the delta carrying
   the answer on that subscriber's socket; target p95 <= 500 ms;
4. then every page stays open, nothing happens, for ``--idle`` (30) seconds: **idle core load** is
   what the core's database did meanwhile (index and sequential scans on the run's own schema, from
   ``pg_stat_user_tables``, per second, counted from 15 s after the peak so that its own delayed statistics
   are not counted); target about 0 (open pages must not poll the core).

    .venv/bin/python bench/peak.py [--subscribers 1000] [--minutes 10] [--replies 100] [--idle 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import AGENT_PASSWORD, Tab, _names, _setup  # noqa: E402
from bench.web import percentile  # noqa: E402
from tests.e2e.app_process import RunningApp, pg_schema, start_app  # noqa: E402


def _scans(schema_url: str) -> int:
    """Index and sequential scans so far on the tables of the run's schema (the core's reads and writes)."""
    engine = create_engine(schema_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
                        "FROM pg_stat_user_tables WHERE schemaname = current_schema()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


async def _arrive(tab: Tab, invoice_id: str, names: dict[str, str], usable: list[float]) -> None:
    """One subscriber opens the link: socket, link, invoice (timed to the invoice's delta), thread."""
    started = time.perf_counter()
    await tab.open()
    await tab.event(f"{names['link']}.open", {})
    tab.router = {
        "pathname": "/invoices/[invoice_id]",
        "query": {"invoice_id": invoice_id},
        "asPath": f"/invoices/{invoice_id}",
    }
    await tab.event(f"{names['invoice']}.open_invoice", {"invoice_id": invoice_id}, until=invoice_id)
    usable.append(time.perf_counter() - started)
    await tab.event(f"{names['thread']}.open", {"invoice_id": invoice_id})


async def _answer(core: httpx.AsyncClient, headers: dict[str, str], tab: Tab, invoice_id: str) -> float:
    answer = f"Svar {uuid.uuid4().hex[:10]}"
    arrived = tab.watch(answer)
    sent = time.perf_counter()
    resp = await core.post(f"/invoices/{invoice_id}/thread/messages", headers=headers, json={"text": answer})
    resp.raise_for_status()
    return (await asyncio.wait_for(arrived, 30)) - sent


async def run(app: RunningApp, subscribers: int, minutes: float, replies: int, idle_s: float) -> dict[str, Any]:
    names = _names()
    invoices, _service = await asyncio.to_thread(_setup, app, subscribers)
    rng = random.Random(7)
    span = minutes * 60
    arrivals = sorted(rng.uniform(0, span) for _ in invoices)
    reply_times = sorted(rng.uniform(span * 0.05, span) for _ in range(replies))
    tabs = [Tab(app, "/i/[link_token]", {"link_token": x["link"]}, f"/i/{x['link']}") for x in invoices]
    usable: list[float] = []
    reply_ms: list[float] = []
    opened: list[int] = []
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=app.core_url, timeout=60) as core:
        login = await core.post(
            "/agent-auth/login",
            headers={"Authorization": f"Bearer {app.service_token()}"},
            json={"username": "bench-agent", "password": AGENT_PASSWORD},
        )
        agent = {"Authorization": f"Bearer {login.json()['access_token']}"}
        t0 = time.perf_counter()

        async def subscriber(i: int) -> None:
            await asyncio.sleep(max(0.0, arrivals[i] - (time.perf_counter() - t0)))
            try:
                await _arrive(tabs[i], invoices[i]["invoice_id"], names, usable)
                opened.append(i)
            except Exception as exc:  # reported, not hidden: a failed arrival is a failed peak
                failures.append(f"arrival {i}: {type(exc).__name__}: {exc}")

        async def agent_answers() -> None:
            for at in reply_times:
                await asyncio.sleep(max(0.0, at - (time.perf_counter() - t0)))
                if not opened:
                    continue
                i = rng.choice(opened)
                try:
                    reply_ms.append(1000 * await _answer(core, agent, tabs[i], invoices[i]["invoice_id"]))
                except Exception as exc:
                    failures.append(f"reply to {i}: {type(exc).__name__}: {exc}")

        scans_before = await asyncio.to_thread(_scans, app.database_url)
        await asyncio.gather(agent_answers(), *(subscriber(i) for i in range(len(tabs))))
        busy_s = time.perf_counter() - t0
        scans_busy = await asyncio.to_thread(_scans, app.database_url)
        print(f"peak over in {busy_s:.0f} s; {len(opened)} pages open; idle for {idle_s:g} s…", file=sys.stderr)
        # PostgreSQL flushes a backend's table statistics up to 10 s after its last query (PGSTAT_IDLE_INTERVAL):
        # let the peak's own counts land before the quiet window starts.
        await asyncio.sleep(15)
        idle_start = await asyncio.to_thread(_scans, app.database_url)
        await asyncio.sleep(idle_s)
        idle_end = await asyncio.to_thread(_scans, app.database_url)
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)
    return {
        "usable_ms": [x * 1000 for x in usable],
        "reply_ms": reply_ms,
        "open": len(opened),
        "failures": failures,
        "busy_scans_per_s": (scans_busy - scans_before) / busy_s,
        "idle_scans_per_s": (idle_end - idle_start) / idle_s,
    }


def _line(label: str, values: list[float], target: float) -> str:
    if not values:
        return f"  {label:<22} no samples"
    p95 = percentile(values, 0.95)
    return (
        f"  {label:<22} n={len(values):<5} p50 {statistics.median(values):6.0f} ms   p95 {p95:6.0f} ms   "
        f"max {max(values):6.0f} ms   (target p95 <= {target:g} ms: {'met' if p95 <= target else 'NOT met'})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--replies", type=int, default=100)
    ap.add_argument("--idle", type=float, default=30.0, help="seconds of quiet with every page open")
    args = ap.parse_args(argv)

    schema, url, drop = pg_schema()
    with tempfile.TemporaryDirectory(prefix="bench-peak-") as tmp:
        workdir = Path(tmp)
        print("starting the app at scale (Redis, PostgreSQL, 2 workers) with `reflex run --env prod`…", file=sys.stderr)
        t0 = time.perf_counter()
        app = start_app(
            workdir,
            database_url=url,
            scale=True,
            seed_args=["--customers", str(args.subscribers + 20), "--months", "1"],
        )
        try:
            print(f"ready in {time.perf_counter() - t0:.0f} s at {app.url} (schema {schema})", file=sys.stderr)
            result = asyncio.run(run(app, args.subscribers, args.minutes, args.replies, args.idle))
        finally:
            app.stop()
            drop()

    print(
        f"\nbench/peak.py: {args.subscribers} subscribers open their invoice link within {args.minutes:g} min "
        f"(scale mode: Redis, PostgreSQL, 2 workers); one agent answers {args.replies} of them meanwhile"
    )
    print(_line("usable invoice", result["usable_ms"], 1000))
    print(_line("agent reply -> page", result["reply_ms"], 500))
    print(
        f"  core database during the peak: {result['busy_scans_per_s']:.1f} scans/s; with {result['open']} pages "
        f"open and idle: {result['idle_scans_per_s']:.2f} scans/s (target about 0)"
    )
    for failure in result["failures"][:10]:
        print(f"  FAILED {failure}")
    if len(result["failures"]) > 10:
        print(f"  … and {len(result['failures']) - 10} more failures")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
