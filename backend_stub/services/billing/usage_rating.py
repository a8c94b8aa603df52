"""Rating an import's events in chunks: per (subscription, period), in event order, without the database.

``GroupRating`` rates the grouped events of an import and yields the rows to insert in chunks of
``FLUSH_ROWS``; a period with stored, not yet invoiced events is re-rated whole, and what changed
becomes an update. ``rate_in_child`` runs the same in a forked process while this one writes.
A stored row is built without copying field by field (``ROW_LAYOUT``).
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from array import array
from collections.abc import Iterator
from datetime import date, datetime
from itertools import repeat
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Connection

from backend_stub.domain.alerts import Alert
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period, Subscription
from backend_stub.domain.rating import (
    STOCKHOLM,
    Notification,
    PeriodRater,
    RatedEvent,
    Rejection,
    UsageEvent,
    rate_period,
)
from backend_stub.services.alerts.rating_pass import GroupAlerts
from backend_stub.storage.repo import bulk_insert

FLUSH_ROWS = 20_000
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
RECORD_ID = itemgetter(0)
STARTED_AT = itemgetter(3)
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

GroupKey = tuple[int, date]  # (subscription id, period start)
# A stored event of a group: (the event, row id, invoice id or None, its stored RESULT_FIELDS).
StoredEvent = tuple[UsageEvent, int, str | None, tuple[Any, ...]]
# A rejection: (line, record_id, raw values, field, reason).
Reject = tuple[int | None, str, dict[str, Any], str, str]
Bought = dict[GroupKey, list[tuple[int, str, int]]]  # add-ons per group: (bought epoch, pool, units)
# The alerts the rating pass found, and each rated group's latest event and whether its period is invoiced.
AlertsFound = tuple[list[Alert], dict[GroupKey, tuple[int, bool]]]


def event_raw(ev: UsageEvent) -> dict[str, Any]:
    """An event as the CSV row it came from (what suspense keeps, so that it can be re-processed)."""
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


class LineNumbers:
    """Line of each event by record_id; the index is built only if a rejection asks for it."""

    def __init__(self, events: list[UsageEvent], lines: array[int]):
        self._events, self._lines = events, lines
        self._by_id: dict[str, int] | None = None

    def get(self, record_id: str) -> int | None:
        if self._by_id is None:
            self._by_id = dict(zip(map(RECORD_ID, self._events), self._lines, strict=True))
        line = self._by_id.get(record_id, -1)
        return None if line < 0 else line


class GroupRating:
    """Rates the grouped events and yields the rows to insert, in chunks (no database access)."""

    def __init__(
        self,
        catalogue: Catalogue,
        groups: dict[GroupKey, list[UsageEvent]],
        subs: dict[int, Subscription],
        periods: dict[GroupKey, Period],
        existing: dict[GroupKey, list[StoredEvent]],
        closed: set[tuple[int, date]],
        lines: LineNumbers,
        batch_id: int | None,
        *,
        pstart_as_text: bool,
        bought: Bought | None = None,
        continues: dict[GroupKey, int] | None = None,
        spend_limits: dict[int, tuple[tuple[int, int], ...]] | None = None,
        alerts: GroupAlerts | None = None,
    ):
        self.catalogue, self.groups, self.subs, self.periods = catalogue, groups, subs, periods
        self.continues: dict[GroupKey, int] = continues or {}  # "continue data abroad" chosen, per group
        self.spend_limits = spend_limits or {}  # the spending limits chosen, per subscription
        self.alerts = alerts  # the usage alerts of the rated groups (None: not looked for)
        self.existing, self.closed, self.lines, self.batch_id = existing, closed, lines, batch_id
        self.pstart_as_text = pstart_as_text
        self.bought: Bought = bought or {}
        self.rejects: list[Reject] = []
        self.updates: list[tuple[Any, ...]] = []
        self.notices: list[dict[str, Any]] = []
        self.rated = 0
        self.rerated = 0

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        """The rows to insert, group by group in key order, in chunks of at least ``FLUSH_ROWS``."""
        inserts: list[tuple[Any, ...]] = []
        for key in sorted(self.groups):
            sub = self.subs[key[0]]
            is_closed = (sub.customer_id, key[1]) in self.closed
            pstart = key[1].isoformat() if self.pstart_as_text else key[1]
            tail = (sub.id, sub.customer_id, pstart, is_closed, self.batch_id)
            old = self.existing.get(key, [])
            if not old:
                self._rate_new(key, sub, tail, inserts)
            else:
                self._rerate_with_stored(key, sub, tail, old, inserts)
            if len(inserts) >= FLUSH_ROWS:
                self.rated += len(inserts)
                yield inserts
                inserts = []
        self.rated += len(inserts)
        if inserts:
            yield inserts

    def _rate_new(
        self, key: GroupKey, sub: Subscription, tail: tuple[Any, ...], inserts: list[tuple[Any, ...]]
    ) -> None:
        """Only new events: rate_period's work without its per-event lookups. Sorting by
        (started_at, record_id) first lets each outcome pair with its event by position."""
        new_events = self.groups[key]
        new_events.sort(key=_EVENT_ORDER)
        rater = PeriodRater(
            self.catalogue,
            sub,
            self.periods[key],
            bought_allowances=self.bought.get(key),
            roaming_continue_at=self.continues.get(key),
            spend_limits=self.spend_limits.get(key[0]),
        )
        outcomes = list(map(rater.rate, new_events))
        if Rejection not in set(map(type, outcomes)):
            inserts += map(add, map(add, new_events, outcomes), repeat(tail))
        else:
            for ev, outcome in zip(new_events, outcomes, strict=True):
                if outcome.__class__ is Rejection:
                    self.rejects.append(
                        (self.lines.get(ev.record_id), ev.record_id, event_raw(ev), outcome.field, outcome.reason)
                    )
                else:
                    inserts.append(ev + outcome + tail)
        if rater.notifications:
            self._notice(sub, key, rater.notifications, None)
        if self.alerts is not None:
            self.alerts.after_group(sub, key[1], bool(tail[3]), rater, new_events, outcomes)

    def _rerate_with_stored(
        self,
        key: GroupKey,
        sub: Subscription,
        tail: tuple[Any, ...],
        old: list[StoredEvent],
        inserts: list[tuple[Any, ...]],
    ) -> None:
        """New events among stored ones: the period's not yet invoiced events are rated again with the new
        ones, after the invoiced ones (replayed, never changed); a stored event whose result changed is an
        update."""
        new_events = self.groups[key]
        frozen = [o[0] for o in old if o[2] is not None]
        pending_old = [o for o in old if o[2] is None]
        outcomes, rater = rate_period(
            self.catalogue,
            sub,
            self.periods[key],
            new_events + [o[0] for o in pending_old],
            frozen,
            bought_allowances=self.bought.get(key),
            roaming_continue_at=self.continues.get(key),
            spend_limits=self.spend_limits.get(key[0]),
        )
        old_by_rid = {o[0].record_id: o for o in pending_old}
        new_by_rid = {e.record_id: e for e in new_events}
        for outcome in outcomes:
            rid = outcome.record_id
            ev = new_by_rid.get(rid)
            if isinstance(outcome, Rejection):
                if ev is not None:
                    self.rejects.append((self.lines.get(rid), rid, event_raw(ev), outcome.field, outcome.reason))
                continue
            if ev is not None:
                inserts.append(ev + outcome + tail)
            else:
                row_id, stored = old_by_rid[rid][1], old_by_rid[rid][3]
                values = result_values(outcome)
                if values != stored:
                    self.updates.append((*values, row_id))
                    self.rerated += 1
        if rater.notifications:
            self._notice(sub, key, rater.notifications, new_by_rid)
        if self.alerts is not None:  # the events in the order rate_period rated them (after the frozen ones)
            in_order = sorted(new_events + [o[0] for o in pending_old], key=_EVENT_ORDER)
            self.alerts.after_group(sub, key[1], bool(tail[3]), rater, in_order, outcomes)

    def _notice(
        self, sub: Subscription, key: GroupKey, notifications: list[Notification], only: dict[str, Any] | None
    ) -> None:
        """Bill-shock notices of the group (re-rated groups: only those an event of this import set off)."""
        for n in notifications:
            if only is None or n.record_id in only:
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

    def summary(self) -> tuple[list[Reject], list[tuple[Any, ...]], list[dict[str, Any]], int, int, AlertsFound]:
        found: AlertsFound = (self.alerts.found, self.alerts.latest) if self.alerts is not None else ([], {})
        return self.rejects, self.updates, self.notices, self.rated, self.rerated, found


def can_fork() -> bool:
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


def rate_in_child(work: GroupRating, conn: Connection) -> Any:
    """Rate in a forked child while this process writes what it sends: two cores, one writer.

    The child inherits the grouped events (no copying in), never touches the database, and
    sends chunks of rows back through a pipe; the parent inserts them as they arrive.
    Returns what ``work.summary()`` returned in the child.
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


def result_values(r: RatedEvent) -> tuple[Any, ...]:
    """A rated event's ``RESULT_FIELDS``, in that order."""
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


def normalise(stored: tuple[Any, ...]) -> tuple[Any, ...]:
    """Stored ``RESULT_FIELDS`` as ``result_values`` gives them (``offpeak`` a bool on every database)."""
    values = list(stored)
    values[4] = bool(values[4])
    return tuple(values)
