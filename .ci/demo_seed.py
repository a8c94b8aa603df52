"""Seed the demo operator into DATABASE_URL on first start: only when it has no customers yet.

Used by ``make demo``; arguments go to ``python -m backend_stub seed``.
"""

from __future__ import annotations

import sys

from sqlalchemy import func, select

from backend_stub.__main__ import main
from backend_stub.core import Core
from backend_stub.storage import models as m


def has_customers() -> bool:
    core = Core.from_url()
    try:
        with core.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(m.Customer)).scalar_one())
    finally:
        core.engine.dispose()


if __name__ == "__main__":
    if has_customers():
        print("demo data: already seeded (delete var/selfcare.db to seed anew)", file=sys.stderr)
        sys.exit(0)
    print("demo data: seeding the demo operator (first start, about a minute)…", file=sys.stderr)
    sys.exit(main(["seed", *sys.argv[1:]]))
