"""The database schema (SQLAlchemy 2), one module per area; migrations live in ``backend_stub/migrations``.

``billing`` (customers, subscriptions, usage, invoices, their lines, events and payments),
``lifecycle`` (outbox, fees and interest, bank payments, event documents), ``charges``,
``autopay``, ``offers``, ``support``, ``alerts`` (usage alerts) and ``access`` (sign-in, sessions, links, the test
payment provider). Every table derives from ``storage.base.Base``; importing this package
puts all of them in ``Base.metadata``, which Alembic's ``env.py`` reads (``from
backend_stub.storage.models import Base``). Code imports the area module it needs.

Money columns are integer öre (``*_ore``) or exact charge units (``*_exact``,
``money.EXACT_PER_ORE`` per öre); usage times are UTC epoch seconds, which sort and
compare the same on SQLite and PostgreSQL and insert fast.
"""

from backend_stub.storage.base import Base
from backend_stub.storage.models import access, alerts, autopay, billing, charges, lifecycle, offers, support

__all__ = ["Base", "access", "alerts", "autopay", "billing", "charges", "lifecycle", "offers", "support"]
