"""Usage import: validate, de-duplicate, rate and store usage records (rules §2–3).

Every input row ends as exactly one of rated, duplicate (``record_id`` seen before) or
rejected into suspense with its line and reason; the four counts add up. Rating is done
per (subscription, billing period) over all of that period's events in
(``started_at``, ``record_id``) order, so arrival order never changes a charge: when an
earlier event arrives after later ones, the period's not yet invoiced events are re-rated.
Events of an already invoiced period are late: they are rated after the invoiced ones,
with what those left of the allowances, and billed on the next invoice.
"""

from __future__ import annotations

import gc
import threading
import time
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from backend_stub import clock
from backend_stub.domain.alerts import Alert
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.rating import STOCKHOLM, UsageEvent
from backend_stub.formats.cdr_csv import CdrReader, EventRun, Row, RowError, raw_of, validate_row
from backend_stub.services.alerts.on_import import after_import
from backend_stub.services.alerts.rating_pass import GroupAlerts, settle_trips
from backend_stub.services.billing import usage_store
from backend_stub.services.billing.usage_rating import (
    RECORD_ID,
    ROW_LAYOUT,
    STARTED_AT,
    GroupKey,
    GroupRating,
    LineNumbers,
    Reject,
    can_fork,
    event_raw,
    rate_in_child,
)
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import bulk_insert, cycle_days, load_subscriptions

PARALLEL_MIN_EVENTS = 50_000  # below this, forking costs more than it saves


@dataclass
class ImportResult:
    """Counts of one import; ``read == rated + duplicate + rejected``."""

    read: int = 0
    rated: int = 0
    duplicate: int = 0
    rejected: int = 0
    rerated: int = 0
    batch_id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first rejections, for the caller
    notices: int = 0
    alerts: int = 0  # usage alerts the import made (recorded once; sent, held for the day, or spent silently)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks
    rejected_ids: set[str] = field(default_factory=set, repr=False)
    found_alerts: list[Alert] = field(default_factory=list, repr=False)
    touched: dict[tuple[int, date], tuple[int, bool]] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "rated": self.rated,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "rerated": self.rerated,
            "batch_id": self.batch_id,
            "notices": self.notices,
            "alerts": self.alerts,
            "errors": self.errors,
        }


class _LocalDates:
    """Europe/Stockholm local date of a UTC epoch, cached per hour (offsets change on the hour)."""

    def __init__(self) -> None:
        self.cache: dict[int, date] = {}

    def __call__(self, ts: int) -> date:
        hour = ts // 3600
        day = self.cache.get(hour)
        if day is None:
            day = datetime.fromtimestamp(hour * 3600, STOCKHOLM).date()
            self.cache[hour] = day
        return day


class UsageImporter:
    """Imports usage rows into the database for one catalogue."""

    def __init__(
        self,
        engine: Engine,
        catalogue: Catalogue,
        *,
        max_errors_reported: int = 100,
        parallel: bool = False,
        alerts: bool = True,
    ):
        self.engine = engine
        self.alerts = alerts  # the usage alerts (docs/alerts.md); off only to measure what they cost
        # Large imports from the CLI rate in a forked process while this one writes; a
        # server (threads, event loop) keeps to the serial path, since forking it is unsafe.
        self.parallel = parallel
        self.catalogue = catalogue
        self.max_errors = max_errors_reported
        self._local_date = _LocalDates()

    # ------------------------------------------------------------------ entry points

    def import_rows(
        self,
        rows: Iterable[tuple[int | None, Any]],
        source: str,
        *,
        exclude_suspense_ids: frozenset[int] = frozenset(),
        suspense_ids: dict[str, int] | None = None,
    ) -> ImportResult:
        """Import ``(line_no, row)`` pairs (a CSV file's rows, or a JSON batch).

        A ``CdrReader`` (``read_cdr_csv``) is read through its bulk path, with the same result.
        """
        with _no_cyclic_gc():
            return self._import_rows(rows, source, exclude_suspense_ids, suspense_ids)

    def _import_rows(
        self,
        rows: Iterable[tuple[int | None, Any]],
        source: str,
        exclude_suspense_ids: frozenset[int],
        suspense_ids: dict[str, int] | None,
    ) -> ImportResult:
        """Read, de-duplicate, rate and store, in one transaction; the counts and each phase's time."""
        result = ImportResult()
        started = time.perf_counter()
        cpu = time.process_time()
        items = rows.segments(parallel=self.parallel) if isinstance(rows, CdrReader) else rows
        read = _read(items, result)
        lines = LineNumbers(read.events, read.event_lines)
        result.timings["parse"] = time.perf_counter() - started
        result.timings["parse_cpu"] = time.process_time() - cpu
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                insert(m.ImportBatch).values(source=source[:200], started_at=clock.now()).returning(m.ImportBatch.id)
            ).scalar_one()
            result.batch_id = batch_id
            events, rejects = _drop_known(conn, read, exclude_suspense_ids, result)
            result.timings["dedupe"] = time.perf_counter() - started - result.timings["parse"]
            self._rate_and_store(conn, events, lines, rejects, result, batch_id)
            result.timings["rate_store"] = (
                time.perf_counter() - started - result.timings["parse"] - result.timings["dedupe"]
            )
            result.rejected = len(rejects)
            usage_store.store_suspense(conn, rejects, batch_id, source, suspense_ids or {})
            conn.execute(
                update(m.ImportBatch)
                .where(m.ImportBatch.id == batch_id)
                .values(read=result.read, rated=result.rated, duplicate=result.duplicate, rejected=result.rejected)
            )
        # Committed: the usage alerts it calls for are recorded once and the due ones sent (docs/alerts.md).
        committed = time.perf_counter()
        if result.touched:
            result.alerts = after_import(self.engine, self.catalogue, result.found_alerts, result.touched)
        result.timings["after_commit"] = time.perf_counter() - committed
        result.timings["total"] = time.perf_counter() - started
        result.timings["total_cpu"] = time.process_time() - cpu  # this process only, not a rating child
        result.rejected_ids = {r[1] for r in rejects if r[1]}
        result.errors = [
            {"line": line, "record_id": rid, "field": fld, "reason": reason}
            for line, rid, _raw, fld, reason in rejects[: self.max_errors]
        ]
        return result

    def reprocess_suspense(self, ids: Iterable[int] | None = None) -> ImportResult:
        """Run pending suspense rows through the import again (after the cause is fixed).

        Rows that now rate are marked resolved; the others stay pending with their new reason.
        """
        with self.engine.connect() as conn:
            q = select(m.SuspenseRecord.id, m.SuspenseRecord.line_no, m.SuspenseRecord.raw).where(
                m.SuspenseRecord.status == "pending"
            )
            if ids is not None:
                q = q.where(m.SuspenseRecord.id.in_(list(ids)))
            pending = list(conn.execute(q.order_by(m.SuspenseRecord.id)))
        if not pending:
            return ImportResult()
        pending_ids = frozenset(r.id for r in pending)
        by_record = {str(r.raw.get("record_id") or "").strip(): r.id for r in pending}
        by_record.pop("", None)
        result = self.import_rows(
            ((r.line_no, r.raw) for r in pending), "suspense", exclude_suspense_ids=pending_ids, suspense_ids=by_record
        )
        still = result.rejected_ids
        with self.engine.begin() as conn:
            done = [sid for rid, sid in by_record.items() if rid not in still]
            done += [r.id for r in pending if not str(r.raw.get("record_id") or "").strip()]
            if done:
                conn.execute(
                    update(m.SuspenseRecord)
                    .where(m.SuspenseRecord.id.in_(done))
                    .values(status="resolved", resolved_at=clock.now())
                )
        return result

    # ------------------------------------------------------------------ internals

    def _rate_and_store(
        self,
        conn: Connection,
        events: list[UsageEvent],
        lines: LineNumbers,
        rejects: list[Reject],
        result: ImportResult,
        batch_id: int,
    ) -> None:
        """Rate the new events per (subscription, period) with what is stored of those periods, insert them,
        update re-rated ones; an event of an unknown number is rejected."""
        if not events:
            return
        grouped = self._group(conn, events, lines, rejects)
        closed = usage_store.closed_periods(conn, grouped.subs)
        roaming = usage_store.load_roaming_choices(conn, grouped.events.keys())
        work = GroupRating(
            self.catalogue,
            grouped.events,
            grouped.subs,
            grouped.periods,
            usage_store.existing_events(conn, grouped.events.keys(), grouped.subs),
            closed,
            lines,
            batch_id,
            pstart_as_text=conn.dialect.name == "sqlite",
            bought=usage_store.load_bought_allowances(conn, grouped.events.keys()),
            continues=roaming.continues,
            spend_limits=roaming.spend_limits,
            alerts=GroupAlerts(self.catalogue, clock.now()) if self.alerts else None,
        )
        if self.parallel and len(events) >= PARALLEL_MIN_EVENTS and can_fork():
            outcome = rate_in_child(work, conn)
        else:
            for chunk in work.chunks():
                bulk_insert(conn, "usage_events", ROW_LAYOUT, chunk)
            outcome = work.summary()
        new_rejects, updates, notices, rated, rerated, (found, latest) = outcome
        result.found_alerts = settle_trips(conn, found)
        result.touched = latest
        rejects.extend(new_rejects)
        result.rated += rated
        result.rerated += rerated
        usage_store.store_rerated(conn, updates)
        usage_store.store_notices(conn, notices)
        result.notices = len(notices)
        rejected = {r[1] for r in new_rejects}
        usage_store.note_late_usage(conn, grouped.events, grouped.subs, closed, rejected, batch_id)

    def _group(self, conn: Connection, events: list[UsageEvent], lines: LineNumbers, rejects: list[Reject]) -> _Groups:
        """Each event to its subscription (by number and day) and billing period; events of a number
        with no subscription are rejected into ``rejects``."""
        by_number: dict[str, list[UsageEvent]] = defaultdict(list)
        for ev in events:
            by_number[ev.msisdn].append(ev)
        by_msisdn: dict[str, list[Subscription]] = defaultdict(list)
        for sub in load_subscriptions(conn, msisdns=by_number.keys()):
            if sub.msisdn:
                by_msisdn[sub.msisdn].append(sub)
        cycle = cycle_days(conn, {s.customer_id for subs in by_msisdn.values() for s in subs})
        local_date = self._local_date
        out = _Groups()
        groups, periods, subs_by_id = out.events, out.periods, out.subs
        unknown: set[str] = set()
        for msisdn, evs in by_number.items():
            subs = by_msisdn.get(msisdn)
            if not subs:
                unknown.add(msisdn)
                continue
            if len(subs) == 1:
                # One subscription: when the first and the last event fall in one period, so do all.
                sub = subs[0]
                cd = cycle.get(sub.customer_id, 1)
                period = period_containing(local_date(min(map(STARTED_AT, evs))), cd)
                if period.start == period_containing(local_date(max(map(STARTED_AT, evs))), cd).start:
                    key = (sub.id, period.start)
                    periods.setdefault(key, period)
                    subs_by_id[sub.id] = sub
                    groups[key] += evs
                    continue
            for ev in evs:
                day = local_date(ev.started_at)
                sub = subs[0] if len(subs) == 1 else next((s for s in subs if s.segment_on(day)), subs[0])
                period = period_containing(day, cycle.get(sub.customer_id, 1))
                key = (sub.id, period.start)
                periods.setdefault(key, period)
                subs_by_id[sub.id] = sub
                groups[key].append(ev)
        if unknown:
            rejects.extend(
                (lines.get(ev.record_id), ev.record_id, event_raw(ev), "msisdn", f"unknown MSISDN {ev.msisdn}")
                for ev in events
                if ev.msisdn in unknown
            )
        return out


@dataclass
class _Groups:
    """An import's events per (subscription, period start), with the subscriptions and periods."""

    events: dict[GroupKey, list[UsageEvent]] = field(default_factory=lambda: defaultdict(list))
    periods: dict[GroupKey, Period] = field(default_factory=dict)
    subs: dict[int, Subscription] = field(default_factory=dict)


@dataclass
class _Read:
    """What reading the rows gave: the events (first of each record id), their lines, the rejections
    and every record id seen."""

    events: list[UsageEvent] = field(default_factory=list)
    event_lines: array[int] = field(default_factory=lambda: array("q"))  # -1: no line
    rejects: list[Reject] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def _read(items: Iterable[EventRun | tuple[int | None, Row | dict[str, Any]]], result: ImportResult) -> _Read:
    """Validate the rows and drop repeats of a record id within the input (counted as duplicates)."""
    read = _Read()
    for item in items:
        if isinstance(item, EventRun):
            _take_run(item, read, result)
        else:
            line_no, row = item
            _take_row(line_no, row, read, result)
    return read


def _take_run(run: EventRun, read: _Read, result: ImportResult) -> None:
    """A run of events already valid (the CSV bulk path): taken whole when none repeats a record id."""
    events, first = run.events, run.first_line
    result.read += len(events)
    ids = set(map(RECORD_ID, events))
    if len(ids) == len(events) and read.seen.isdisjoint(ids):
        read.seen |= ids
        read.events += events
        read.event_lines.extend(range(first, first + len(events)))
        return
    for i, ev in enumerate(events):
        if ev.record_id in read.seen:
            result.duplicate += 1
            continue
        read.seen.add(ev.record_id)
        read.events.append(ev)
        read.event_lines.append(first + i)


def _take_row(line_no: int | None, row: Row | dict[str, Any], read: _Read, result: ImportResult) -> None:
    """One row to validate: an event, a rejection with its line and field, or a duplicate."""
    result.read += 1
    ev = validate_row(line_no, row)
    if isinstance(ev, RowError):
        if ev.record_id and ev.record_id in read.seen:
            result.duplicate += 1
            return
        if ev.record_id:
            read.seen.add(ev.record_id)
        read.rejects.append((line_no, ev.record_id, raw_of(row), ev.field, ev.reason))
        return
    if ev.record_id in read.seen:
        result.duplicate += 1
        return
    read.seen.add(ev.record_id)
    read.events.append(ev)
    read.event_lines.append(-1 if line_no is None else line_no)


def _drop_known(
    conn: Connection, read: _Read, exclude_suspense_ids: frozenset[int], result: ImportResult
) -> tuple[list[UsageEvent], list[Reject]]:
    """Events and rejections whose record id is already stored (or pending in suspense) are duplicates."""
    events, rejects = read.events, read.rejects
    known = usage_store.known_record_ids(conn, list(read.seen), exclude_suspense_ids)
    if known:
        before = len(events) + len(rejects)
        events = [e for e in events if e.record_id not in known]
        rejects = [r for r in rejects if r[1] not in known]
        result.duplicate += before - len(events) - len(rejects)
    return events, rejects


_gc_lock = threading.Lock()
_gc_pause = {"holders": 0, "was_enabled": False}


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (an import makes millions of long-lived tuples, none cyclic)."""
    with _gc_lock:
        if _gc_pause["holders"] == 0:
            _gc_pause["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_pause["holders"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pause["holders"] -= 1
            if _gc_pause["holders"] == 0 and _gc_pause["was_enabled"]:
                gc.enable()


def list_suspense(engine: Engine, status: str, limit: int, offset: int) -> dict[str, Any]:
    """Suspense rows (pending, resolved, …) with their line, reason and raw values."""
    with engine.connect() as conn:
        q = select(m.SuspenseRecord).where(m.SuspenseRecord.status == status)
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.order_by(m.SuspenseRecord.id).limit(limit).offset(offset))
        items = [
            {
                "id": r.id,
                "source": r.source,
                "line": r.line_no,
                "record_id": r.record_id,
                "field": r.field,
                "reason": r.reason,
                "raw": r.raw,
                "status": r.status,
            }
            for r in rows
        ]
    return {"total": total, "limit": limit, "offset": offset, "items": items}
