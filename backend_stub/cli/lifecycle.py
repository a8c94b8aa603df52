"""CLI commands of the invoice lifecycle: send-invoices, dunning, import-payments, export-sie."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from decimal import Decimal

from backend_stub.cli.common import fail, open_core, print_result
from backend_stub.domain.lifecycle_terms import ConfigError
from backend_stub.domain.money import kr_to_ore, ore_to_kr, parse_decimal
from backend_stub.formats.bgmax import BgMaxError
from backend_stub.formats.sie import SieError, parse_sie
from backend_stub.services.alerts.delivery import deliver_due
from backend_stub.services.billing import credit_notes, invoice_rows, invoices
from backend_stub.services.lifecycle import dunning, messaging, sending
from backend_stub.services.lifecycle.bookkeeping import export_sie
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.payments import import_bgmax


def _date(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"{name}: not a date YYYY-MM-DD: {text!r}") from None


def _config() -> LifecycleConfig:
    try:
        return LifecycleConfig.from_env()
    except ConfigError as exc:
        raise SystemExit(f"configuration: {exc}") from None


def cmd_send_invoices(args: argparse.Namespace) -> int:
    core = open_core()
    cfg = _config()
    try:
        mail = messaging.MailSettings.from_env()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = sending.send_invoices(
        core.engine, cfg, mail=mail, link_for=sending.default_link_builder(core.engine, cfg), period=args.period
    )
    for err in result.errors:
        print(err, file=sys.stderr)
    print_result(
        result.as_dict(),
        args.json,
        f"Sent {result.email} e-mails, {result.sms} SMS and {result.letter} letters; "
        f"{result.fallback_letter} letters after no opening; {result.already_sent} already sent; "
        f"{result.failed} failed.",
    )
    return 1 if result.failed else 0


def cmd_send_alerts(args: argparse.Namespace) -> int:
    """Usage alerts whose time has come (docs/alerts.md): an SMS held overnight goes at 08:00."""
    core = open_core()
    sent = deliver_due(core.engine, core.catalogue)
    print_result({"sent": sent}, args.json, f"Sent {sent} usage alerts.")
    return 0


def cmd_dunning(args: argparse.Namespace) -> int:
    today = _date(args.today, "--today")
    core = open_core()
    try:
        mail = messaging.MailSettings.from_env()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    r = dunning.run_dunning(core.engine, _config(), today=today, mail=mail)
    for err in r.errors:
        print(err, file=sys.stderr)
    print_result(
        r.as_dict(),
        args.json,
        f"Dunning {r.today}: {r.overdue} overdue, {r.reminder_1} first and {r.reminder_2} second reminders "
        f"({r.fees} fees, {ore_to_kr(r.fees_ore)} kr), interest on {r.interest} invoices ({ore_to_kr(r.interest_ore)} kr), "
        f"{r.collection} to collection{' (' + r.collection_file + ')' if r.collection_file else ''}; "
        f"{r.messages} messages sent, {r.failed} failed.",
    )
    return 1 if r.failed else 0


def cmd_import_payments(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        r = import_bgmax(open_core().engine, data, args.file)
    except BgMaxError as exc:
        print(f"{args.file}: not imported, nothing recorded:", file=sys.stderr)
        for err in exc.errors:
            print(f"  {err}", file=sys.stderr)
        return 2
    for w in r.warnings or []:
        print(f"{args.file}: {w}", file=sys.stderr)
    print_result(
        r.as_dict(),
        args.json,
        f"{args.file}: {r.payments} payments: {r.matched} matched ({r.partly_matched} with a rest), "
        f"{r.unmatched} to the unmatched queue ({r.foreign_currency} in foreign currency), {r.duplicate} already "
        f"imported; {ore_to_kr(r.amount_ore)} kr recorded.",
    )
    return 0


def cmd_export_sie(args: argparse.Namespace) -> int:
    start, end = _date(args.from_, "--from"), _date(args.to, "--to")
    assert start is not None and end is not None
    core = open_core()
    try:
        data = export_sie(core.engine, core.catalogue, _config(), start, end)
    except (ValueError, SieError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    parsed = parse_sie(data)
    summary = {
        "verifications": len(parsed.verifications),
        "debit_ore": sum(t.amount_ore for v in parsed.verifications for t in v.trans if t.amount_ore > 0),
        "out": args.out,
    }
    if args.out:
        with open(args.out, "wb") as fh:
            fh.write(data)
        print_result(
            summary,
            args.json,
            f"Wrote {args.out}: {summary['verifications']} verifications, "
            f"{ore_to_kr(summary['debit_ore'])} kr debit = credit.",
        )
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_credit_note(args: argparse.Namespace) -> int:
    """Issue a credit note for some lines of an invoice or an amount; prints it like ``invoices --json``."""
    try:
        if (args.lines is None) == (args.amount is None):
            raise ValueError("--lines or --amount: give exactly one")
        positions = None
        if args.lines is not None:
            try:
                positions = [int(p) for p in args.lines.split(",")]
            except ValueError:
                raise ValueError(f"--lines: {args.lines!r} is not a list of line numbers like 2,3") from None
        if args.amount is not None and not re.fullmatch(r"\d+(\.\d{1,2})?", args.amount.strip()):
            raise ValueError(f"--amount: {args.amount!r} is not kronor like 50.00 (digits, a point, two decimals)")
        amount = kr_to_ore(args.amount.strip(), field="--amount") if args.amount is not None else None
        rate = parse_decimal(args.vat_rate, field="--vat-rate") if args.vat_rate is not None else None
        if rate is not None and not Decimal(0) <= rate < 1:
            raise ValueError(f"--vat-rate: {args.vat_rate!r} is not a rate like 0.25")
        core = open_core()
        cn = credit_notes.create_credit_note(
            core.engine,
            core.catalogue,
            args.invoice,
            credit_notes.CreditRequest(
                reason=args.reason, amount_ore=amount, vat_rate=rate, line_positions=positions, actor="cli"
            ),
        )
        doc = invoices.invoice_as_listed(core.engine, cn["id"])
    except invoice_rows.NotFound as exc:
        return fail(f"--invoice: {exc}")
    except ValueError as exc:
        return fail(str(exc))
    print_result(
        doc,
        args.json,
        f"Credit note {doc['number']} for invoice {args.invoice}: "
        f"{ore_to_kr(doc['amount_due_ore'])} kr (öresavrundning {ore_to_kr(doc['rounding_ore'])} kr).",
    )
    return 0
