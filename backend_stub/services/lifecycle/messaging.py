"""Outgoing messages: e-mail over SMTP, SMS through a provider, letters to the print queue, all recorded in
``outbox_messages``.

Every message has a ``key``; a key that was already sent is never sent again, so a crashed
run can simply be run again. The order is: record the message as ``pending`` (committed),
hand it to SMTP or the SMS provider, mark it ``sent``. A crash between the hand-over and the
mark leaves it ``pending`` and the rerun sends it once more; the e-mail's Message-ID is
derived from the key, so the receiving side can still tell it is the same message.

Without an SMTP host (``SELFCARE_SMTP_HOST`` unset) e-mail is only recorded in the outbox
(status ``recorded``), which is what the demo shows.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub import clock
from backend_stub.domain.errors import Invalid
from backend_stub.settings import Settings, settings_for
from backend_stub.storage.models.lifecycle import OutboxMessage

DONE = ("sent", "recorded")
CHANNELS = ("email", "sms", "letter")


@dataclass(frozen=True)
class MailSettings:
    """Where e-mail goes. ``host=None`` records e-mail in the outbox without sending it."""

    host: str | None = None
    port: int = 25
    sender: str = "Nordvik Mobil <faktura@nordvik.example>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> MailSettings:
        """From ``SELFCARE_SMTP_HOST``, ``SELFCARE_SMTP_PORT``, ``SELFCARE_MAIL_FROM`` (and optional
        ``SELFCARE_SMTP_USER``, ``SELFCARE_SMTP_PASSWORD``, ``SELFCARE_SMTP_STARTTLS=1``)."""
        return cls.from_settings(settings_for(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        """Where ``settings`` send e-mail (the port is checked there)."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from or cls.sender,
            username=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )


class SmsProvider(Protocol):
    """Sends one SMS. Raise on failure; the message then stays ``failed`` in the outbox and is retried."""

    name: str
    delivers: bool  # False: the provider only records (the outbox is the delivery)

    def send(self, *, to: str, text: str, key: str) -> None: ...


class OutboxSmsProvider:
    """The built-in provider: the outbox row is the SMS (the demo shows it)."""

    name = "outbox"
    delivers = False

    def send(self, *, to: str, text: str, key: str) -> None:
        return None


def _now() -> datetime:
    return clock.now()


def _claim(
    engine: Engine,
    *,
    channel: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    key: str,
    invoice_id: str | None,
) -> int | None:
    """Record the message as pending; None if ``key`` was already sent (idempotent)."""
    if channel not in CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if not key:
        raise Invalid("key", "must not be empty")
    if not to:
        raise Invalid("to", f"no {channel} address for message {key!r}")
    with engine.begin() as conn:
        row = conn.execute(select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.key == key)).first()
        if row is not None:
            return None if row.status in DONE else row.id
        return conn.execute(
            insert(OutboxMessage)
            .values(
                channel=channel,
                to=to,
                subject=subject,
                text=text,
                html=html,
                key=key,
                created_at=_now(),
                status="pending",
                invoice_id=invoice_id,
            )
            .returning(OutboxMessage.id)
        ).scalar_one()


def _finish(engine: Engine, msg_id: int, status: str, error: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == msg_id)
            .values(status=status, error=error, sent_at=_now() if status in DONE else None)
        )


def message_id_for(key: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "selfcare.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_email(
    settings: MailSettings, *, to: str, subject: str, text: str, html: str | None, key: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id_for(key, settings.sender)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def _smtp_send(settings: MailSettings, msg: EmailMessage) -> None:
    assert settings.host is not None
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(msg)


def send_email(
    engine: Engine,
    settings: MailSettings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    key: str,
    invoice_id: str | None = None,
) -> bool:
    """Send an e-mail once per ``key``: True if sent (or recorded) now, False if the key was already sent.

    SMTP errors are raised after the outbox row is marked ``failed`` (a rerun tries again).
    """
    msg_id = _claim(
        engine, channel="email", to=to, subject=subject, text=text, html=html, key=key, invoice_id=invoice_id
    )
    if msg_id is None:
        return False
    if settings.host is None:
        _finish(engine, msg_id, "recorded")
        return True
    try:
        _smtp_send(settings, build_email(settings, to=to, subject=subject, text=text, html=html, key=key))
    except (OSError, smtplib.SMTPException) as exc:
        _finish(engine, msg_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, msg_id, "sent")
    return True


def send_sms(
    engine: Engine, provider: SmsProvider, *, to: str, text: str, key: str, invoice_id: str | None = None
) -> bool:
    """Send an SMS once per ``key``: True if sent now, False if already sent. Provider errors are re-raised."""
    msg_id = _claim(engine, channel="sms", to=to, subject="", text=text, html=None, key=key, invoice_id=invoice_id)
    if msg_id is None:
        return False
    try:
        provider.send(to=to, text=text, key=key)
    except Exception as exc:
        _finish(engine, msg_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, msg_id, "sent" if provider.delivers else "recorded")
    return True


def record_letter(engine: Engine, *, to: str, subject: str, text: str, key: str, invoice_id: str | None = None) -> bool:
    """Note a letter put in the print queue (``to`` is the postal address); False if ``key`` was already done."""
    msg_id = _claim(
        engine, channel="letter", to=to, subject=subject, text=text, html=None, key=key, invoice_id=invoice_id
    )
    if msg_id is None:
        return False
    _finish(engine, msg_id, "recorded")
    return True


def record_many(engine: Engine, messages: list[dict[str, str]]) -> set[str]:
    """Record many messages that nothing else delivers (a recording SMS provider, e-mail without an SMTP
    server: the outbox is the delivery) in one statement per chunk; each ``{channel, to, subject, text, key}``,
    once per key (a key already recorded or sent is left as it is). Returns the keys recorded now."""
    for msg in messages:
        if msg["channel"] not in CHANNELS:
            raise Invalid("channel", f"must be one of {', '.join(CHANNELS)}, got {msg['channel']!r}")
        if not msg["key"] or not msg["to"]:
            raise Invalid("to" if msg["key"] else "key", f"no address or key for message {msg['key']!r}")
    now = _now()
    done: set[str] = set()
    with engine.begin() as conn:
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
        rows = [
            {**msg, "html": None, "created_at": now, "sent_at": now, "status": "recorded", "invoice_id": None}
            for msg in messages
        ]
        done.update(conn.execute(statement.returning(OutboxMessage.key), rows).scalars())
    return done


def was_sent(engine: Engine, key: str) -> bool:
    with engine.connect() as conn:
        status = conn.execute(select(OutboxMessage.status).where(OutboxMessage.key == key)).scalar_one_or_none()
    return status in DONE


def list_outbox(
    engine: Engine, to: str | None = None, limit: int = 50, *, channel: str | None = None, invoice_id: str | None = None
) -> list[dict[str, Any]]:
    """The newest messages first, optionally only those to one address, channel or invoice."""
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(max(1, min(limit, 1000)))
    if to is not None:
        q = q.where(OutboxMessage.to == to)
    if channel is not None:
        q = q.where(OutboxMessage.channel == channel)
    if invoice_id is not None:
        q = q.where(OutboxMessage.invoice_id == invoice_id)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        {
            "id": r.id,
            "channel": r.channel,
            "to": r.to,
            "subject": r.subject,
            "text": r.text,
            "html": r.html,
            "key": r.key,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "status": r.status,
            "error": r.error,
            "invoice_id": r.invoice_id,
        }
        for r in rows
    ]


# --- channels and letters -----------------------------------------------------------------------------------------


def channel_of(customer: Any) -> str:
    """How the customer is written to: their channel when it has an address, else a letter."""
    if customer.channel == "email" and customer.email:
        return "email"
    if customer.channel == "sms" and customer.phone:
        return "sms"
    return "letter"


def address_line(customer: Any) -> str:
    return ", ".join(
        p for p in (customer.name, customer.street, f"{customer.postal_code} {customer.city}".strip()) if p
    )


def write_print_file(print_dir: Path, name: str, data: bytes) -> Path:
    """Put a file into the print queue atomically (a rerun overwrites it with the same content)."""
    print_dir.mkdir(parents=True, exist_ok=True)
    path = print_dir / name
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
