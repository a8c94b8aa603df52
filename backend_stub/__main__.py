"""Command line of the billing core: ``python -m backend_stub COMMAND``.

Every command works on the database named by ``DATABASE_URL`` (default: a SQLite file
``var/selfcare.db``). ``--json`` prints machine-readable results.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from backend_stub.cli_common import fail, open_core, print_result
from backend_stub.domain.catalogue import CatalogueError
from selfcare_common import deployment


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend_stub.api.app import create_app

    # Outside dev, no secret: refuse before the database is touched (main() prints the reason).
    deployment.require_secret()
    uvicorn.run(create_app(open_core()), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_load_catalogue(args: argparse.Namespace) -> int:
    try:
        cat = open_core().load_catalogue_file(args.file)
    except CatalogueError as exc:
        print(f"{args.file}: invalid catalogue", file=sys.stderr)
        for err in exc.located:  # every error, with its TOML line where known
            print(f"  {err}", file=sys.stderr)
        if args.json:
            print(json.dumps({"file": args.file, "errors": exc.errors}, ensure_ascii=False, indent=2))
        return 2
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    for warning in cat.warnings:  # not errors: English shows the Swedish text
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    print_result({"plans": len(cat.plans), "destinations": len(cat.destinations), "zones": len(cat.zones)}, args.json,
                 f"Loaded {args.file}: {len(cat.plans)} plans, {len(cat.destinations)} destination classes, "
                 f"{len(cat.zones)} roaming zones.")
    return 0


def cmd_import_customers(args: argparse.Namespace) -> int:
    from backend_stub.services.billing.customers import import_customers, read_customers_csv

    core = open_core()
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as fh:
            result = import_customers(core.engine, core.catalogue, read_customers_csv(fh))
    except (OSError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    for err in result.errors:
        print(f"{args.file}: {err}", file=sys.stderr)
    print_result(result.as_dict(), args.json,
                 f"Imported {result.subscriptions} subscriptions of {result.customers} customers "
                 f"from {result.rows} rows; {len(result.errors)} errors.")
    return 1 if result.errors else 0


def cmd_import_cdrs(args: argparse.Namespace) -> int:
    """Import a usage CSV. Every row ends rated, duplicate or in suspense (exit 0); a file that
    cannot be read at all imports nothing and exits 2. ``--json`` always prints an object."""
    from backend_stub.formats.cdr_csv import CdrFileError, read_cdr_csv
    from backend_stub.services.billing.usage import UsageImporter

    core = open_core()
    try:
        with open(args.file, encoding="utf-8-sig", newline="", errors="surrogateescape") as fh:
            result = UsageImporter(core.engine, core.catalogue, parallel=True).import_rows(read_cdr_csv(fh),
                                                                                      Path(args.file).name)
    except CdrFileError as exc:
        error = str(exc)
    except OSError as exc:
        error = exc.strerror or str(exc)
    except UnicodeDecodeError as exc:
        error = f"not UTF-8 ({exc.reason} at byte {exc.start})"
    else:
        error = ""
    if error:
        print(f"{args.file}: {error}", file=sys.stderr)
        if args.json:
            print(json.dumps({"file": args.file, "error": error, "read": 0, "rated": 0, "duplicate": 0,
                              "rejected": 0}, ensure_ascii=False, indent=2))
        return 2
    if not args.json:
        for e in result.errors:
            print(f"{args.file}: line {e['line']}: {e['field']}: {e['reason']}", file=sys.stderr)
    out = {"read": result.read, "rated": result.rated, "duplicate": result.duplicate, "rejected": result.rejected,
           "suspense": result.rejected, "rerated": result.rerated, "suspense_errors": result.errors}
    print_result(out, args.json,
                 f"read {result.read}, rated {result.rated}, duplicate {result.duplicate}, rejected {result.rejected}"
                 + (f" (re-rated {result.rerated})" if result.rerated else ""))
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from backend_stub.services.billing.usage import UsageImporter

    core = open_core()
    result = UsageImporter(core.engine, core.catalogue).reprocess_suspense()
    print_result(result.as_dict(), args.json,
                 f"re-processed {result.read}: rated {result.rated}, still rejected {result.rejected}, "
                 f"duplicate {result.duplicate}")
    return 0


def cmd_bill_run(args: argparse.Namespace) -> int:
    from backend_stub.services.billing.billrun import run_bill_run

    core = open_core()
    try:
        inv_date = date.fromisoformat(args.invoice_date) if args.invoice_date else None
        from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig

        result = run_bill_run(core.engine, core.catalogue, args.period, invoice_date=inv_date,
                              today=core.today(), allow_open_period=args.allow_open_period,
                              small_balance_ore=LifecycleConfig.from_env().dunning.small_balance_ore)
    except ValueError as exc:
        return fail(str(exc))
    d = result.as_dict()
    print_result(d, args.json, f"Bill run {result.period}: {result.invoices} invoices issued "
                 f"({d['first_number']}–{d['last_number']}), {result.skipped} already invoiced."
                 if result.invoices else f"Bill run {result.period}: nothing new to invoice.")
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    from backend_stub.services.billing.invoices import invoices_for_period

    try:
        docs = invoices_for_period(open_core().engine, args.period)
    except ValueError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
    else:
        for d in docs:
            print(f"{d['number']}  {d['customer_number']:<10} {d['invoice_date']}  due {d['due_date']}  "
                  f"{d['amount_due_ore'] / 100:>10.2f} kr  {d['status']}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
    from backend_stub.services.billing.customers import find_customer_id

    role = Role(args.role)
    cid = None
    if role == Role.SUBSCRIBER:
        if not args.customer:
            return fail("--customer is required for a subscriber token")
        cid = find_customer_id(open_core().engine, args.customer)
        if cid is None:
            return fail(f"no customer {args.customer}")
    print(issue_token(AuthSettings.from_env(), subject=args.subject or args.customer or role.value, role=role,
                      customer_id=cid, ttl=timedelta(hours=args.hours)))
    return 0


def seed(core, customers: int, months: int, *, today: date | None = None, cdr_out: str | None = None,
         seed_value: int = 1, quiet: bool = False, live: bool = False) -> dict[str, Any]:
    """A believable demo operator: customers, M months of usage, and with ``live`` (the ``seed`` and
    ``demo`` commands) the year lived day by day through the services (``demo_year``). Without it
    (small fixtures of other tests) the months are billed and most invoices marked paid at once."""
    from backend_stub import demo_data, demo_year
    from backend_stub.formats.cdr_csv import read_cdr_csv
    from backend_stub.services.billing.customers import import_customers
    from backend_stub.services.billing.usage import UsageImporter

    today = today or core.today()  # the seeded year ends at the core clock's today
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    rows = demo_data.generate_customers(customers, seed=seed_value, today=today, months=months)
    cust = import_customers(core.engine, core.catalogue, [(i + 2, r) for i, r in enumerate(rows)])
    say(f"customers: {cust.customers}, subscriptions: {cust.subscriptions}")
    buf = io.StringIO()
    n = demo_data.write_cdr_csv(buf, demo_data.generate_cdrs(rows, months=months, today=today, seed=seed_value))
    if cdr_out:
        Path(cdr_out).write_text(buf.getvalue(), encoding="utf-8")
    buf.seek(0)
    imported = UsageImporter(core.engine, core.catalogue, parallel=True).import_rows(read_cdr_csv(buf), "seed")
    say(f"usage records: {n}: rated {imported.rated}, rejected {imported.rejected}")
    say("charges: {instalments} phones on instalment, {addons} add-ons, {charges} one-off charges".format(
        **demo_data.seed_charges(core, today=today, months=months)))
    if not live:
        return _seed_static(core, today, months, seed_value, say) | {
            "customers": cust.customers, "subscriptions": cust.subscriptions, "cdrs": n, "rated": imported.rated,
            "rejected": imported.rejected}
    year = demo_year.live_the_year(core, today=today, months=months, seed=seed_value, say=say)
    counts = year.counts
    say(f"the year {year.start.isoformat()} … {year.end.isoformat()}: {counts.get('invoices', 0)} invoices, "
        f"{counts.get('opened', 0)} opened, {counts.get('bgmax_files', 0)} BgMax files, "
        f"{counts.get('unmatched', 0)} unmatched, {counts.get('reminder_1', 0)} reminders, "
        f"{counts.get('collection', 0)} to collection, {counts.get('credit_notes', 0)} credit notes")
    say("invoices by state (a few customers to sign in as):")
    for state, count in year.states.items():
        say(f"  {state:<14} {count:>5}   e.g. {', '.join(year.examples[state])}")
    return {"customers": cust.customers, "subscriptions": cust.subscriptions, "cdrs": n, "rated": imported.rated,
            "rejected": imported.rejected, "invoices": counts.get("invoices", 0),
            "paid": year.states.get("paid", 0) + year.states.get("paid_card", 0)
            + year.states.get("paid_autogiro", 0), "states": year.states}


def _seed_static(core, today: date, months: int, seed_value: int, say) -> dict[str, Any]:
    """Bill the months and record most invoices as paid at once (the fixture of tests that need a quiet ledger)."""
    import random
    from datetime import UTC, datetime

    from sqlalchemy import select

    from backend_stub import demo_data
    from backend_stub.services.billing.billrun import run_bill_run
    from backend_stub.services.lifecycle import ledger
    from backend_stub.storage.models import billing as m

    rng = random.Random(seed_value)
    invoices = 0
    for first, _last in demo_data.usage_months(today, months):
        invoices += run_bill_run(core.engine, core.catalogue, f"{first.year:04d}-{first.month:02d}",
                                 today=today).invoices
    with core.engine.begin() as conn:
        rows_inv = list(conn.execute(select(m.Invoice).where(m.Invoice.kind == "invoice").order_by(m.Invoice.number)))
        states = ledger.invoice_states(conn, rows_inv, today)
        paid = 0
        for inv in rows_inv:
            if states[inv.id].balance_ore <= 0:
                continue
            due_passed = inv.due_date < today
            # Most pay on time; a few are overdue; the newest invoices are mostly still open.
            if (due_passed and rng.random() < 0.93) or (not due_passed and rng.random() < 0.35):
                pay_day = min(today, inv.due_date - timedelta(days=rng.randint(0, 12)))
                ledger.record_payment(conn, invoice_id=inv.id, reference=f"seed-{inv.number}", method="bankgiro",
                                      amount_ore=states[inv.id].balance_ore, customer_id=inv.customer_id, ocr=inv.ocr,
                                      received_at=datetime(pay_day.year, pay_day.month, pay_day.day, 12, tzinfo=UTC))
                paid += 1
    say(f"invoices: {invoices}, paid: {paid}")
    return {"invoices": invoices, "paid": paid}


def cmd_seed(args: argparse.Namespace) -> int:
    core = open_core()
    today = date.fromisoformat(args.today) if args.today else None
    result = seed(core, args.customers, args.months, today=today, cdr_out=args.cdr_out, seed_value=args.seed,
                  live=True)
    print_result(result, args.json, ", ".join(f"{k} {v}" for k, v in result.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Seed a demo database on first start, print tokens to try the API with, and serve it."""
    from sqlalchemy import func, select

    from backend_stub.storage.models import billing as m

    # No built-in secret: dev (``make serve`` sets SELFCARE_ENV=dev) gets a random one for this process,
    # anything else needs SELFCARE_JWT_SECRET; checked before seeding.
    deployment.require_secret()
    core = open_core()
    with core.engine.connect() as conn:
        empty = not conn.execute(select(func.count()).select_from(m.Customer)).scalar_one()
    if empty:
        print("Seeding the demo operator (first start)…", file=sys.stderr)
        seed(core, args.customers, args.months, live=True)
    from backend_stub.services.access.tokens import AuthSettings, Role, issue_token

    with core.engine.connect() as conn:
        first = conn.execute(select(m.Customer.id, m.Customer.customer_number).order_by(m.Customer.id)).first()
    settings = AuthSettings.from_env()
    print(f"\nCore API: http://{args.host}:{args.port}/docs", file=sys.stderr)
    print(f"Service token:\n  {issue_token(settings, subject='demo', role=Role.SERVICE, ttl=timedelta(days=1))}",
          file=sys.stderr)
    if first:
        token = issue_token(settings, subject=first.customer_number, role=Role.SUBSCRIBER, customer_id=first.id,
                            ttl=timedelta(days=1))
        print(f"Subscriber token ({first.customer_number}):\n  {token}\n", file=sys.stderr)
    args_serve = argparse.Namespace(host=args.host, port=args.port)
    return cmd_serve(args_serve)


# Feature areas with their own commands (each module defines ``register(add)``).
CLI_MODULES: list[str] = ["backend_stub.cli_support", "backend_stub.cli_lifecycle", "backend_stub.cli_offers",
                          "backend_stub.cli_charges", "backend_stub.cli_autopay"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backend_stub", description="Selfcare rating and invoicing core")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--json", action="store_true", help="print a JSON object")
        return sp

    sp = add("serve", cmd_serve, "run the HTTP API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8001)
    sp = add("demo", cmd_demo, "seed demo data on first start and run the API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8001)
    sp.add_argument("--customers", type=int, default=200)
    sp.add_argument("--months", type=int, default=12)
    add("load-catalogue", cmd_load_catalogue, "validate and load a catalogue TOML file").add_argument("file")
    add("import-customers", cmd_import_customers, "import customers CSV (docs/customers-csv.md)").add_argument("file")
    add("import-cdrs", cmd_import_cdrs, "import a usage CSV (spec/cdr-csv.md)").add_argument("file")
    add("reprocess-suspense", cmd_reprocess, "re-run pending suspense rows")
    sp = add("bill-run", cmd_bill_run, "invoice a period for all accounts")
    sp.add_argument("--period", required=True, help="YYYY-MM")
    sp.add_argument("--invoice-date", help="YYYY-MM-DD (default: the day after the period)")
    sp.add_argument("--allow-open-period", action="store_true",
                    help="bill a period that has not ended yet (refused otherwise)")
    sp = add("invoices", cmd_invoices, "list a period's invoices")
    sp.add_argument("--period", required=True, help="YYYY-MM")
    sp = add("seed", cmd_seed, "generate a demo operator")
    sp.add_argument("--customers", type=int, default=200)
    sp.add_argument("--months", type=int, default=12)
    sp.add_argument("--cdr-out", help="also write the generated usage as CSV")
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--today", help="YYYY-MM-DD (default: today)")
    sp = add("token", cmd_token, "issue an API token (development and operations)")
    sp.add_argument("--role", required=True, choices=["subscriber", "agent", "supervisor", "marketing", "service"])
    sp.add_argument("--customer", help="customer number or phone number (subscriber tokens)")
    sp.add_argument("--subject")
    sp.add_argument("--hours", type=int, default=1)
    for module in CLI_MODULES:
        importlib.import_module(module).register(add)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except deployment.ConfigurationError as exc:
        what = "the core server refuses to start" if args.command in ("serve", "demo") else f"{args.command}"
        return fail(f"{what}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
