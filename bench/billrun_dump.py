"""What the bill runs store, as text: to check that a change of the bill run's speed changes nothing else.

    python bench/billrun_dump.py OUT.txt [--db sqlite|postgres] [--tree DIR]

Seeds a small operator with this tree's code on a fresh database (300 customers, five months of
usage, instalments, add-ons, one-off charges and discounts, each month billed and most invoices
paid), imports late usage of the billed November and bills December; then writes every table,
sorted, to OUT.txt. The clock is frozen and invoice ids are drawn from a seeded generator and
written as their numbers, so two trees that store the same give byte-identical files
(``--tree``: the checkout whose ``backend_stub`` runs, default this one):

    python bench/billrun_dump.py --tree ../main /tmp/old.txt && python bench/billrun_dump.py /tmp/new.txt
    cmp /tmp/old.txt /tmp/new.txt

On PostgreSQL every value is read as the database's text (the JSON documents as stored).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = "2026-12-05T10:00:00+01:00"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VOLATILE = {"customers": {"created_at"}}  # stamped with the wall clock by the import
SKIPPED = {"alembic_version", "import_batches"}


def late_usage_csv(msisdns: list[str]) -> str:
    """Usage of November (billed by the seed) arriving late: data, calls, texts and some roaming calls."""
    rows = ["record_id,msisdn,service,started_at,duration_s,volume_bytes,called_number,visited_country"]
    for i, msisdn in enumerate(msisdns):
        rows.append(f"late-{i}-a,{msisdn},data,2026-11-20T10:00:00+01:00,,{(i + 1) * 150_000_000},,")
        rows.append(f"late-{i}-b,{msisdn},voice,2026-11-21T10:00:00+01:00,{60 + i * 7},,+4670123{i:04d},")
        rows.append(f"late-{i}-c,{msisdn},sms,2026-11-22T10:00:00+01:00,,,+4670999{i:04d},")
        if i % 5 == 0:
            rows.append(f"late-{i}-d,{msisdn},voice,2026-11-23T10:00:00+01:00,{300 + i},,+4940123{i:04d},DE")
    return "\n".join(rows) + "\n"


def dump(url: str, out: Path, postgres: bool) -> None:
    from sqlalchemy import inspect, text

    from backend_stub.core import Core
    from backend_stub.demo.seed import seed
    from backend_stub.formats.cdr_csv import read_cdr_csv
    from backend_stub.services.billing.billrun import run_bill_run
    from backend_stub.services.billing.usage import UsageImporter

    core = Core.from_url(url)
    seeded = seed(core, 300, 5, today=date(2026, 12, 5), quiet=True, live=False)
    with core.engine.connect() as conn:
        msisdns = list(
            conn.execute(
                text("SELECT msisdn FROM subscriptions WHERE msisdn IS NOT NULL ORDER BY id LIMIT 40")
            ).scalars()
        )
    late = UsageImporter(core.engine, core.catalogue).import_rows(
        read_cdr_csv(io.StringIO(late_usage_csv(msisdns))), "late"
    )
    december = run_bill_run(core.engine, core.catalogue, "2026-12", today=date(2026, 12, 5), allow_open_period=True)
    print(
        f"seeded {seeded['invoices']} invoices; late usage rated {late.rated}; December: {december.as_dict()}",
        file=sys.stderr,
    )
    with open(out, "w", encoding="utf-8") as fh, core.engine.connect() as conn:
        numbers = {r[0]: f"INV#{r[1]}" for r in conn.execute(text("SELECT id, number FROM invoices"))}
        inspector = inspect(conn)
        for table in sorted(set(inspector.get_table_names()) - SKIPPED):
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in VOLATILE.get(table, ())]
            chosen = ", ".join(f'"{c}"::text' if postgres else f'"{c}"' for c in columns)
            rows = sorted(
                UUID_RE.sub(lambda found: numbers.get(found.group(0), "UUID?"), repr(tuple(r)))
                for r in conn.execute(text(f'SELECT {chosen} FROM "{table}"'))
            )
            fh.write(f"== {table} {len(rows)} rows\n")
            fh.writelines(row + "\n" for row in rows)
    core.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose backend_stub is run")
    args = ap.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    ids = random.Random(42)  # invoice ids (and any other uuid4) the same on every run
    uuid.uuid4 = lambda: uuid.UUID(int=ids.getrandbits(128), version=4)
    from sqlalchemy import create_engine, text

    import backend_stub
    from backend_stub import clock

    print(f"backend_stub from {Path(backend_stub.__file__).parent}", file=sys.stderr)
    with clock.use(clock.FrozenClock(NOW)), tempfile.TemporaryDirectory(prefix="billrun-dump-") as tmp:
        if args.db == "sqlite":
            dump(f"sqlite:///{Path(tmp) / 'dump.db'}", args.out, postgres=False)
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS selfcare_billrun_dump WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE selfcare_billrun_dump"))
        try:
            dump(PG_ADMIN_URL.rsplit("/", 1)[0] + "/selfcare_billrun_dump", args.out, postgres=True)
        finally:
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS selfcare_billrun_dump WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
