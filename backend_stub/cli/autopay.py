"""CLI commands of the autopay area: ``autogiro-export``, ``autogiro-import``, ``autopay-run`` (docs/autopay.md)."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import sys
from datetime import date
from pathlib import Path

from backend_stub import clock
from backend_stub.cli.common import fail, open_core, print_result
from backend_stub.domain import banking
from backend_stub.formats.autogiro import ENCODING, AutogiroError
from backend_stub.services.access.tokens import AuthSettings
from backend_stub.services.autopay import autogiro_files, draws
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.paygw import TestPayProvider
from backend_stub.settings import get_settings


def _setup():
    return open_core(), LifecycleConfig.from_env()


def _day(text: str | None) -> date:
    return date.fromisoformat(text) if text else clock.today()


def cmd_autogiro_export(args: argparse.Namespace) -> int:
    """Write the day's files to Bankgirot (mandates, payment orders) into ``--out``."""
    core, cfg = _setup()
    try:
        result = autogiro_files.export_autogiro(core.engine, core.catalogue, cfg, _day(args.date))
    except (banking.AutopayError, AutogiroError) as exc:
        return fail(str(exc))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in result.files:
        path = out / f["name"]
        tmp = path.with_suffix(".part")
        tmp.write_bytes(f["content"].encode(ENCODING))
        os.replace(tmp, path)
        written.append(str(path))
    doc = result.as_dict()
    doc["files"] = [
        {k: v for k, v in f.items() if k != "content"} | {"path": p} for f, p in zip(result.files, written, strict=True)
    ]
    print_result(doc, args.json, "\n".join(written) if written else "nothing to send")
    return 0


def cmd_autogiro_import(args: argparse.Namespace) -> int:
    """Apply an answer file from Bankgirot (idempotent)."""
    core, cfg = _setup()
    path = Path(args.file)
    try:
        result = autogiro_files.import_autogiro(core.engine, core.catalogue, cfg, path.read_bytes(), path.name)
    except AutogiroError as exc:
        for e in exc.errors:
            print(f"{path.name}: {e}", file=sys.stderr)
        return 2
    except (banking.AutopayError, OSError) as exc:
        return fail(str(exc))
    doc = result.as_dict()
    print_result(doc, args.json, ", ".join(f"{k} {v}" for k, v in doc.items() if k not in ("files", "errors", "date")))
    return 1 if result.errors else 0


def _provider(engine):
    secret = (
        get_settings().paygw_secret
        or hmac.new(
            AuthSettings.from_settings(get_settings()).secret.encode(), b"testpay-webhook", hashlib.sha256
        ).hexdigest()
    )
    return TestPayProvider(engine, secret)


def cmd_autopay_run(args: argparse.Namespace) -> int:
    """Charge saved cards for the day: invoices due, retries, fallbacks (idempotent)."""
    core, cfg = _setup()
    result = draws.run_card_draws(core.engine, _provider(core.engine), cfg, _day(args.date))
    doc = result.as_dict()
    print_result(
        doc,
        args.json,
        ", ".join(f"{k} {v}" for k, v in doc.items() if k not in ("files", "errors", "date")) or "nothing to charge",
    )
    return 1 if result.errors else 0
