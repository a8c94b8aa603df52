"""Benchmark: import + rating + persistence of 1,000,000 CDRs, the usage alerts it calls for, and the bill run.

    python bench/rating.py [--cdrs 1000000] [--subscribers 10000] [--db sqlite|postgres|both] [--alerts on|off|both]
                           [--profile DIR]

Generates the customers and the usage CSV (in a child process, not timed), then times the
import of the CSV (parse, validate, de-duplicate, rate, store) and the bill run of the
month on a fresh database, and prints CDRs/s, invoices/s and the peak memory (RSS) of the
process that imported and billed (``--profile DIR``: also a cProfile of each bill run,
``DIR/billrun-<database>.prof``, which slows it). Targets (issue 2): ≥ 100,000 CDRs/s on SQLite, bill run
of 10,000 accounts ≤ 30 s, peak memory ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 15)  # the bench month is October 2026
ALERTS_NOW = "2026-11-01T00:30:00+01:00"  # the import runs just after the month's last records: nothing late


def generate(workdir: Path, cdrs: int, subscribers: int) -> tuple[Path, Path]:
    """Write customers.csv and cdrs.csv (exactly ``cdrs`` rows over ``subscribers`` subscriptions)."""
    from backend_stub.demo import demo_data

    per_sub = cdrs // subscribers
    rows = demo_data.generate_customers(int(subscribers * 1.25) + 100, seed=7, today=TODAY, months=1)
    first, last = demo_data.usage_months(TODAY, 1)[0]
    keep: list[dict[str, str]] = []
    chosen: set[str] = set()
    accounts: set[str] = set()
    for r in rows:
        if not r["msisdn"] or r["customer_number"] in accounts:
            continue  # one mobile subscription per account: 10,000 subscriptions = 10,000 invoices
        start = date.fromisoformat(r["start_date"])
        end = date.fromisoformat(r["end_date"]) if r["end_date"] else None
        if start > first or (end is not None and end < last):
            continue  # keep subscriptions active the whole month, so the row count is exact
        if r["subscription_id"] not in chosen and len(chosen) >= subscribers:
            continue
        chosen.add(r["subscription_id"])
        accounts.add(r["customer_number"])
        keep.append(r)
    if len(chosen) < subscribers:
        raise SystemExit(f"only {len(chosen)} subscriptions generated; raise the customer count")
    customers_csv = workdir / "customers.csv"
    cdrs_csv = workdir / "cdrs.csv"
    demo_data.write_customers_csv(customers_csv, keep)
    n = demo_data.write_cdr_csv(
        cdrs_csv, demo_data.generate_cdrs(keep, months=1, today=TODAY, seed=7, per_sub_per_month=per_sub)
    )
    print(f"generated {n} CDRs for {len(chosen)} subscriptions", file=sys.stderr)
    return customers_csv, cdrs_csv


def run_one(
    url: str, customers_csv: Path, cdrs_csv: Path, profile: Path | None = None, alerts: bool = True
) -> dict[str, float]:
    """Import and bill on ``url`` (a fresh database); returns the figures."""
    from backend_stub.core import Core
    from backend_stub.formats.cdr_csv import read_cdr_csv
    from backend_stub.services.billing.billrun import run_bill_run
    from backend_stub.services.billing.customers import import_customers, read_customers_csv
    from backend_stub.services.billing.usage import UsageImporter

    core = Core.from_url(url)
    with open(customers_csv, encoding="utf-8", newline="") as fh:
        cust = import_customers(core.engine, core.catalogue, read_customers_csv(fh))
    assert not cust.errors, cust.errors[:3]
    from backend_stub import clock

    t0 = time.perf_counter()
    with open(cdrs_csv, encoding="utf-8", newline="") as fh, clock.use(clock.FrozenClock(ALERTS_NOW)):
        importer = UsageImporter(core.engine, core.catalogue, parallel=True, alerts=alerts)
        result = importer.import_rows(read_cdr_csv(fh), "bench")
    t_import = time.perf_counter() - t0
    assert result.read == result.rated + result.duplicate + result.rejected
    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    bill = run_bill_run(core.engine, core.catalogue, "2026-10")
    t_bill = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    core.engine.dispose()
    return {
        "cdrs": result.read,
        "rated": result.rated,
        "rejected": result.rejected,
        "import_s": round(t_import, 2),
        "cdrs_per_s": round(result.read / t_import),
        "alerts_s": round(result.timings.get("after_commit", 0.0), 2),
        "alerts": result.alerts,
        "invoices": bill.invoices,
        "bill_run_s": round(t_bill, 2),
        "invoices_per_s": round(bill.invoices / t_bill) if t_bill else 0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "phases": {k: round(v, 2) for k, v in result.timings.items()},
    }


def fresh_postgres() -> str:
    """Create an empty database ``selfcare_bench`` on the local server and return its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS selfcare_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE selfcare_bench"))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/selfcare_bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cdrs", type=int, default=1_000_000)
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--profile", type=Path, help="write a cProfile of each bill run to this directory")
    ap.add_argument(
        "--alerts",
        choices=["on", "off", "both"],
        default="on",
        help="the usage alerts in the import (both: each database twice, without and with, to compare)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # one measurement in a fresh process, so peak memory is its own
        url, customers_csv, cdrs_csv, profile, alerts = args.child.split("|")
        figures = run_one(url, Path(customers_csv), Path(cdrs_csv), Path(profile) if profile else None, alerts == "on")
        print(json.dumps(figures))
        return
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                f"from bench.rating import generate; from pathlib import Path; "
                f"generate(Path({tmp!r}), {args.cdrs}, {args.subscribers})",
            ],
            check=True,
            cwd=ROOT,
        )
        customers_csv, cdrs_csv = workdir / "customers.csv", workdir / "cdrs.csv"
        targets = []
        if args.db in ("sqlite", "both"):
            targets.append(("SQLite", lambda tag: f"sqlite:///{workdir / f'bench-{tag}.db'}"))
        if args.db in ("postgres", "both"):
            targets.append(("PostgreSQL", lambda tag: fresh_postgres()))
        with open(cdrs_csv, encoding="utf-8") as fh:
            rows = sum(1 for _ in csv.reader(fh)) - 1
        print(f"{rows} CDRs, {args.subscribers} subscriptions, period 2026-10")
        print(
            f"{'database':<11} {'alerts':>6} {'CDRs/s':>9} {'import s':>9} {'invoices':>9} {'bill run s':>11} "
            f"{'invoices/s':>11} {'peak MB':>8}"
        )
        modes = ["off", "on"] if args.alerts == "both" else [args.alerts]
        for name, url_for in targets:
            for mode in modes:
                profile = args.profile.resolve() / f"billrun-{name.lower()}.prof" if args.profile else ""
                child = f"{url_for(mode)}|{customers_csv}|{cdrs_csv}|{profile}|{mode}"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", child], check=True, capture_output=True, text=True, cwd=ROOT
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{name:<11} {mode:>6} {r['cdrs_per_s']:>9,} {r['import_s']:>9} {r['invoices']:>9,} "
                    f"{r['bill_run_s']:>11} {r['invoices_per_s']:>11,} {r['peak_rss_mb']:>8}",
                    flush=True,
                )
                print(f"{'':<11} import phases (s): {r['phases']}", flush=True)
                if mode == "on":
                    print(
                        f"{'':<11} usage alerts: {r['alerts']:,}, found in the rating pass; after the commit "
                        f"(recording and sending them) {r['alerts_s']} s",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
