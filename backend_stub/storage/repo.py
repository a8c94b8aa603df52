"""Queries shared by the services: subscriptions as domain values, bulk writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from backend_stub import periods
from backend_stub.storage.models import Customer, PlanSegment, Subscription

CHUNK = 5000


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
    for part in chunks(ids):
        for s in conn.execute(
            select(PlanSegment.subscription_id, PlanSegment.plan_id, PlanSegment.start_date, PlanSegment.end_date)
            .where(PlanSegment.subscription_id.in_(part))
        ):
            segs[s.subscription_id].append(periods.PlanSegment(s.plan_id, s.start_date, s.end_date))
    return [
        periods.Subscription(r.id, r.subscription_number, r.customer_id, r.msisdn,
                             tuple(sorted(segs[r.id], key=lambda g: g.start)))
        for r in rows
    ]


def cycle_days(conn: Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in chunks(list(set(customer_ids))):
        for r in conn.execute(select(Customer.id, Customer.cycle_day).where(Customer.id.in_(part))):
            out[r.id] = r.cycle_day
    return out


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, ``executemany`` on SQLite."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)


def bulk_update(conn: Connection, sql_sqlite: str, rows: list[tuple]) -> None:
    """``executemany`` of an UPDATE written with ``?`` placeholders, on either database."""
    if not rows:
        return
    sql = sql_sqlite if conn.dialect.paramstyle == "qmark" else sql_sqlite.replace("?", "%s")
    conn.exec_driver_sql(sql, rows)


def placeholders_sql(conn: Connection, sql_sqlite: str) -> str:
    return sql_sqlite if conn.dialect.paramstyle == "qmark" else sql_sqlite.replace("?", "%s")
