"""CLI command of the demo: ``seed`` (a believable operator, its year lived through the services)."""

from __future__ import annotations

import argparse
from datetime import date

from backend_stub.cli.common import open_core, print_result
from backend_stub.demo.seed import seed


def cmd_seed(args: argparse.Namespace) -> int:
    core = open_core()
    today = date.fromisoformat(args.today) if args.today else None
    result = seed(core, args.customers, args.months, today=today, cdr_out=args.cdr_out, seed_value=args.seed, live=True)
    print_result(result, args.json, ", ".join(f"{k} {v}" for k, v in result.items()))
    return 0
