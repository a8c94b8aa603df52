"""Messaging against a real SMTP server on loopback (aiosmtpd) and the SMS outbox."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from backend_stub.core import Core
from backend_stub.services.lifecycle.messaging import (
    MailSettings,
    OutboxSmsProvider,
    list_outbox,
    send_email,
    send_sms,
    was_sent,
)


@dataclass
class Inbox:
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_email_over_smtp_is_delivered_once_per_key(core: Core, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    settings = MailSettings(host="127.0.0.1", port=port, sender="Nordvik <faktura@nordvik.example>")
    sent = send_email(
        core.engine,
        settings,
        to="anna@example.se",
        subject="Din faktura från Nordvik",
        text="Hej Anna! Din faktura på 299,00 kr: https://x.example/i/abc",
        html="<p>Hej Anna! <a href='https://x.example/i/abc'>Visa fakturan</a></p>",
        key="invoice:1:email",
    )
    assert sent is True
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert inbox.envelopes[0] == ("faktura@nordvik.example", ["anna@example.se"])
    assert msg["Subject"] == "Din faktura från Nordvik"
    assert msg.get_body(preferencelist=("plain",)).get_content().strip().endswith("https://x.example/i/abc")
    assert "Visa fakturan" in msg.get_body(preferencelist=("html",)).get_content()
    # the same key again: nothing sent
    assert (
        send_email(core.engine, settings, to="anna@example.se", subject="again", text="again", key="invoice:1:email")
        is False
    )
    assert len(inbox.messages) == 1
    assert was_sent(core.engine, "invoice:1:email")
    rows = list_outbox(core.engine, to="anna@example.se")
    assert [(r["channel"], r["status"], r["subject"]) for r in rows] == [("email", "sent", "Din faktura från Nordvik")]
    assert rows[0]["sent_at"] is not None


def test_email_without_host_is_only_recorded(core: Core) -> None:
    assert send_email(core.engine, MailSettings(), to="b@example.se", subject="S", text="T", key="k1") is True
    assert send_email(core.engine, MailSettings(), to="b@example.se", subject="S", text="T", key="k1") is False
    rows = list_outbox(core.engine)
    assert len(rows) == 1 and rows[0]["status"] == "recorded"


def test_failed_smtp_is_marked_and_retried(core: Core, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    dead = MailSettings(host="127.0.0.1", port=_free_port(), timeout_s=2)
    with pytest.raises(OSError):
        send_email(core.engine, dead, to="c@example.se", subject="S", text="T", key="retry-me")
    assert list_outbox(core.engine)[0]["status"] == "failed"
    assert not was_sent(core.engine, "retry-me")
    # a rerun with a working server sends it, once
    assert (
        send_email(
            core.engine,
            MailSettings(host="127.0.0.1", port=port),
            to="c@example.se",
            subject="S",
            text="T",
            key="retry-me",
        )
        is True
    )
    assert len(inbox.messages) == 1
    assert [r["status"] for r in list_outbox(core.engine)] == ["sent"]


def test_smtp_rejection_raises(core: Core, smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    with pytest.raises(smtplib.SMTPException):
        send_email(
            core.engine,
            MailSettings(host="127.0.0.1", port=port),
            to="nobody@example.se",
            subject="S",
            text="T",
            key="bad",
        )
    row = list_outbox(core.engine)[0]
    assert row["status"] == "failed" and "No such user" in row["error"]


def test_sms_outbox_provider_and_a_failing_provider(core: Core) -> None:
    assert send_sms(core.engine, OutboxSmsProvider(), to="+46701234567", text="Din faktura: 299 kr", key="s1")
    assert not send_sms(core.engine, OutboxSmsProvider(), to="+46701234567", text="Din faktura: 299 kr", key="s1")

    class Broken:
        name = "broken"
        delivers = True

        def send(self, *, to: str, text: str, key: str) -> None:
            raise RuntimeError("gateway down")

    with pytest.raises(RuntimeError):
        send_sms(core.engine, Broken(), to="+46709999999", text="x", key="s2")
    rows = {r["key"]: r for r in list_outbox(core.engine, channel="sms")}
    assert rows["s1"]["status"] == "recorded" and rows["s1"]["to"] == "+46701234567"
    assert rows["s2"]["status"] == "failed" and "gateway down" in rows["s2"]["error"]
    assert list_outbox(core.engine, to="+46701234567", limit=1)[0]["key"] == "s1"


def test_bad_input_names_the_field(core: Core) -> None:
    with pytest.raises(ValueError, match="to:"):
        send_email(core.engine, MailSettings(), to="", subject="S", text="T", key="k")
    with pytest.raises(ValueError, match="key:"):
        send_sms(core.engine, OutboxSmsProvider(), to="+4670", text="T", key="")
    with pytest.raises(ValueError, match="SELFCARE_SMTP_PORT"):
        MailSettings.from_env({"SELFCARE_SMTP_PORT": "x"})
    s = MailSettings.from_env(
        {"SELFCARE_SMTP_HOST": "mail.local", "SELFCARE_SMTP_PORT": "2525", "SELFCARE_MAIL_FROM": "a@b.se"}
    )
    assert (s.host, s.port, s.sender) == ("mail.local", 2525, "a@b.se")
    assert MailSettings.from_env({}).host is None
