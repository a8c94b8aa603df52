"""Does sign-in take longer for an account that exists? Timed against the core's ASGI app in process.

For each of the two sign-in calls (``POST /auth/otp/request``, and ``POST /auth/otp/verify`` with
a wrong code right after asking for a code, as a prober would), sends ``--requests`` requests
for identifiers of existing accounts and as many for identifiers that belong to nobody (the
same number of distinct ones, each used as often), alternating, each timed on its own (httpx
over ``ASGITransport``, so no network: only the core's own work). Half of each set are
customer numbers, half phone numbers (in national format, as people type them).

Prints the median of each set and the difference (target: at most 0,2 ms), and how well
the best single threshold on the time tells the two sets apart (50 % is a coin toss).

The business clock is frozen and moved a day on between requests, so that no rate limit
refuses anything (a refusal would be quicker and would measure the limit, not the account).
The core sends a code's message on a worker thread after answering; the benchmark waits for
it (untimed) before the next request, so that it is counted neither for the request that
caused it nor against whichever request came next.

    .venv/bin/python bench/signin_timing.py [--requests 1000] [--customers 50] [--db sqlite|postgres]
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
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_stub import clock  # noqa: E402
from backend_stub.api.app import create_app  # noqa: E402
from backend_stub.core import Core  # noqa: E402
from backend_stub.demo.demo_data import generate_customers  # noqa: E402
from backend_stub.services.access import signin  # noqa: E402
from backend_stub.services.access.tokens import AuthSettings, Role, issue_token  # noqa: E402
from backend_stub.services.billing.customers import import_customers  # noqa: E402
from backend_stub.storage.db import make_engine  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
START = "2026-12-05T10:00:00+01:00"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def national(msisdn: str) -> str:
    """``+46701234567`` → ``070-123 45 67`` (how a subscriber types it)."""
    digits = "0" + msisdn[3:]
    return f"{digits[:3]}-{digits[3:6]} {digits[6:8]} {digits[8:]}"


def identifiers(core: Core, count: int) -> tuple[list[str], list[str]]:
    """``count`` identifiers of existing accounts and ``count`` of none (half numbers, half phones)."""
    from sqlalchemy import select

    from backend_stub.storage.models import billing as m

    with core.engine.connect() as conn:
        rows = conn.execute(select(m.Customer.customer_number, m.Customer.phone)).all()
    numbers = [r.customer_number for r in rows]
    phones = [national(r.phone) for r in rows if r.phone and r.phone.startswith("+467")]
    phones = phones or numbers
    existing = [numbers[i // 2 % len(numbers)] if i % 2 else phones[i // 2 % len(phones)] for i in range(count)]
    # As many identifiers of nobody, used as often each: the same pattern of first and repeated uses.
    nobody_numbers = [f"K9{i:05d}" for i in range(len(numbers))]
    nobody_phones = [national(f"+46739{i:06d}") for i in range(len(phones))]
    missing = [
        nobody_numbers[i // 2 % len(nobody_numbers)] if i % 2 else nobody_phones[i // 2 % len(nobody_phones)]
        for i in range(count)
    ]
    return existing, missing


async def measure(
    client: httpx.AsyncClient,
    frozen: clock.FrozenClock,
    path: str,
    body_of,
    existing: list[str],
    missing: list[str],
    *,
    ask_first: bool = False,
) -> tuple[list[float], list[float], dict[int, int]]:
    """Time ``path`` for each identifier; ``ask_first``: ask for a code first (untimed), as a prober would.

    Existing and missing alternate in pairs (which comes first is random), so that drift in the
    machine's speed falls on both alike."""
    rng = random.Random(7)
    jobs = []
    for pair in zip(existing, missing, strict=True):
        first = rng.random() < 0.5
        jobs += [(first, pair[0] if first else pair[1]), (not first, pair[1] if first else pair[0])]
    times: dict[bool, list[float]] = {True: [], False: []}
    statuses: dict[int, int] = {}
    for exists, identifier in jobs:
        frozen.advance(timedelta(days=1))
        body = body_of(identifier)
        if ask_first:
            await client.post("/auth/otp/request", json={"identifier": identifier})
            await asyncio.to_thread(flush)  # the code's message is out before the timed guess
        start = time.perf_counter()
        resp = await client.post(path, json=body)
        times[exists].append((time.perf_counter() - start) * 1000)
        await asyncio.to_thread(flush)  # a message sent after the answer is not the next request's cost
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
    return times[True], times[False], statuses


def flush() -> None:
    """Wait for sign-in messages still being sent on worker threads (where the core sends them so)."""
    deliveries = getattr(signin, "DELIVERIES", None)
    if deliveries is not None:
        deliveries.flush()


def best_split(a: list[float], b: list[float]) -> float:
    """The share of requests one threshold on the time classifies right (existing vs not)."""
    both = sorted([(t, 1) for t in a] + [(t, 0) for t in b])
    total, ones = len(both), len(a)
    best, below_ones, below = 0.0, 0, 0
    for _t, label in both:
        below += 1
        below_ones += label
        # "slower than t → exists" and the reverse
        right = (ones - below_ones) + (below - below_ones)
        best = max(best, right / total, 1 - right / total)
    return best


def report(name: str, a: list[float], b: list[float], statuses: dict[int, int]) -> float:
    ma, mb = statistics.median(a), statistics.median(b)
    paired = statistics.median(x - y for x, y in zip(a, b, strict=True))
    print(
        f"{name}: existing median {ma:.3f} ms, non-existing median {mb:.3f} ms, "
        f"difference {ma - mb:+.3f} ms (|Δ| ≤ 0.200 ms: {'yes' if abs(ma - mb) <= 0.2 else 'NO'}; "
        f"median of paired differences {paired:+.3f} ms); "
        f"one threshold classifies {best_split(a, b):.0%}; answers {dict(sorted(statuses.items()))}"
    )
    return ma - mb


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "postgres":
            from sqlalchemy import create_engine, text

            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            with clock.use(clock.FrozenClock(START)) as frozen:
                core = Core(make_engine(url))
                rows = generate_customers(args.customers, seed=3, today=date(2026, 12, 5), months=1)
                import_customers(core.engine, core.catalogue, [(i + 2, r) for i, r in enumerate(rows)])
                auth = AuthSettings(secret=SECRET)
                app = create_app(core, auth=auth)
                service = issue_token(auth, subject="bench", role=Role.SERVICE, ttl=timedelta(hours=2))
                existing, missing = identifiers(core, args.requests)
                headers = {"Authorization": f"Bearer {service}"}
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://core", headers=headers
                ) as client:
                    # warm up: code paths, connection pool, statement caches
                    await measure(
                        client, frozen, "/auth/otp/request", lambda i: {"identifier": i}, existing[:50], missing[:50]
                    )
                    req = await measure(
                        client, frozen, "/auth/otp/request", lambda i: {"identifier": i}, existing, missing
                    )
                    ver = await measure(
                        client,
                        frozen,
                        "/auth/otp/verify",
                        lambda i: {"identifier": i, "code": "000000"},
                        existing,
                        missing,
                        ask_first=True,
                    )
                core.engine.dispose()
        finally:
            if args.db == "postgres":
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    print(
        f"{args.requests} requests each for existing and non-existing identifiers ({args.db}, "
        f"{args.customers} customers)"
    )
    d1 = report("POST /auth/otp/request", *req)
    d2 = report("POST /auth/otp/verify (wrong code)", *ver)
    return 0 if max(abs(d1), abs(d2)) <= 0.2 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
