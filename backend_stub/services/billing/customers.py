"""Customers and subscriptions: import from CSV (one row per subscription plan segment).

Columns (docs/customers-csv.md): customer_number, subscription_id, name, email, phone,
street, postal_code, city, channel, msisdn, plan, start_date, end_date,
reminder_fee_agreed, discount, discount_start, cycle_day. A plan change is two rows with
the same subscription_id: the first ends the day before the second starts. Importing the
same file again changes nothing; a file that names a subscription replaces its segments.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue, in_language
from backend_stub.domain.periods import PlanSegment as DomainSegment
from backend_stub.domain.periods import validate_segments
from backend_stub.services.charges.pending import segment_status
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions

CUSTOMER_COLUMNS = (
    "customer_number",
    "subscription_id",
    "name",
    "email",
    "phone",
    "street",
    "postal_code",
    "city",
    "channel",
    "msisdn",
    "plan",
    "start_date",
    "end_date",
    "reminder_fee_agreed",
    "discount",
    "discount_start",
    "cycle_day",
)
REQUIRED = ("customer_number", "subscription_id", "name", "plan", "start_date")
CHANNELS = ("email", "sms", "letter")
_E164 = re.compile(r"\+[1-9]\d{4,14}")


@dataclass
class CustomerImportResult:
    rows: int = 0
    customers: int = 0
    subscriptions: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "customers": self.customers,
            "subscriptions": self.subscriptions,
            "errors": self.errors,
        }


def _date(text: str, line: int, name: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"line {line}: {name} {text!r} is not a date like 2026-10-01")
        return None


@dataclass
class _Row:
    """One valid row's values, parsed."""

    line: int
    number: str
    msisdn: str
    plan: Any  # the catalogue's plan, or None (a required-plan error names it)
    plan_id: str
    channel: str
    start: date | None
    end: date | None
    discount: str
    cycle: str
    fee_agreed: str


def parse_customer_rows(
    rows: Iterable[tuple[int, dict[str, str]]], catalogue: Catalogue, result: CustomerImportResult
) -> dict[str, dict[str, Any]]:
    """Validate rows; returns subscriptions by id with their customer and segments.

    A customer's rows apply all together or not at all: when one is rejected, the
    customer's other rows are dropped too and an error names them (a plan change is two
    rows, and applying one alone would cut an active subscription short).
    """
    subs: dict[str, dict[str, Any]] = {}
    customer_lines: dict[str, list[int]] = {}  # every row of each customer, rejected or not
    rejected: dict[str, list[int]] = {}  # the rejected rows of each customer
    for line, raw in rows:
        result.rows += 1
        row = {k: (v or "").strip() for k, v in raw.items()}
        parsed, errs = _check_row(line, row, catalogue)
        if parsed.number:
            customer_lines.setdefault(parsed.number, []).append(line)
        if errs:
            result.errors.extend(errs)
            if parsed.number:
                rejected.setdefault(parsed.number, []).append(line)
            continue
        _add_row(subs, row, parsed, result, rejected)
    for sid, entry in list(subs.items()):
        try:
            validate_segments(entry["segments"], field=f"subscription {sid}")
        except ValueError as exc:
            result.errors.append(f"line {entry['lines'][-1]}: {exc}")
            for number in entry["customers"]:
                rejected.setdefault(number, []).append(entry["lines"][-1])
    _all_or_nothing(customer_lines, rejected, result)
    return {sid: entry for sid, entry in subs.items() if not entry["customers"] & rejected.keys()}


def _check_row(line: int, row: dict[str, str], catalogue: Catalogue) -> tuple[_Row, list[str]]:
    """A row's values and every error in it, each naming the line and the field."""
    errs: list[str] = []
    for col in REQUIRED:
        if not row.get(col):
            errs.append(f"line {line}: {col} is required")
    plan_id = row.get("plan", "")
    plan = catalogue.plans.get(plan_id)
    if plan_id and plan is None:
        errs.append(f"line {line}: plan {plan_id!r} is not in the catalogue")
    msisdn = row.get("msisdn", "")
    if msisdn and not _E164.fullmatch(msisdn):
        errs.append(f"line {line}: msisdn {msisdn!r} is not an E.164 number like +46701234567")
    if plan is not None and plan.kind == "mobile" and not msisdn:
        errs.append(f"line {line}: msisdn is required for mobile plan {plan_id}")
    channel = row.get("channel") or "email"
    if channel not in CHANNELS:
        errs.append(f"line {line}: channel {channel!r} is not one of {', '.join(CHANNELS)}")
    start = _date(row["start_date"], line, "start_date", errs) if row.get("start_date") else None
    end = _date(row["end_date"], line, "end_date", errs) if row.get("end_date") else None
    if start and end and end < start:
        errs.append(f"line {line}: end_date {end} is before start_date {start}")
    discount = row.get("discount", "")
    if discount and discount not in catalogue.discounts:
        errs.append(f"line {line}: discount {discount!r} is not in the catalogue")
    if discount and not re.fullmatch(r"\d{4}-\d{2}", row.get("discount_start", "")):
        errs.append(f"line {line}: discount_start must be a month like 2026-10")
    cycle = row.get("cycle_day") or "1"
    if not cycle.isdigit() or not 1 <= int(cycle) <= 28:
        errs.append(f"line {line}: cycle_day {cycle!r} must be 1..28")
    fee_agreed = (row.get("reminder_fee_agreed") or "true").lower()
    if fee_agreed not in ("true", "false", "1", "0", "yes", "no"):
        errs.append(f"line {line}: reminder_fee_agreed {fee_agreed!r} must be true or false")
    number = row.get("customer_number", "")
    return _Row(line, number, msisdn, plan, plan_id, channel, start, end, discount, cycle, fee_agreed), errs


def _add_row(
    subs: dict[str, dict[str, Any]],
    row: dict[str, str],
    r: _Row,
    result: CustomerImportResult,
    rejected: dict[str, list[int]],
) -> None:
    """A valid row onto its subscription: the customer's details, a plan segment, a discount. A
    subscription keeps the number of its first row."""
    sid = row["subscription_id"]
    entry = subs.setdefault(
        sid, {"customer": None, "msisdn": r.msisdn, "segments": [], "discounts": [], "lines": [], "customers": set()}
    )
    entry["customers"].add(r.number)
    if entry["msisdn"] != r.msisdn:
        result.errors.append(f"line {r.line}: subscription {sid} has msisdn {entry['msisdn']} on an earlier row")
        rejected.setdefault(r.number, []).append(r.line)
        return
    entry["customer"] = {
        "customer_number": row["customer_number"],
        "name": row["name"],
        "email": row.get("email", ""),
        "phone": row.get("phone", ""),
        "street": row.get("street", ""),
        "postal_code": row.get("postal_code", ""),
        "city": row.get("city", ""),
        "channel": r.channel,
        "reminder_fee_agreed": r.fee_agreed in ("true", "1", "yes"),
        "cycle_day": int(r.cycle),
    }
    entry["kind"] = r.plan.kind if r.plan else "mobile"
    assert r.start is not None  # start_date is required: a row without one has an error
    entry["segments"].append(DomainSegment(r.plan_id, r.start, r.end))
    entry["lines"].append(r.line)
    if r.discount:
        entry["discounts"].append((r.discount, row["discount_start"]))


def _all_or_nothing(
    customer_lines: dict[str, list[int]], rejected: dict[str, list[int]], result: CustomerImportResult
) -> None:
    """An error for the rows of a customer that are not applied because another of its rows was rejected."""
    for number, bad in rejected.items():
        others = [n for n in customer_lines.get(number, []) if n not in bad]
        if others:
            result.errors.append(
                f"line{'s' if len(others) > 1 else ''} {', '.join(map(str, others))}: not applied: customer {number} "
                f"is imported all or nothing and its line{'s' if len(bad) > 1 else ''} "
                f"{', '.join(map(str, sorted(set(bad))))} {'were' if len(set(bad)) > 1 else 'was'} rejected"
            )


def import_customers(
    engine: Engine, catalogue: Catalogue, rows: Iterable[tuple[int, dict[str, str]]]
) -> CustomerImportResult:
    """Upsert customers and subscriptions from rows; bad rows are reported and skipped."""
    result = CustomerImportResult()
    subs = parse_customer_rows(rows, catalogue, result)
    now = clock.now()
    with engine.begin() as conn:
        customer_ids = {
            r.customer_number: r.id for r in conn.execute(select(m.Customer.id, m.Customer.customer_number))
        }
        sub_ids = {
            r.subscription_number: r.id
            for r in conn.execute(select(m.Subscription.id, m.Subscription.subscription_number))
        }
        seen_customers: set[str] = set()
        for sid, entry in subs.items():
            cust = entry["customer"]
            number = cust["customer_number"]
            if number in customer_ids:
                if number not in seen_customers:
                    conn.execute(update(m.Customer).where(m.Customer.id == customer_ids[number]).values(**cust))
            else:
                customer_ids[number] = conn.execute(
                    insert(m.Customer).values(**cust, created_at=now).returning(m.Customer.id)
                ).scalar_one()
            seen_customers.add(number)
            cid = customer_ids[number]
            if sid in sub_ids:
                conn.execute(
                    update(m.Subscription)
                    .where(m.Subscription.id == sub_ids[sid])
                    .values(customer_id=cid, msisdn=entry["msisdn"] or None, kind=entry["kind"])
                )
                conn.execute(delete(m.PlanSegment).where(m.PlanSegment.subscription_id == sub_ids[sid]))
                conn.execute(delete(m.DiscountGrant).where(m.DiscountGrant.subscription_id == sub_ids[sid]))
            else:
                sub_ids[sid] = conn.execute(
                    insert(m.Subscription)
                    .values(
                        subscription_number=sid, customer_id=cid, msisdn=entry["msisdn"] or None, kind=entry["kind"]
                    )
                    .returning(m.Subscription.id)
                ).scalar_one()
            for seg in entry["segments"]:
                conn.execute(
                    insert(m.PlanSegment).values(
                        subscription_id=sub_ids[sid], plan_id=seg.plan_id, start_date=seg.start, end_date=seg.end
                    )
                )
            for discount_id, start in dict.fromkeys(entry["discounts"]):
                conn.execute(
                    insert(m.DiscountGrant).values(
                        customer_id=cid, subscription_id=sub_ids[sid], discount_id=discount_id, start_period=start
                    )
                )
            result.subscriptions += 1
        result.customers = len(seen_customers)
    return result


def read_customers_csv(stream: IO[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """Rows of a customers CSV as ``(line_no, row)``; refuses a header without the required columns, and
    a file the CSV reader cannot read, with ``ValueError`` naming the line."""
    reader = csv.DictReader(stream)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ValueError(f"line 1: header lacks required column(s) {', '.join(missing)}")
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:  # e.g. a lone carriage return inside a field: the file, not the server
        raise ValueError(f"line {reader.line_num + 1}: not readable as CSV ({exc})") from None


def search_customers(engine: Engine, q: str, limit: int, offset: int) -> dict[str, Any]:
    """Customers matching a name, customer number, e-mail or phone number (staff search)."""
    query = select(m.Customer)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(m.Customer.name).like(like),
                func.lower(m.Customer.customer_number).like(like),
                func.lower(m.Customer.email).like(like),
                m.Customer.phone.like(f"%{q}%"),
            )
        )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.order_by(m.Customer.customer_number).limit(limit).offset(offset))
        items = [
            {
                "id": r.id,
                "customer_number": r.customer_number,
                "name": r.name,
                "email": r.email,
                "phone": r.phone,
                "city": r.city,
            }
            for r in rows
        ]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


def find_customer_id(engine: Engine, identifier: str) -> int | None:
    """A customer's id by customer number or by the phone number of one of its subscriptions."""
    with engine.connect() as conn:
        cid = conn.execute(select(m.Customer.id).where(m.Customer.customer_number == identifier)).scalar()
        if cid is None:
            cid = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.msisdn == identifier)).scalar()
        return cid


def get_customer(
    engine: Engine, catalogue: Catalogue, customer_id: int, today: date | None = None
) -> dict[str, Any] | None:
    """One customer with subscriptions and plan segments, and the credit balance.

    Each segment has a ``status`` on ``today`` (the core clock's day): ``current``, ``pending``
    (a change ordered for a later day) or ``ended``; ``plan_id``/``plan_name`` of a subscription
    are those of its current segment (None when none runs today).
    """
    with engine.connect() as conn:
        c = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).first()
        if c is None:
            return None
        subs = load_subscriptions(conn, customer_ids=[customer_id])
        credit = ledger.customer_credit_balance(conn, customer_id)
    today = today or clock.today()

    def name(plan_id: str) -> str:
        return catalogue.plans[plan_id].name if plan_id in catalogue.plans else plan_id

    def name_en(plan_id: str) -> str:
        return in_language(catalogue.plans[plan_id], "en") if plan_id in catalogue.plans else plan_id

    def current(s: Any) -> Any:
        return next((g for g in s.segments if segment_status(g.start, g.end, today) == "current"), None)

    return {
        "id": c.id,
        "customer_number": c.customer_number,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "address": {"street": c.street, "postal_code": c.postal_code, "city": c.city},
        "channel": c.channel,
        "language": c.language,
        "reminder_fee_agreed": c.reminder_fee_agreed,
        "cycle_day": c.cycle_day,
        "credit_balance_ore": credit,
        "subscriptions": [
            {
                "id": s.id,
                "number": s.number,
                "msisdn": s.msisdn,
                "plan_id": cur.plan_id if cur else None,
                "plan_name": name(cur.plan_id) if cur else None,
                "plan_name_en": name_en(cur.plan_id) if cur else None,
                "segments": [
                    {
                        "plan_id": g.plan_id,
                        "plan_name": name(g.plan_id),
                        "plan_name_en": name_en(g.plan_id),
                        "start": g.start.isoformat(),
                        "end": g.end.isoformat() if g.end else None,
                        "status": segment_status(g.start, g.end, today),
                    }
                    for g in s.segments
                ],
            }
            for s in subs
            for cur in [current(s)]
        ],
    }
