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
import multiprocessing
import os
import threading
import time
import traceback
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.rating import STOCKHOLM, PeriodRater, RatedEvent, Rejection, UsageEvent, rate_period
from backend_stub.domain.texts import render
from backend_stub.formats.cdr_csv import CdrReader, EventRun, RowError, raw_of, validate_row
from backend_stub.services.lifecycle.ledger import add_event
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.charges import AddonPurchase
from backend_stub.storage.repo import bulk_insert, bulk_update, chunks, cycle_days, load_subscriptions

FLUSH_ROWS = 20_000
PARALLEL_MIN_EVENTS = 50_000  # below this, forking costs more than it saves
# A stored row is built without copying field by field: ``UsageEvent + RatedEvent + group values``
# (tuple concatenation). ``ROW_LAYOUT`` names each position; None marks values not stored (the
# msisdn, and the rated event's own record_id). Inserts bind the stored positions only.
ROW_LAYOUT = (
    *("record_id", None, "service", "started_at", "duration_s", "volume_bytes", "called_number", "visited_country"),
    *(
        None,
        "plan_id",
        "category",
        "rate_key",
        "offpeak",
        "billed_units",
        "included_units",
        "charged_units",
        "surcharge_units",
        "charge_exact",
        "fee_exact",
        "surcharge_exact",
        "destination",
    ),
    *("subscription_id", "customer_id", "period_start", "late", "batch_id"),
)
EVENT_COLUMNS = tuple(c for c in ROW_LAYOUT if c is not None)
_STORED = [i for i, c in enumerate(ROW_LAYOUT) if c is not None]
_EVENT_ORDER = itemgetter(3, 0)  # (started_at, record_id): rating.event_order, as a C-level key
_RECORD_ID = itemgetter(0)
_STARTED_AT = itemgetter(3)
RESULT_FIELDS = (
    "plan_id",
    "category",
    "rate_key",
    "destination",
    "offpeak",
    "billed_units",
    "included_units",
    "charged_units",
    "surcharge_units",
    "charge_exact",
    "fee_exact",
    "surcharge_exact",
)


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
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for benchmarks
    rejected_ids: set[str] = field(default_factory=set, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "rated": self.rated,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "rerated": self.rerated,
            "batch_id": self.batch_id,
            "notices": self.notices,
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


def _raw_of(ev: UsageEvent) -> dict[str, Any]:
    return {
        "record_id": ev.record_id,
        "msisdn": ev.msisdn,
        "service": ev.service,
        "started_at": datetime.fromtimestamp(ev.started_at, STOCKHOLM).isoformat(),
        "duration_s": ev.duration_s if ev.service == "voice" else "",
        "volume_bytes": ev.volume_bytes if ev.service == "data" else "",
        "called_number": ev.called_number,
        "visited_country": ev.visited_country,
    }


class UsageImporter:
    """Imports usage rows into the database for one catalogue."""

    def __init__(self, engine: Engine, catalogue: Catalogue, *, max_errors_reported: int = 100, parallel: bool = False):
        self.engine = engine
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
        rows: Iterable[Any],
        source: str,
        exclude_suspense_ids: frozenset[int],
        suspense_ids: dict[str, int] | None,
    ) -> ImportResult:
        result = ImportResult()
        started = time.perf_counter()
        cpu = time.process_time()
        events: list[UsageEvent] = []
        event_lines = array("q")  # line of each event (-1: none), in step with ``events``
        rejects: list[tuple[int | None, str, dict[str, Any], str, str]] = []  # line, record_id, raw, field, reason
        seen: set[str] = set()
        items = rows.segments(parallel=self.parallel) if isinstance(rows, CdrReader) else rows
        for item in items:
            if item.__class__ is EventRun:
                run, first = item.events, item.first_line
                result.read += len(run)
                ids = set(map(_RECORD_ID, run))
                if len(ids) == len(run) and seen.isdisjoint(ids):
                    seen |= ids
                    events += run
                    event_lines.extend(range(first, first + len(run)))
                    continue
                for i, ev in enumerate(run):
                    if ev.record_id in seen:
                        result.duplicate += 1
                        continue
                    seen.add(ev.record_id)
                    events.append(ev)
                    event_lines.append(first + i)
                continue
            line_no, row = item
            result.read += 1
            ev = validate_row(line_no, row)
            if isinstance(ev, RowError):
                if ev.record_id and ev.record_id in seen:
                    result.duplicate += 1
                    continue
                if ev.record_id:
                    seen.add(ev.record_id)
                rejects.append((line_no, ev.record_id, raw_of(row), ev.field, ev.reason))
                continue
            if ev.record_id in seen:
                result.duplicate += 1
                continue
            seen.add(ev.record_id)
            events.append(ev)
            event_lines.append(-1 if line_no is None else line_no)
        lines = _LineNumbers(events, event_lines)
        result.timings["parse"] = time.perf_counter() - started
        result.timings["parse_cpu"] = time.process_time() - cpu
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                insert(m.ImportBatch).values(source=source[:200], started_at=clock.now()).returning(m.ImportBatch.id)
            ).scalar_one()
            result.batch_id = batch_id
            known = self._known_record_ids(conn, list(seen), exclude_suspense_ids)
            if known:
                before = len(events) + len(rejects)
                events = [e for e in events if e.record_id not in known]
                rejects = [r for r in rejects if r[1] not in known]
                result.duplicate += before - len(events) - len(rejects)
            result.timings["dedupe"] = time.perf_counter() - started - result.timings["parse"]
            self._rate_and_store(conn, events, lines, rejects, result, batch_id, source)
            result.timings["rate_store"] = (
                time.perf_counter() - started - result.timings["parse"] - result.timings["dedupe"]
            )
            result.rejected = len(rejects)
            self._store_suspense(conn, rejects, batch_id, source, suspense_ids or {})
            conn.execute(
                update(m.ImportBatch)
                .where(m.ImportBatch.id == batch_id)
                .values(read=result.read, rated=result.rated, duplicate=result.duplicate, rejected=result.rejected)
            )
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

    def _known_record_ids(self, conn, record_ids: list[str], exclude_suspense: frozenset[int]) -> set[str]:
        if not record_ids:
            return set()
        has_events = conn.execute(select(func.count()).select_from(select(m.UsageEvent.id).limit(1).subquery()))
        has_suspense = conn.execute(select(func.count()).select_from(select(m.SuspenseRecord.id).limit(1).subquery()))
        known: set[str] = set()
        if has_events.scalar_one():
            for part in chunks(record_ids):
                known.update(
                    conn.execute(select(m.UsageEvent.record_id).where(m.UsageEvent.record_id.in_(part))).scalars()
                )
        if has_suspense.scalar_one():
            for part in chunks(record_ids):
                q = select(m.SuspenseRecord.id, m.SuspenseRecord.record_id).where(
                    m.SuspenseRecord.record_id.in_(part), m.SuspenseRecord.status == "pending"
                )
                known.update(r.record_id for r in conn.execute(q) if r.id not in exclude_suspense)
        return known

    def _rate_and_store(
        self,
        conn,
        events: list[UsageEvent],
        lines: _LineNumbers,
        rejects: list,
        result: ImportResult,
        batch_id: int,
        source: str,
    ) -> None:
        if not events:
            return
        by_number: dict[str, list[UsageEvent]] = defaultdict(list)
        for ev in events:
            by_number[ev.msisdn].append(ev)
        by_msisdn: dict[str, list[Subscription]] = defaultdict(list)
        for sub in load_subscriptions(conn, msisdns=by_number.keys()):
            if sub.msisdn:
                by_msisdn[sub.msisdn].append(sub)
        cycle = cycle_days(conn, {s.customer_id for subs in by_msisdn.values() for s in subs})
        local_date = self._local_date
        groups: dict[tuple[int, date], list[UsageEvent]] = defaultdict(list)
        subs_by_id: dict[int, Subscription] = {}
        periods: dict[tuple[int, date], Period] = {}
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
                period = period_containing(local_date(min(map(_STARTED_AT, evs))), cd)
                if period.start == period_containing(local_date(max(map(_STARTED_AT, evs))), cd).start:
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
                (lines.get(ev.record_id), ev.record_id, _raw_of(ev), "msisdn", f"unknown MSISDN {ev.msisdn}")
                for ev in events
                if ev.msisdn in unknown
            )

        closed = self._closed_periods(conn, subs_by_id, {k[1] for k in groups})
        existing = self._existing_events(conn, groups.keys(), subs_by_id)
        bought = load_bought_allowances(conn, groups.keys())

        work = _GroupRating(
            self.catalogue,
            groups,
            subs_by_id,
            periods,
            existing,
            closed,
            lines,
            batch_id,
            pstart_as_text=conn.dialect.name == "sqlite",
            bought=bought,
        )
        if self.parallel and len(events) >= PARALLEL_MIN_EVENTS and _can_fork():
            outcome = _rate_in_child(work, conn)
        else:
            for chunk in work.chunks():
                bulk_insert(conn, "usage_events", ROW_LAYOUT, chunk)
            outcome = work.summary()
        new_rejects, updates, notices, rated, rerated = outcome
        rejects.extend(new_rejects)
        result.rated += rated
        result.rerated += rerated
        bulk_update(
            conn,
            "UPDATE usage_events SET "
            + ", ".join(f"{f} = ?" for f in RESULT_FIELDS)
            + " WHERE id = ? AND invoice_id IS NULL",
            updates,
        )
        self._store_notices(conn, notices)
        result.notices = len(notices)
        self._note_late_usage(conn, groups, subs_by_id, closed, {r[1] for r in new_rejects}, batch_id)

    def _note_late_usage(
        self,
        conn,
        groups,
        subs_by_id: dict[int, Subscription],
        closed: set[tuple[int, date]],
        rejected: set[str],
        batch_id: int,
    ) -> None:
        """Records of an invoiced period are late: say so on that period's invoice, at the import time
        (they are billed on the next invoice, rules §3)."""
        late: dict[tuple[int, date], int] = defaultdict(int)
        for (sub_id, pstart), evs in groups.items():
            key = (subs_by_id[sub_id].customer_id, pstart)
            if key in closed:
                late[key] += sum(1 for ev in evs if ev.record_id not in rejected)
        now = clock.now()
        for (customer_id, pstart), count in sorted(late.items()):
            inv = conn.execute(
                select(m.Invoice.id).where(
                    m.Invoice.customer_id == customer_id,
                    m.Invoice.period_start == pstart,
                    m.Invoice.kind == "invoice",
                    m.Invoice.regular_key.is_not(None),
                )
            ).first()
            if count and inv is not None:
                data = {"count": count, "period": pstart.isoformat()[:7], "batch_id": batch_id}
                add_event(
                    conn,
                    inv.id,
                    "late_usage",
                    render("late_usage", data, "sv", ""),
                    actor="usage import",
                    at=now,
                    data=data,
                )

    def _closed_periods(self, conn, subs: dict[int, Subscription], starts: set[date]) -> set[tuple[int, date]]:
        customer_ids = list({s.customer_id for s in subs.values()})
        closed: set[tuple[int, date]] = set()
        for part in chunks(customer_ids):
            q = select(m.Invoice.customer_id, m.Invoice.period_start).where(
                m.Invoice.customer_id.in_(part), m.Invoice.kind == "invoice", m.Invoice.regular_key.is_not(None)
            )
            closed.update((r.customer_id, r.period_start) for r in conn.execute(q))
        return closed

    def _existing_events(self, conn, keys, subs: dict[int, Subscription]) -> dict[tuple[int, date], list[tuple]]:
        keys = list(keys)
        if not conn.execute(select(select(m.UsageEvent.id).limit(1).exists())).scalar():
            return {}
        out: dict[tuple[int, date], list[tuple]] = defaultdict(list)
        wanted = set(keys)
        customer_ids = sorted({subs[k[0]].customer_id for k in keys})
        starts = sorted({k[1] for k in keys})
        cols = [getattr(m.UsageEvent, f) for f in RESULT_FIELDS]
        for part in chunks(customer_ids, 2000):
            q = select(
                m.UsageEvent.id,
                m.UsageEvent.record_id,
                m.UsageEvent.subscription_id,
                m.UsageEvent.period_start,
                m.UsageEvent.service,
                m.UsageEvent.started_at,
                m.UsageEvent.duration_s,
                m.UsageEvent.volume_bytes,
                m.UsageEvent.called_number,
                m.UsageEvent.visited_country,
                m.UsageEvent.invoice_id,
                *cols,
            ).where(m.UsageEvent.customer_id.in_(part), m.UsageEvent.period_start.in_(starts))
            for r in conn.execute(q):
                key = (r.subscription_id, r.period_start)
                if key not in wanted:
                    continue
                ev = UsageEvent(
                    r.record_id,
                    "",
                    r.service,
                    r.started_at,
                    r.duration_s,
                    r.volume_bytes,
                    r.called_number,
                    r.visited_country,
                )
                stored = tuple(r[11 + i] for i in range(len(RESULT_FIELDS)))
                out[key].append((ev, r.id, r.invoice_id, _normalise(stored)))
        return out

    def _store_suspense(self, conn, rejects: list, batch_id: int, source: str, existing: dict[str, int]) -> None:
        """New rejections become suspense rows; re-processed ones update their own row."""
        now = clock.now()
        fresh = []
        for line, rid, raw, fld, reason in rejects:
            if rid and rid in existing:
                conn.execute(
                    update(m.SuspenseRecord)
                    .where(m.SuspenseRecord.id == existing[rid])
                    .values(field=fld, reason=reason, status="pending")
                )
            else:
                fresh.append(
                    {
                        "batch_id": batch_id,
                        "source": source[:200],
                        "line_no": line,
                        "record_id": rid or "",
                        "raw": raw,
                        "field": fld,
                        "reason": reason,
                        "status": "pending",
                        "created_at": now,
                    }
                )
        if fresh:
            conn.execute(insert(m.SuspenseRecord), fresh)

    def _store_notices(self, conn, notices: list[dict[str, Any]]) -> None:
        if not notices:
            return
        now = clock.now()
        for n in notices:
            exists = conn.execute(
                select(m.RoamingNotice.id).where(
                    m.RoamingNotice.subscription_id == n["subscription_id"],
                    m.RoamingNotice.period_start == n["period_start"],
                    m.RoamingNotice.threshold == n["threshold"],
                )
            ).first()
            if not exists:
                conn.execute(insert(m.RoamingNotice).values(**n, created_at=now))


class _GroupRating:
    """Rates the grouped events and yields the rows to insert, in chunks (no database access)."""

    def __init__(
        self, catalogue, groups, subs, periods, existing, closed, lines, batch_id, *, pstart_as_text, bought=None
    ):
        self.catalogue, self.groups, self.subs, self.periods = catalogue, groups, subs, periods
        self.existing, self.closed, self.lines, self.batch_id = existing, closed, lines, batch_id
        self.pstart_as_text = pstart_as_text
        self.bought: dict[tuple[int, date], list[tuple[int, str, int]]] = bought or {}  # add-ons per group
        self.rejects: list[tuple] = []
        self.updates: list[tuple] = []
        self.notices: list[dict[str, Any]] = []
        self.rated = 0
        self.rerated = 0

    def chunks(self):
        inserts: list[tuple] = []
        catalogue, batch_id, bought = self.catalogue, self.batch_id, self.bought
        for key in sorted(self.groups):
            sub = self.subs[key[0]]
            new_events = self.groups[key]
            old = self.existing.get(key, [])
            is_closed = (sub.customer_id, key[1]) in self.closed
            pstart = key[1].isoformat() if self.pstart_as_text else key[1]
            tail = (sub.id, sub.customer_id, pstart, is_closed, batch_id)
            if not old:
                # Only new events: rate_period's work without its per-event lookups. Sorting by
                # (started_at, record_id) first lets each outcome pair with its event by position.
                new_events.sort(key=_EVENT_ORDER)
                rater = PeriodRater(catalogue, sub, self.periods[key], bought_allowances=bought.get(key))
                outcomes = list(map(rater.rate, new_events))
                if Rejection not in set(map(type, outcomes)):
                    inserts += map(add, map(add, new_events, outcomes), repeat(tail))
                else:
                    for ev, outcome in zip(new_events, outcomes, strict=True):
                        if outcome.__class__ is Rejection:
                            self.rejects.append(
                                (self.lines.get(ev.record_id), ev.record_id, _raw_of(ev), outcome.field, outcome.reason)
                            )
                        else:
                            inserts.append(ev + outcome + tail)
                if rater.notifications:
                    for n in rater.notifications:
                        self.notices.append(
                            {
                                "subscription_id": sub.id,
                                "period_start": key[1],
                                "threshold": n.threshold,
                                "record_id": n.record_id,
                                "spent_ore": n.spent_ore,
                                "limit_ore": n.limit_ore,
                            }
                        )
                if len(inserts) >= FLUSH_ROWS:
                    self.rated += len(inserts)
                    yield inserts
                    inserts = []
                continue
            frozen = [o[0] for o in old if o[2] is not None]
            pending_old = [o for o in old if o[2] is None]
            outcomes, rater = rate_period(
                catalogue,
                sub,
                self.periods[key],
                new_events + [o[0] for o in pending_old],
                frozen,
                bought_allowances=bought.get(key),
            )
            old_by_rid = {o[0].record_id: o for o in pending_old}
            new_by_rid = {e.record_id: e for e in new_events}
            for outcome in outcomes:
                rid = outcome.record_id
                ev = new_by_rid.get(rid)
                if outcome.__class__ is Rejection:
                    if ev is not None:
                        self.rejects.append((self.lines.get(rid), rid, _raw_of(ev), outcome.field, outcome.reason))
                    continue
                if ev is not None:
                    inserts.append(ev + outcome + tail)
                else:
                    row_id, stored = old_by_rid[rid][1], old_by_rid[rid][3]
                    values = _result_values(outcome)
                    if values != stored:
                        self.updates.append((*values, row_id))
                        self.rerated += 1
            if rater.notifications:
                for n in rater.notifications:
                    if n.record_id in new_by_rid:
                        self.notices.append(
                            {
                                "subscription_id": sub.id,
                                "period_start": key[1],
                                "threshold": n.threshold,
                                "record_id": n.record_id,
                                "spent_ore": n.spent_ore,
                                "limit_ore": n.limit_ore,
                            }
                        )
            if len(inserts) >= FLUSH_ROWS:
                self.rated += len(inserts)
                yield inserts
                inserts = []
        self.rated += len(inserts)
        if inserts:
            yield inserts

    def summary(self) -> tuple:
        return self.rejects, self.updates, self.notices, self.rated, self.rerated


class _LineNumbers:
    """Line of each event by record_id; the index is built only if a rejection asks for it."""

    def __init__(self, events: list[UsageEvent], lines: array):
        self._events, self._lines = events, lines
        self._by_id: dict[str, int] | None = None

    def get(self, record_id: str) -> int | None:
        if self._by_id is None:
            self._by_id = dict(zip(map(_RECORD_ID, self._events), self._lines, strict=True))
        line = self._by_id.get(record_id, -1)
        return None if line < 0 else line


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


def _can_fork() -> bool:
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def _rate_in_child(work: _GroupRating, conn) -> tuple:
    """Rate in a forked child while this process writes what it sends: two cores, one writer.

    The child inherits the grouped events (no copying in), never touches the database, and
    sends chunks of rows back through a pipe; the parent inserts them as they arrive.
    """
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            # Only the stored columns cross the pipe: less to pickle here and to unpickle and
            # bind in the writer, which is the busier of the two processes.
            stored = itemgetter(*_STORED)
            for chunk in work.chunks():
                sender.send(("rows", list(map(stored, chunk))))
            sender.send(("done", work.summary()))
        except BaseException:  # report, never hang the parent
            sender.send(("error", traceback.format_exc()))
        finally:
            sender.close()

    proc = ctx.Process(target=child, name="usage-rating", daemon=True)
    proc.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError("the rating process ended without a result") from None
            if kind == "rows":
                bulk_insert(conn, "usage_events", EVENT_COLUMNS, payload)
            elif kind == "done":
                return payload
            else:
                raise RuntimeError(f"rating failed in the child process:\n{payload}")
    finally:
        receiver.close()
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()


def load_bought_allowances(
    conn, keys: Iterable[tuple[int, date]]
) -> dict[tuple[int, date], list[tuple[int, str, int]]]:
    """Add-ons bought per (subscription, period start) among ``keys``: ``[(bought epoch, pool, units)]``.

    One probe when nobody has bought an add-on (the common import), one query per 5 000
    subscriptions otherwise.
    """
    wanted = set(keys)
    if not wanted or not conn.execute(select(select(AddonPurchase.id).limit(1).exists())).scalar():
        return {}
    out: dict[tuple[int, date], list[tuple[int, str, int]]] = defaultdict(list)
    for part in chunks(sorted({k[0] for k in wanted})):
        q = select(
            AddonPurchase.subscription_id,
            AddonPurchase.period_start,
            AddonPurchase.bought_epoch,
            AddonPurchase.allowances,
        ).where(AddonPurchase.subscription_id.in_(part))
        for r in conn.execute(q):
            key = (r.subscription_id, r.period_start)
            if key in wanted:
                out[key] += [(r.bought_epoch, pool, int(units)) for pool, units in sorted(r.allowances.items())]
    return dict(out)


def rerate_period(conn, catalogue: Catalogue, subscription: Subscription, period: Period) -> int:
    """Re-rate the not yet invoiced events of one subscription and period, in event order.

    Used when an add-on is bought: events that started after the purchase now draw from it.
    Invoiced events are replayed, never changed. Returns how many events changed.
    """
    key = (subscription.id, period.start)
    importer = UsageImporter(conn.engine, catalogue)
    existing = importer._existing_events(conn, [key], {subscription.id: subscription})
    if not any(o[2] is None for o in existing.get(key, ())):
        return 0
    work = _GroupRating(
        catalogue,
        {key: []},
        {subscription.id: subscription},
        {key: period},
        existing,
        set(),
        _LineNumbers([], array("q")),
        None,
        pstart_as_text=conn.dialect.name == "sqlite",
        bought=load_bought_allowances(conn, [key]),
    )
    for _ in work.chunks():  # no new events: nothing to insert, only updates
        pass
    bulk_update(
        conn,
        "UPDATE usage_events SET "
        + ", ".join(f"{f} = ?" for f in RESULT_FIELDS)
        + " WHERE id = ? AND invoice_id IS NULL",
        work.updates,
    )
    return work.rerated


def _result_values(r: RatedEvent) -> tuple:
    return (
        r.plan_id,
        r.category,
        r.rate_key,
        r.destination,
        r.offpeak,
        r.billed_units,
        r.included_units,
        r.charged_units,
        r.surcharge_units,
        r.charge_exact,
        r.fee_exact,
        r.surcharge_exact,
    )


def _normalise(stored: tuple) -> tuple:
    values = list(stored)
    values[4] = bool(values[4])
    return tuple(values)


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
