"""CLI command of access: ``token`` (an API token, for development and operations)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from backend_stub.cli.common import fail, open_core
from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
from backend_stub.services.billing.customers import find_customer_id


def cmd_token(args: argparse.Namespace) -> int:
    role = Role(args.role)
    cid = None
    if role == Role.SUBSCRIBER:
        if not args.customer:
            return fail("--customer is required for a subscriber token")
        cid = find_customer_id(open_core().engine, args.customer)
        if cid is None:
            return fail(f"no customer {args.customer}")
    print(
        issue_token(
            AuthSettings.from_env(),
            subject=args.subject or args.customer or role.value,
            role=role,
            customer_id=cid,
            ttl=timedelta(hours=args.hours),
        )
    )
    return 0
