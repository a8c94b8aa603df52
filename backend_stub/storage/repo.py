"""Queries shared by the services: subscriptions as domain values, bulk writes."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Table, select

from backend_stub.domain import periods
from backend_stub.storage.models.billing import Customer, PlanSegment, Subscription

CHUNK = 5000

# sqlite3 binds a bool as an integer only after failing to find an adapter for it (an
# exception per value, ~15 % of a bulk insert); with this adapter it is found at once.
# The stored value is the same 0/1.
sqlite3.register_adapter(bool, int)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_subscriptions(
    conn: Connection, *, customer_ids: Iterable[int] | None = None, msisdns: Iterable[str] | None = None
) -> list[periods.Subscription]:
    """Subscriptions with their plan segments, as domain values (all, or filtered)."""
    query = select(Subscription.id, Subscription.subscription_number, Subscription.customer_id, Subscription.msisdn)
    rows: list[Any] = []
    if customer_ids is not None:
        for part in chunks(list(customer_ids)):
            rows.extend(conn.execute(query.where(Subscription.customer_id.in_(part))))
    elif msisdns is not None:
        for part in chunks(list(msisdns)):
            rows.extend(conn.execute(query.where(Subscription.msisdn.in_(part))))
    else:
        rows = list(conn.execute(query))
    segs: dict[int, list[periods.PlanSegment]] = defaultdict(list)
    ids = [r.id for r in rows]
    segment = periods.PlanSegment
    for part in chunks(ids):
        for sub_id, plan_id, start, end in conn.execute(
            select(
                PlanSegment.subscription_id, PlanSegment.plan_id, PlanSegment.start_date, PlanSegment.end_date
            ).where(PlanSegment.subscription_id.in_(part))
        ):
            segs[sub_id].append(segment(plan_id, start, end))
    by_start = attrgetter("start")
    return [
        periods.Subscription(sub_id, number, customer_id, msisdn, tuple(sorted(segs[sub_id], key=by_start)))
        for sub_id, number, customer_id, msisdn in rows
    ]


def cycle_days(conn: Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in chunks(list(set(customer_ids))):
        for r in conn.execute(select(Customer.id, Customer.cycle_day).where(Customer.id.in_(part))):
            out[r.id] = r.cycle_day
    return out


def bulk_insert(conn: Connection, table: str, columns: Sequence[str | None], rows: list[tuple]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, ``executemany`` on SQLite.

    ``columns`` names each position of a row; positions named None are not stored (so rows
    built by concatenating tuples need no copying into a narrower shape first).
    """
    if not rows:
        return
    stored = [i for i, c in enumerate(columns) if c is not None]
    names = ", ".join(c for c in columns if c is not None)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None  # an open Connection holds its driver's connection (None only once closed)
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            if len(stored) == len(columns):
                for row in rows:
                    copy.write_row(row)
            else:
                pick = itemgetter(*stored)
                for row in rows:
                    copy.write_row(pick(row))
        return
    placeholders = ", ".join(f"?{i + 1}" for i in stored)  # numbered: unused positions are bound, not stored
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(insert(table), rows)``, stored the same, without SQLAlchemy's work per row.

    The rows (dicts with the same keys) go through the bind processors of their columns' types
    for the connection's dialect, as an ``insert()`` would send them (SQLite's date and time
    texts, JSON text, psycopg's JSON wrapper), then ``bulk_insert``: one ``executemany`` on
    SQLite, COPY on PostgreSQL. The bill run inserts tens of thousands of lines this way.
    """
    if not rows:
        return
    names = list(rows[0])
    missing_defaults = [c.name for c in table.c if c.name not in names and c.default is not None]
    if missing_defaults:  # an insert() would fill these in Python; this path does not
        raise ValueError(f"insert_rows({table.name}): give {', '.join(missing_defaults)} (they have defaults)")
    dialect = conn.dialect
    processors = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    if processors:
        values = []
        for row in rows:
            value = [row[name] for name in names]
            for i, proc in processors:
                value[i] = proc(value[i])
            values.append(tuple(value))
    else:
        values = [tuple(row[name] for name in names) for row in rows]
    quote = dialect.identifier_preparer.quote
    bulk_insert(conn, quote(table.name), [quote(name) for name in names], values)


def bulk_update(conn: Connection, sql_sqlite: str, rows: list[tuple]) -> None:
    """``executemany`` of an UPDATE written with ``?`` placeholders, on either database."""
    if not rows:
        return
    sql = sql_sqlite if conn.dialect.paramstyle == "qmark" else sql_sqlite.replace("?", "%s")
    conn.exec_driver_sql(sql, rows)


def placeholders_sql(conn: Connection, sql_sqlite: str) -> str:
    return sql_sqlite if conn.dialect.paramstyle == "qmark" else sql_sqlite.replace("?", "%s")
