"""Seed the demo operator into DATABASE_URL on first start: only when it has no customers yet.

Used by ``make demo``; arguments go to ``python -m backend_stub seed``.
"""

from __future__ import annotations

import sys

from sqlalchemy import func, select

from backend_stub.cli.main import main
from backend_stub.core import Core
from backend_stub.storage.models import billing as m


def has_customers() -> bool:
    core = Core.from_url()
    try:
        with core.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(m.Customer)).scalar_one())
    finally:
        core.engine.dispose()


# The demo's staff (README "Support console", "Marketing console"): an agent, a supervisor, a marketer.
DEMO_AGENTS = (
    ("agent", "Anna Agent", "agent"),
    ("supervisor", "Sam Supervisor", "supervisor"),
    ("marketing", "Maja Marknad", "marketing"),
)
DEMO_AGENT_PASSWORD = "demo-agent-password"


def ensure_demo_agents() -> None:
    """Create the demo agents once (password from SELFCARE_AGENT_PASSWORD, else the documented demo one)."""
    import os

    from backend_stub.services.support import agents

    password = os.environ.get("SELFCARE_AGENT_PASSWORD") or DEMO_AGENT_PASSWORD
    core = Core.from_url()
    try:
        for username, name, role in DEMO_AGENTS:
            try:
                agents.create_agent(core.engine, username, name, password, role)
                print(f"demo data: {role} {username!r} created", file=sys.stderr)
            except ValueError as exc:
                if "exists already" not in str(exc):
                    raise
    finally:
        core.engine.dispose()


def ensure_demo_offers() -> None:
    """Schedule the demo's upsell offers once (docs/offers.md): heavy data, broadband upgrade, recommended plan."""
    from backend_stub.demo.offers import seed_demo_offers

    core = Core.from_url()
    try:
        made = seed_demo_offers(core.engine, core.catalogue)
        if made:
            print(f"demo data: {made} offers scheduled", file=sys.stderr)
    finally:
        core.engine.dispose()


if __name__ == "__main__":
    if has_customers():
        print("demo data: already seeded (delete var/selfcare.db to seed anew)", file=sys.stderr)
        ensure_demo_agents()
        ensure_demo_offers()
        sys.exit(0)
    print("demo data: seeding the demo operator (first start, about a minute)…", file=sys.stderr)
    status = main(["seed", *sys.argv[1:]])
    if status == 0:
        ensure_demo_agents()
        ensure_demo_offers()
    sys.exit(status)
