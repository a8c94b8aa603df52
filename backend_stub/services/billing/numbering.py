"""Invoice number series: consecutive numbers without gaps, taken inside the issuer's transaction.

``F`` numbers invoices (from 100001), ``K`` credit notes (from 900001). An issuer locks its series
(``SELECT … FOR UPDATE`` on PostgreSQL; the SQLite writer lock taken by ``BEGIN IMMEDIATE``
already serialises), takes the numbers it needs and commits them with what it issued, so a
crash leaves no gap (rules §4). The bill run and credit notes both number this way.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub.storage.models import billing as m

INVOICE_SERIES = "F"
CREDIT_SERIES = "K"
FIRST_NUMBER = {INVOICE_SERIES: 100001, CREDIT_SERIES: 900001}


def ensure_series(conn: Connection, series: str) -> None:
    """Create a number series if missing (safe when several bill runs start at once)."""
    if conn.execute(select(m.InvoiceSeries.series).where(m.InvoiceSeries.series == series)).first() is not None:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(m.InvoiceSeries)
        .values(series=series, next_number=FIRST_NUMBER.get(series, 1))
        .on_conflict_do_nothing(index_elements=["series"])
    )


def take_numbers(conn: Connection, series: str, count: int) -> list[str]:
    """Take ``count`` consecutive numbers of ``series`` inside the caller's transaction."""
    q = select(m.InvoiceSeries.next_number).where(m.InvoiceSeries.series == series)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    start = conn.execute(q).scalar_one()
    if count:
        conn.execute(update(m.InvoiceSeries).where(m.InvoiceSeries.series == series).values(next_number=start + count))
    return [str(start + i) for i in range(count)]


def lock_series(conn: Connection, series: str) -> None:
    """Serialise issuers of ``series`` (a no-op on SQLite, whose writer lock already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(m.InvoiceSeries.next_number).where(m.InvoiceSeries.series == series).with_for_update())
