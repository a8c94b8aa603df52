"""CLI commands that run the core's HTTP API: ``serve``, and ``demo`` (seed a demo database on first start, print
tokens to try it with, serve it)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from backend_stub.cli.common import open_core
from backend_stub.settings import get_settings

# The API, the demo's seeding and the database code are imported by the commands once the settings allow them
# to start: a refusal (no secret outside dev) comes at once.


def cmd_serve(args: argparse.Namespace) -> int:
    # Outside dev, no secret: refuse before the database is touched (main() prints the reason).
    get_settings().require_secret()
    import uvicorn

    from backend_stub.api.app import create_app

    uvicorn.run(create_app(open_core()), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Seed a demo database on first start, print tokens to try the API with, and serve it."""
    # No built-in secret: dev (``make serve`` sets SELFCARE_ENV=dev) gets a random one for this process,
    # anything else needs SELFCARE_JWT_SECRET; checked before seeding.
    get_settings().require_secret()
    from sqlalchemy import func, select

    from backend_stub.demo.seed import seed
    from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
    from backend_stub.storage.models import billing as m

    core = open_core()
    with core.engine.connect() as conn:
        empty = not conn.execute(select(func.count()).select_from(m.Customer)).scalar_one()
    if empty:
        print("Seeding the demo operator (first start)…", file=sys.stderr)
        seed(core, args.customers, args.months, live=True)

    with core.engine.connect() as conn:
        first = conn.execute(select(m.Customer.id, m.Customer.customer_number).order_by(m.Customer.id)).first()
    settings = AuthSettings.from_settings(get_settings())
    print(f"\nCore API: http://{args.host}:{args.port}/docs", file=sys.stderr)
    print(
        f"Service token:\n  {issue_token(settings, subject='demo', role=Role.SERVICE, ttl=timedelta(days=1))}",
        file=sys.stderr,
    )
    if first:
        token = issue_token(
            settings, subject=first.customer_number, role=Role.SUBSCRIBER, customer_id=first.id, ttl=timedelta(days=1)
        )
        print(f"Subscriber token ({first.customer_number}):\n  {token}\n", file=sys.stderr)
    args_serve = argparse.Namespace(host=args.host, port=args.port)
    return cmd_serve(args_serve)
