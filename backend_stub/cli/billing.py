"""CLI commands of billing: ``load-catalogue``, ``import-customers``, ``import-cdrs``, ``reprocess-suspense``,
``bill-run``, ``invoices``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from backend_stub.cli.common import fail, open_core, print_result
from backend_stub.domain.catalogue import CatalogueError
from backend_stub.formats.cdr_csv import CdrFileError, read_cdr_csv
from backend_stub.services.billing.billrun import run_bill_run
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.billing.invoices import invoices_for_period
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig


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
    print_result(
        {"plans": len(cat.plans), "destinations": len(cat.destinations), "zones": len(cat.zones)},
        args.json,
        f"Loaded {args.file}: {len(cat.plans)} plans, {len(cat.destinations)} destination classes, "
        f"{len(cat.zones)} roaming zones.",
    )
    return 0


def cmd_import_customers(args: argparse.Namespace) -> int:
    core = open_core()
    try:
        with open(args.file, encoding="utf-8-sig", newline="") as fh:
            result = import_customers(core.engine, core.catalogue, read_customers_csv(fh))
    except (OSError, ValueError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 2
    for err in result.errors:
        print(f"{args.file}: {err}", file=sys.stderr)
    print_result(
        result.as_dict(),
        args.json,
        f"Imported {result.subscriptions} subscriptions of {result.customers} customers "
        f"from {result.rows} rows; {len(result.errors)} errors.",
    )
    return 1 if result.errors else 0


def cmd_import_cdrs(args: argparse.Namespace) -> int:
    """Import a usage CSV. Every row ends rated, duplicate or in suspense (exit 0); a file that
    cannot be read at all imports nothing and exits 2. ``--json`` always prints an object."""
    core = open_core()
    try:
        with open(args.file, encoding="utf-8-sig", newline="", errors="surrogateescape") as fh:
            result = UsageImporter(core.engine, core.catalogue, parallel=True).import_rows(
                read_cdr_csv(fh), Path(args.file).name
            )
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
            print(
                json.dumps(
                    {"file": args.file, "error": error, "read": 0, "rated": 0, "duplicate": 0, "rejected": 0},
                    ensure_ascii=False,
                    indent=2,
                )
            )
        return 2
    if not args.json:
        for e in result.errors:
            print(f"{args.file}: line {e['line']}: {e['field']}: {e['reason']}", file=sys.stderr)
    out = {
        "read": result.read,
        "rated": result.rated,
        "duplicate": result.duplicate,
        "rejected": result.rejected,
        "suspense": result.rejected,
        "rerated": result.rerated,
        "suspense_errors": result.errors,
    }
    print_result(
        out,
        args.json,
        f"read {result.read}, rated {result.rated}, duplicate {result.duplicate}, rejected {result.rejected}"
        + (f" (re-rated {result.rerated})" if result.rerated else ""),
    )
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    core = open_core()
    result = UsageImporter(core.engine, core.catalogue).reprocess_suspense()
    print_result(
        result.as_dict(),
        args.json,
        f"re-processed {result.read}: rated {result.rated}, still rejected {result.rejected}, "
        f"duplicate {result.duplicate}",
    )
    return 0


def cmd_bill_run(args: argparse.Namespace) -> int:
    core = open_core()
    try:
        inv_date = date.fromisoformat(args.invoice_date) if args.invoice_date else None

        result = run_bill_run(
            core.engine,
            core.catalogue,
            args.period,
            invoice_date=inv_date,
            today=core.today(),
            allow_open_period=args.allow_open_period,
            small_balance_ore=LifecycleConfig.from_env().dunning.small_balance_ore,
        )
    except ValueError as exc:
        return fail(str(exc))
    d = result.as_dict()
    print_result(
        d,
        args.json,
        f"Bill run {result.period}: {result.invoices} invoices issued "
        f"({d['first_number']}–{d['last_number']}), {result.skipped} already invoiced."
        if result.invoices
        else f"Bill run {result.period}: nothing new to invoice.",
    )
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    try:
        docs = invoices_for_period(open_core().engine, args.period)
    except ValueError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(docs, ensure_ascii=False, indent=2))
    else:
        for d in docs:
            print(
                f"{d['number']}  {d['customer_number']:<10} {d['invoice_date']}  due {d['due_date']}  "
                f"{d['amount_due_ore'] / 100:>10.2f} kr  {d['status']}"
            )
    return 0
