"""Recording alerts once and delivering them: SMS, e-mail and the app (issue 17).

``record`` writes each alert once (``usage_alerts.key`` is unique; an insert that finds it does
nothing, so concurrent imports cannot tell twice) with how and when it goes: roaming notices by
SMS to the roaming number itself, allowance and cost alerts by the customer's channel (SMS or
e-mail), SMS held for the day (``domain.alerts.send_at``). A late record's alert, or one the
subscriber's settings turn off, is recorded as spent (``channel`` ``none``), so the threshold is
not told later either. ``deliver_due`` sends what is due through the outbox (``messaging``, one
message per key) and marks it sent; the app shows the period's alerts until dismissed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub import clock
from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import Catalogue
from backend_stub.services.alerts.choices import settings_for
from backend_stub.services.alerts.texts import message
from backend_stub.services.lifecycle import messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import UsageAlert
from backend_stub.storage.repo import chunks

logger = logging.getLogger(__name__)

ROAMING_KINDS = frozenset({rules.WELCOME, rules.FAIR_USE, rules.SPEND_LIMIT})
_ORDER = {rules.WELCOME: 0, rules.ALLOWANCE: 1, rules.FAIR_USE: 2, rules.SPEND_LIMIT: 3, rules.COST: 4}


def record(
    engine: Engine, alerts: Sequence[rules.Alert], *, now: datetime | None = None, catalogue: Catalogue | None = None
) -> int:
    """Write the alerts not written before; returns how many are new (and to be delivered or shown). A
    subscription without choices has ``catalogue``'s defaults."""
    if not alerts:
        return 0
    now = now or clock.now()
    with engine.begin() as conn:
        subs = _subscriptions(conn, sorted({a.subscription_id for a in alerts}))
        settings = settings_for(conn, list(subs), catalogue)
        # Told in the order things happened: by the event, and for one event the welcome before the limits.
        alerts = sorted(alerts, key=lambda a: (a.at, _ORDER.get(a.kind, 9), a.level))
        rows = [
            _row(a, subs[a.subscription_id], settings[a.subscription_id], now)
            for a in alerts
            if a.subscription_id in subs
        ]
        if not rows:
            return 0
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(UsageAlert).on_conflict_do_nothing(index_elements=["key"]).returning(UsageAlert.id)
        new = len(conn.execute(statement, rows).all())  # executemany: no giant statement to compile
    return new


def _row(alert: rules.Alert, sub: Any, choice: rules.AlertSettings, now: datetime) -> dict[str, Any]:
    silent = bool(alert.data.get("late")) or not rules.wanted(alert, choice)
    if silent:
        channel = "none"
    elif alert.kind in ROAMING_KINDS:
        channel = "sms" if sub.msisdn and "sms" in choice.channels else "none"
    else:
        channel = messaging.channel_of(sub)
        channel = channel if channel in ("sms", "email") and channel in choice.channels else "none"
    return {
        "key": alert.key,
        "customer_id": sub.customer_id,
        "subscription_id": alert.subscription_id,
        "period_start": alert.period_start,
        "kind": alert.kind,
        "level": alert.level,
        "event_at": alert.at,
        "data": {k: v for k, v in alert.data.items() if k != "late"},
        "channel": channel,
        "created_at": now,
        "send_after": rules.send_at(now, channel=channel, kind=alert.kind, level=alert.level).astimezone(UTC),
        "sent_at": now if channel == "none" else None,
        "dismissed_at": now if silent else None,
    }


def _subscriptions(conn: Connection, sub_ids: list[int]) -> dict[int, Any]:
    """The subscription's number with its customer's channel, addresses and language."""
    s, c = m.Subscription, m.Customer
    out: dict[int, Any] = {}
    for part in chunks(sub_ids):
        q = (
            select(s.id, s.msisdn, s.customer_id, c.channel, c.email, c.phone, c.language)
            .join(c, c.id == s.customer_id)
            .where(s.id.in_(part))
        )
        out.update({row.id: row for row in conn.execute(q)})
    return out


def deliver_due(
    engine: Engine,
    catalogue: Catalogue,
    *,
    now: datetime | None = None,
    sms: messaging.SmsProvider | None = None,
    mail: messaging.MailSettings | None = None,
) -> int:
    """Send every alert whose time has come (SMS in the day); returns how many went out."""
    now = now or clock.now()
    sms = sms or messaging.OutboxSmsProvider()
    mail = mail or messaging.MailSettings.from_env()
    base = LifecycleConfig.from_env().public_url
    a = UsageAlert
    with engine.connect() as conn:
        due = conn.execute(
            select(a).where(a.sent_at.is_(None), a.send_after <= now, a.channel.in_(("sms", "email"))).order_by(a.id)
        ).all()
        subs = _subscriptions(conn, sorted({row.subscription_id for row in due}))
    done: list[int] = []
    recorded: dict[str, int] = {}  # outbox key -> alert id, for the messages nothing else delivers
    bulk: list[dict[str, str]] = []
    for row in due:
        sub = subs.get(row.subscription_id)
        if sub is None:
            continue
        lang = "en" if sub.language == "en" else "sv"
        text = message(row.kind, row.level, row.data, lang, catalogue, base)
        key = f"alert:{row.key}"
        to = _address(row, sub)
        subject = "" if row.channel == "sms" else _SUBJECT["en" if lang == "en" else "sv"]
        if (row.channel == "sms" and not sms.delivers) or (row.channel == "email" and mail.host is None):
            bulk.append({"channel": row.channel, "to": to, "subject": subject, "text": text, "key": key})
            recorded[key] = row.id
            continue
        try:
            if row.channel == "sms":
                messaging.send_sms(engine, sms, to=to, text=text, key=key)
            else:
                messaging.send_email(engine, mail, to=to, subject=subject, text=text, key=key)
        except Exception as exc:  # kept for the next round: the outbox row says failed
            logger.warning("alert %s not sent: %s", row.key, exc)
            continue
        done.append(row.id)
    if bulk:  # the outbox is the delivery: one statement, not two transactions a message
        messaging.record_many(engine, bulk)
        done += recorded.values()
    # Marked in one statement per chunk (a message is never sent twice anyway: the outbox keys it).
    with engine.begin() as conn:
        for part in chunks(done):
            conn.execute(update(a).where(a.id.in_(list(part))).values(sent_at=now))
    return len(done)


_SUBJECT = {"sv": "Din förbrukning", "en": "Your usage"}


def _address(row: Any, sub: Any) -> str:
    """Roaming notices to the roaming number itself; the others to the customer's phone or e-mail."""
    if row.channel == "sms":
        return str(sub.msisdn if row.kind in ROAMING_KINDS else sub.phone)
    return str(sub.email)
