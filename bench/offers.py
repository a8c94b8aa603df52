"""Offers: re-rating a subscriber's last three periods under every plan, and the banner lookup.

On a seeded operator (``python -m backend_stub seed --customers 50 --months 4`` into a temp SQLite
file, or ``--db URL``), with the demo offers scheduled:

1. re-rating: one mobile subscriber with a typical month of usage (the median number of events
   per month among mobile subscriptions) re-rated under every plan of its kind for its last three
   invoiced periods (``recommend.compute``, events in memory), ``--runs`` times; median and p95.
   The same with loading the events from the database (``recommendation(use_cache=False)``).
   Target ≤ 200 ms.
2. banner lookup (``offers.banners_for``, what ``GET /customers/{cid}/offers`` does on every
   overview and invoice page): every customer once with empty caches (cold), then again with the
   targeting caches filled (warm); median and p95.
3. a segment preview over all customers (cold and warm caches).

    .venv/bin/python bench/offers.py [--customers 50] [--months 4] [--runs 20] [--db URL]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, select  # noqa: E402

from backend_stub import clock
from backend_stub.core import Core  # noqa: E402
from backend_stub.demo import offers
from backend_stub.services.offers import banners, marketing, recommend, targeting  # noqa: E402
from backend_stub.storage.models import billing as m  # noqa: E402
from backend_stub.storage.models.offers import OfferRecommendation, OfferUsageStats  # noqa: E402
from backend_stub.storage.repo import load_subscriptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {percentile(values, 0.95) * 1000:7.1f} ms"


def seed(url: str, customers: int, months: int, today: date) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "backend_stub",
            "seed",
            "--customers",
            str(customers),
            "--months",
            str(months),
            "--today",
            today.isoformat(),
        ],
        cwd=ROOT,
        check=True,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
    )


def typical_subscription(core: Core, today: date, *, busiest: bool = False):
    """The mobile subscription whose events per invoiced month are the median of all mobile ones (or the most)."""
    cat = core.catalogue
    with core.engine.connect() as conn:
        counts = conn.execute(
            select(
                m.UsageEvent.subscription_id, func.count(), func.count(m.UsageEvent.period_start.distinct())
            ).group_by(m.UsageEvent.subscription_id)
        ).all()
        per_month = {sid: n / max(1, months) for sid, n, months in counts}
        subs = [
            s
            for s in load_subscriptions(conn)
            if s.segment_on(today) is not None
            and cat.plans[s.segment_on(today).plan_id].kind == "mobile"
            and s.id in per_month
        ]
    subs.sort(key=lambda s: per_month[s.id])
    chosen = subs[-1] if busiest else subs[len(subs) // 2]
    return chosen, per_month[chosen.id]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=50)
    ap.add_argument("--months", type=int, default=4)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--db", help="an already seeded database (default: seed a temp SQLite file)")
    args = ap.parse_args()
    today = clock.today()
    now = clock.now()
    tmp = tempfile.TemporaryDirectory()
    url = args.db
    if url is None:
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
        t0 = time.perf_counter()
        seed(url, args.customers, args.months, today)
        print(f"seeded {args.customers} customers, {args.months} months into {url} in {time.perf_counter() - t0:.1f} s")
    core = Core.from_url(url)
    cat = core.catalogue
    offers.seed_demo_offers(core.engine, cat, now=now)

    for label, busiest in (("typical", False), ("busiest", True)):
        sub, events_per_month = typical_subscription(core, today, busiest=busiest)
        with core.engine.connect() as conn:
            periods = recommend.last_invoiced_periods(conn, sub.customer_id)
            events = recommend.load_events(conn, sub, periods)
        n_events = sum(len(v) for v in events.values())
        plans = len(recommend.candidate_plans(cat, cat.plans[recommend.current_plan_id(sub, today)]))
        print(
            f"\n1. re-rating the {label} subscription {sub.id} ({sub.msisdn}): {len(periods)} periods, "
            f"{n_events} events (~{events_per_month:.0f} a month), under {plans} plans, {args.runs} runs"
        )
        pure, loaded = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = recommend.compute(cat, sub, periods, events, today)
            pure.append(time.perf_counter() - t0)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with core.engine.connect() as conn:
                recommend.recommendation(conn, cat, sub, today, use_cache=False)
            loaded.append(time.perf_counter() - t0)
        print(f"   in memory (rate_period + build_invoice):   {ms(pure)}")
        print(f"   with loading the events from the database:  {ms(loaded)}   (target <= 200 ms)")
        print(
            f"   best plan: {result['best_plan_id'] or 'the current one'}; totals "
            + ", ".join(f"{p['plan_id']} {p['total_ore'] / 100:.2f} kr" for p in result["plans"])
        )

    with core.engine.connect() as conn:
        customer_ids = list(conn.execute(select(m.Customer.id).order_by(m.Customer.id)).scalars())
    with core.engine.begin() as conn:
        conn.execute(delete(OfferUsageStats))
        conn.execute(delete(OfferRecommendation))
    cold, warm, shown = [], [], 0
    for cid in customer_ids:
        t0 = time.perf_counter()
        got = banners.banners_for(core.engine, cat, cid, placement="invoice", now=now)
        cold.append(time.perf_counter() - t0)
        shown += bool(got)
    for _ in range(max(1, args.runs // 10)):
        for cid in customer_ids:
            t0 = time.perf_counter()
            banners.banners_for(core.engine, cat, cid, placement="invoice", now=now)
            warm.append(time.perf_counter() - t0)
    print(
        f"\n2. banner lookup, {len(customer_ids)} customers ({shown} see a banner), "
        f"{len(marketing.list_offers(core.engine))} offers on the air"
    )
    print(f"   cold caches (first page view):  {ms(cold)}")
    print(f"   warm caches (every later view): {ms(warm)}")

    rules = targeting.parse_rules(offers.DEMO_OFFERS[0][0]["rules"], cat)
    with core.engine.begin() as conn:
        conn.execute(delete(OfferUsageStats))
    timings = []
    for _ in range(2):
        t0 = time.perf_counter()
        with core.engine.begin() as conn:
            out = targeting.preview(conn, cat, rules, targeting.Sells("plan", "mobil-20gb"), today)
        timings.append(time.perf_counter() - t0)
    print(
        f"\n3. segment preview (heavy data users) over {out['total']} subscribers: {out['matching']} match; "
        f"cold {timings[0] * 1000:.0f} ms, warm {timings[1] * 1000:.0f} ms"
    )
    core.engine.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
