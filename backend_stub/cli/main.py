"""The command line of the billing core, one parser: ``python -m backend_stub COMMAND``.

Every command works on the database named by ``DATABASE_URL`` (default: a SQLite file
``var/selfcare.db``). ``--json`` prints machine-readable results.

This module holds every command and its options, the whole contract in one place; each command's
work is in its area's module (``cli/<area>.py``), named here as ``"area:function"`` and imported
when the command runs, so ``--help`` and each command load only what they use.
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Callable

from backend_stub.cli.common import fail
from backend_stub.services.support.roles import ROLES
from backend_stub.settings import get_settings
from selfcare_common import deployment

Add = Callable[[str, str, str], argparse.ArgumentParser]
"""Adds a command: its name, ``"area:function"`` and its help; returns its parser for the options."""


def _server_commands(add: Add) -> None:
    """The commands of the API (``cli/server.py``)."""
    sp = add("serve", "server:cmd_serve", "run the HTTP API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8001)
    sp = add("demo", "server:cmd_demo", "seed demo data on first start and run the API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8001)
    sp.add_argument("--customers", type=int, default=200)
    sp.add_argument("--months", type=int, default=12)


def _billing_commands(add: Add) -> None:
    """The commands of billing (``cli/billing.py``)."""
    add("load-catalogue", "billing:cmd_load_catalogue", "validate and load a catalogue TOML file").add_argument("file")
    add(
        "import-customers", "billing:cmd_import_customers", "import customers CSV (docs/customers-csv.md)"
    ).add_argument("file")
    add("import-cdrs", "billing:cmd_import_cdrs", "import a usage CSV (spec/cdr-csv.md)").add_argument("file")
    add("reprocess-suspense", "billing:cmd_reprocess", "re-run pending suspense rows")
    sp = add("bill-run", "billing:cmd_bill_run", "invoice a period for all accounts")
    sp.add_argument("--period", required=True, help="YYYY-MM")
    sp.add_argument("--invoice-date", help="YYYY-MM-DD (default: the day after the period)")
    sp.add_argument(
        "--allow-open-period", action="store_true", help="bill a period that has not ended yet (refused otherwise)"
    )
    sp = add("invoices", "billing:cmd_invoices", "list a period's invoices")
    sp.add_argument("--period", required=True, help="YYYY-MM")


def _demo_commands(add: Add) -> None:
    """The commands of the demo (``cli/demo.py``)."""
    sp = add("seed", "demo:cmd_seed", "generate a demo operator")
    sp.add_argument("--customers", type=int, default=200)
    sp.add_argument("--months", type=int, default=12)
    sp.add_argument("--cdr-out", help="also write the generated usage as CSV")
    sp.add_argument("--seed", type=int, default=1)
    sp.add_argument("--today", help="YYYY-MM-DD (default: today)")


def _access_commands(add: Add) -> None:
    """The commands of access (``cli/access.py``)."""
    sp = add("token", "access:cmd_token", "issue an API token (development and operations)")
    sp.add_argument("--role", required=True, choices=["subscriber", "agent", "supervisor", "marketing", "service"])
    sp.add_argument("--customer", help="customer number or phone number (subscriber tokens)")
    sp.add_argument("--subject")
    sp.add_argument("--hours", type=int, default=1)


def _support_commands(add: Add) -> None:
    """The commands of support (``cli/support.py``)."""
    sp = add(
        "create-agent", "support:cmd_create_agent", "create a staff account: support agent, supervisor or marketing"
    )
    sp.add_argument("--username", required=True)
    sp.add_argument("--name")
    sp.add_argument("--role", choices=list(ROLES), default="agent")
    sp = add("deactivate-agent", "support:cmd_deactivate_agent", "close a staff account; its sessions end at once")
    sp.add_argument("--username", required=True)


def _lifecycle_commands(add: Add) -> None:
    """The commands of the invoice lifecycle (``cli/lifecycle.py``)."""
    sp = add(
        "send-invoices", "lifecycle:cmd_send_invoices", "send unsent invoices by each customer's channel (idempotent)"
    )
    sp.add_argument("--period", help="only invoices of this period YYYY-MM")
    sp = add(
        "send-alerts",
        "lifecycle:cmd_send_alerts",
        "send the usage alerts that are due (SMS held for the day go at 08:00; idempotent; cron every few minutes)",
    )
    sp = add(
        "dunning",
        "lifecycle:cmd_dunning",
        "overdue, interest, reminders and collection for a day (idempotent; cron daily)",
    )
    sp.add_argument("--today", help="YYYY-MM-DD (default: today)")
    sp = add(
        "credit-note", "lifecycle:cmd_credit_note", "credit lines of an invoice or an amount (a credit note of its own)"
    )
    sp.add_argument("--invoice", required=True, help="invoice number, e.g. 100001")
    sp.add_argument("--lines", help="line numbers from 1 as in invoices --json, e.g. 2,3")
    sp.add_argument("--amount", help="kr incl. VAT to credit, e.g. 50.00")
    sp.add_argument("--vat-rate", help="VAT rate of --amount, e.g. 0.25 (required when the invoice has several)")
    sp.add_argument("--reason", required=True, help="why, shown on the credit note")
    sp = add("export-sie", "lifecycle:cmd_export_sie", "write a SIE 4 bookkeeping file for a date range")
    sp.add_argument("--from", dest="from_", required=True, help="YYYY-MM-DD")
    sp.add_argument("--to", required=True, help="YYYY-MM-DD")
    sp.add_argument("--out", help="file to write (default: standard output)")
    add(
        "import-payments", "lifecycle:cmd_import_payments", "import a Bankgirot BgMax payments file (idempotent)"
    ).add_argument("file")


def _offers_commands(add: Add) -> None:
    """The commands of offers (``cli/offers.py``)."""
    sp = add("offers", "offers:cmd_offers", "upsell offers: list, seed-demo, results ID")
    sp.add_argument("action", nargs="?", choices=["list", "seed-demo", "results"], default="list")
    sp.add_argument("id", nargs="?", type=int, help="the offer (for results)")
    sp = add("recommend", "offers:cmd_recommend", "re-rate a subscriber's last three periods under every plan on sale")
    sp.add_argument("--customer", required=True, help="customer number or phone number")
    sp.add_argument("--subscription", type=int, help="only this subscription id")
    sp.add_argument("--today", help="YYYY-MM-DD (default: today)")


def _charges_commands(add: Add) -> None:
    """The commands of charges (``cli/charges.py``)."""
    sp = add(
        "add-charge", "charges:cmd_add_charge", "add a one-off charge or credit (negative amount) to the next invoice"
    )
    sp.add_argument("--customer", required=True, help="customer number or phone number")
    sp.add_argument("--amount", required=True, help="kr incl. VAT, e.g. 99.00; negative for a credit")
    sp.add_argument("--description", required=True, help="the invoice line's text, e.g. 'Byte av SIM-kort'")
    sp.add_argument("--reason", required=True, help="why (kept in the audit log)")
    sp.add_argument("--subscription", help="subscription number or phone number the charge is for")
    sp.add_argument("--vat-rate", help="e.g. 0.25 (default: the operator's)")
    sp = add("add-instalment", "charges:cmd_add_instalment", "put a catalogue device on instalment")
    sp.add_argument("--customer", required=True, help="customer number or phone number")
    sp.add_argument("--subscription", required=True, help="subscription number or phone number")
    sp.add_argument("--device", required=True, help="device id in the catalogue")
    sp.add_argument("--months", required=True, type=int)
    sp.add_argument("--start-period", required=True, help="YYYY-MM: the first month invoiced")
    sp = add("payoff", "charges:cmd_payoff", "pay off an instalment early (the rest on the next invoice)")
    sp.add_argument("--instalment", required=True, type=int, help="instalment id")


def _autopay_commands(add: Add) -> None:
    """The commands of automatic payment (``cli/autopay.py``)."""
    sp = add(
        "autogiro-export", "autopay:cmd_autogiro_export", "write the day's Autogiro files (mandates, payment orders)"
    )
    sp.add_argument("--date", help="YYYY-MM-DD (default today)")
    sp.add_argument("--out", required=True, help="folder for the files")
    sp = add("autogiro-import", "autopay:cmd_autogiro_import", "apply an Autogiro answer file from Bankgirot")
    sp.add_argument("file")
    sp = add(
        "autopay-run", "autopay:cmd_autopay_run", "charge saved cards for the day (due invoices, retries, fallbacks)"
    )
    sp.add_argument("--date", help="YYYY-MM-DD (default today)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m backend_stub", description="Selfcare rating and invoicing core")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--json", action="store_true", help="print a JSON object")
        return sp

    _server_commands(add)
    _billing_commands(add)
    _demo_commands(add)
    _access_commands(add)
    _support_commands(add)
    _lifecycle_commands(add)
    _offers_commands(add)
    _charges_commands(add)
    _autopay_commands(add)
    return p


def command(fn: str):
    """The function ``"area:function"`` names, from ``backend_stub.cli.<area>``."""
    area, name = fn.split(":")
    return getattr(importlib.import_module(f"backend_stub.cli.{area}"), name)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        get_settings()  # read once, here: a bad variable stops every command, named
        return command(args.fn)(args)
    except deployment.ConfigurationError as exc:
        what = "the core server refuses to start" if args.command in ("serve", "demo") else f"{args.command}"
        return fail(f"{what}: {exc}")
