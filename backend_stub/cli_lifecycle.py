"""CLI commands of the invoice lifecycle: send-invoices, dunning, import-payments, export-sie."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from backend_stub.services.lifecycle_config import ConfigError, LifecycleConfig


def _core():
    from backend_stub.core import Core

    return Core.from_url()


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2) if as_json else text)


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
    from backend_stub.services import messaging, sending

    core = _core()
    cfg = _config()
    try:
        mail = messaging.MailSettings.from_env()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    result = sending.send_invoices(core.engine, cfg, mail=mail, link_for=sending.default_link_builder(core.engine, cfg),
                                   period=args.period)
    for err in result.errors:
        print(err, file=sys.stderr)
    _print(result.as_dict(), args.json,
           f"Sent {result.email} e-mails, {result.sms} SMS and {result.letter} letters; "
           f"{result.fallback_letter} letters after no opening; {result.already_sent} already sent; "
           f"{result.failed} failed.")
    return 1 if result.failed else 0


def cmd_dunning(args: argparse.Namespace) -> int:
    from backend_stub.services import dunning, messaging

    today = _date(args.today, "--today")
    core = _core()
    try:
        mail = messaging.MailSettings.from_env()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    r = dunning.run_dunning(core.engine, _config(), today=today, mail=mail)
    for err in r.errors:
        print(err, file=sys.stderr)
    _print(r.as_dict(), args.json,
           f"Dunning {r.today}: {r.overdue} overdue, {r.reminder_1} first and {r.reminder_2} second reminders "
           f"({r.fees} fees, {r.fees_ore / 100:.2f} kr), interest on {r.interest} invoices ({r.interest_ore / 100:.2f} kr), "
           f"{r.collection} to collection{' (' + r.collection_file + ')' if r.collection_file else ''}; "
           f"{r.messages} messages sent, {r.failed} failed.")
    return 1 if r.failed else 0


def cmd_import_payments(args: argparse.Namespace) -> int:
    from backend_stub.formats.bgmax import BgMaxError
    from backend_stub.services.payments import import_bgmax

    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        r = import_bgmax(_core().engine, data, args.file)
    except BgMaxError as exc:
        print(f"{args.file}: not imported, nothing recorded:", file=sys.stderr)
        for err in exc.errors:
            print(f"  {err}", file=sys.stderr)
        return 2
    for w in r.warnings or []:
        print(f"{args.file}: {w}", file=sys.stderr)
    _print(r.as_dict(), args.json,
           f"{args.file}: {r.payments} payments: {r.matched} matched ({r.partly_matched} with a rest), "
           f"{r.unmatched} to the unmatched queue ({r.foreign_currency} in foreign currency), {r.duplicate} already "
           f"imported; {r.amount_ore / 100:.2f} kr recorded.")
    return 0


def cmd_export_sie(args: argparse.Namespace) -> int:
    from backend_stub.formats.sie import SieError, parse_sie
    from backend_stub.services.bookkeeping import export_sie

    start, end = _date(args.from_, "--from"), _date(args.to, "--to")
    assert start is not None and end is not None
    core = _core()
    try:
        data = export_sie(core.engine, core.catalogue, _config(), start, end)
    except (ValueError, SieError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    parsed = parse_sie(data)
    summary = {"verifications": len(parsed.verifications),
               "debit_ore": sum(t.amount_ore for v in parsed.verifications for t in v.trans if t.amount_ore > 0),
               "out": args.out}
    if args.out:
        with open(args.out, "wb") as fh:
            fh.write(data)
        _print(summary, args.json, f"Wrote {args.out}: {summary['verifications']} verifications, "
                                   f"{summary['debit_ore'] / 100:.2f} kr debit = credit.")
    else:
        sys.stdout.buffer.write(data)
    return 0


def register(add) -> None:
    sp = add("send-invoices", cmd_send_invoices, "send unsent invoices by each customer's channel (idempotent)")
    sp.add_argument("--period", help="only invoices of this period YYYY-MM")
    sp = add("dunning", cmd_dunning, "overdue, interest, reminders and collection for a day (idempotent; cron daily)")
    sp.add_argument("--today", help="YYYY-MM-DD (default: today)")
    sp = add("export-sie", cmd_export_sie, "write a SIE 4 bookkeeping file for a date range")
    sp.add_argument("--from", dest="from_", required=True, help="YYYY-MM-DD")
    sp.add_argument("--to", required=True, help="YYYY-MM-DD")
    sp.add_argument("--out", help="file to write (default: standard output)")
    add("import-payments", cmd_import_payments, "import a Bankgirot BgMax payments file (idempotent)").add_argument("file")
