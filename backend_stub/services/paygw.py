"""Card and Swish payments through a payment provider's hosted page.

``PaymentProvider`` is the seam for a real provider. ``TestPayProvider`` is the built-in
one for the demo and the tests: its hosted page (served by the core under ``/paygw``)
lets the payer pay by (simulated) card or Swish, or fail; it confirms by a webhook
signed with HMAC-SHA256 over ``"<timestamp>.<body>"``, which the core accepts within
five minutes of its timestamp, once per event id and once per provider payment id. No
card data is asked for or stored.

Saved cards (automatic payment, ``services.autopay``): a second hosted page
(``/paygw/cards/<session>``) where the payer picks one of the provider's test cards; the
provider keeps the card in its own vault and tells the merchant the token, brand, last four
digits and expiry by a ``card.saved`` webhook signed the same way. The merchant later charges
the token (``charge_saved_card``): the provider answers at once, approved or declined. Test
cards: ``visa`` (•••• 4242, always approved) and ``decline`` (•••• 0002, always declined).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.services import ledger
from backend_stub.services.documents import format_kr
from backend_stub.services.invoices import get_invoice_row
from backend_stub.storage import models as m
from backend_stub.storage.access_models import PaymentSession, WebhookEvent

SIGNATURE_HEADER = "Testpay-Signature"
TOLERANCE = timedelta(minutes=5)
SESSION_TTL = timedelta(minutes=30)
METHODS = ("card", "swish")
# The provider's test cards for saving: choice → (brand, last4, expiry, behaviour).
TEST_CARDS = {"visa": ("visa", "4242", "12/30", "approve"), "decline": ("visa", "0002", "12/30", "decline")}


class PaymentError(ValueError):
    """A checkout cannot be made (nothing to pay, a bad return address)."""


class WebhookRejected(Exception):
    """A webhook delivery is refused (bad signature, too old, malformed)."""


@dataclass(frozen=True)
class Checkout:
    session_id: str
    payment_id: str
    amount_ore: int

    @property
    def checkout_path(self) -> str:
        return f"/paygw/checkout/{self.session_id}"


class PaymentProvider(Protocol):
    def create_checkout(self, invoice_id: str, return_url: str, *, now: datetime | None = None) -> Checkout: ...

    def handle_webhook(self, signature: str, body: bytes, *, now: datetime | None = None) -> str: ...


def allowed_return_hosts() -> set[str]:
    return {h.strip().lower() for h in os.environ.get("SELFCARE_PAY_RETURN_HOSTS", "localhost,127.0.0.1").split(",")
            if h.strip()}


def check_return_url(url: str) -> str:
    """Only our own app may be the way back (no open redirect)."""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and (parts.hostname or "").lower() in allowed_return_hosts():
        return url
    raise PaymentError("return_url: must be a path or an address of the app (SELFCARE_PAY_RETURN_HOSTS)")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _parse_signature(header: str) -> tuple[int, list[str]]:
    timestamp, macs = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs:
        raise WebhookRejected("signature header is malformed")
    return timestamp, macs


class TestPayProvider:
    """The built-in test provider (see the module doc)."""

    __test__ = False  # not a pytest test class

    def __init__(self, engine: Engine, secret: str) -> None:
        if len(secret.encode()) < 32:
            raise ValueError("the payment provider's webhook secret needs at least 32 bytes")
        self.engine = engine
        self.secret = secret

    # --- the merchant side: checkout ------------------------------------------------------

    def create_checkout(self, invoice_id: str, return_url: str, *, now: datetime | None = None) -> Checkout:
        now = now or clock.now()
        return_url = check_return_url(return_url)
        with self.engine.begin() as conn:
            inv = get_invoice_row(conn, invoice_id)
            if inv.kind != "invoice":
                raise PaymentError("invoice: a credit note is not paid")
            balance = ledger.invoice_states(conn, [inv])[inv.id].balance_ore
            if balance <= 0:
                raise PaymentError("invoice: nothing left to pay")
            checkout = Checkout(secrets.token_urlsafe(24), "tp_" + uuid.uuid4().hex, balance)
            conn.execute(insert(PaymentSession).values(
                id=checkout.session_id, invoice_id=inv.id, customer_id=inv.customer_id, amount_ore=balance,
                return_url=return_url, status="open", provider_payment_id=checkout.payment_id, created_at=now,
                expires_at=now + SESSION_TTL))
        return checkout

    # --- the provider side: hosted page ---------------------------------------------------

    def session(self, session_id: str, *, now: datetime | None = None) -> dict[str, Any] | None:
        """What the hosted page shows, or None for an unknown or expired session."""
        now = now or clock.now()
        with self.engine.connect() as conn:
            s = conn.execute(select(PaymentSession).where(PaymentSession.id == session_id)).first()
            if s is None:
                return None
            inv = conn.execute(select(m.Invoice.number, m.Invoice.document).where(m.Invoice.id == s.invoice_id)).one()
        expires = s.expires_at if s.expires_at.tzinfo else s.expires_at.replace(tzinfo=UTC)
        return {"session_id": s.id, "status": s.status, "expired": expires <= now, "amount_ore": s.amount_ore,
                "amount": format_kr(s.amount_ore), "invoice_number": inv.number,
                "merchant": inv.document["seller"]["name"], "return_url": s.return_url,
                "payment_id": s.provider_payment_id}

    def complete(self, session_id: str, method: str, *, now: datetime | None = None) -> tuple[str, bytes]:
        """The payer's choice on the hosted page → the signed webhook delivery (header, body)."""
        now = now or clock.now()
        info = self.session(session_id, now=now)
        if info is None or info["expired"] or info["status"] != "open":
            raise PaymentError("session: unknown, expired or already completed")
        ok = method in METHODS
        event = {
            "id": "evt_" + uuid.uuid4().hex,
            "type": "payment.succeeded" if ok else "payment.failed",
            "created": int(now.timestamp()),
            "data": {"payment_id": info["payment_id"], "session_id": session_id, "amount_ore": info["amount_ore"],
                     "method": method if ok else None},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        return sign(self.secret, body, int(clock.wall_now().timestamp())), body  # a transport stamp: real time

    # --- the merchant side: webhook -------------------------------------------------------

    def handle_webhook(self, signature: str, body: bytes, *, now: datetime | None = None) -> str:
        """Verify and apply a delivery; returns "recorded", "failed" or "duplicate". Raises ``WebhookRejected``."""
        now = now or clock.now()
        timestamp, macs = _parse_signature(signature or "")
        expected = sign(self.secret, body, timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, mac) for mac in macs):
            raise WebhookRejected("signature does not match")
        # replay protection is about real time (the signer's and ours), not the business clock
        if abs(clock.wall_now().timestamp() - timestamp) > TOLERANCE.total_seconds():
            raise WebhookRejected("timestamp outside the tolerance")
        try:
            event = json.loads(body)
            event_id, kind, data = str(event["id"]), str(event["type"]), event["data"]
            if kind.startswith("card."):
                return self._card_event(event_id, kind, data, now)
            payment_id, amount = str(data["payment_id"]), int(data["amount_ore"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookRejected("body is not a payment event") from None
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(WebhookEvent).values(event_id=event_id, received_at=now, kind=kind))
            except IntegrityError:
                return "duplicate"
            s = conn.execute(select(PaymentSession).where(PaymentSession.provider_payment_id == payment_id)).first()
            if s is None:
                raise WebhookRejected("unknown payment")
            if kind == "payment.succeeded":
                if amount != s.amount_ore:
                    raise WebhookRejected("amount differs from the checkout")
                method = data.get("method") if data.get("method") in METHODS else "card"
                new = ledger.record_payment(conn, invoice_id=s.invoice_id, reference=f"testpay:{payment_id}",
                                            method=method, amount_ore=amount, customer_id=s.customer_id,
                                            received_at=now, actor="testpay")
                conn.execute(update(PaymentSession).where(PaymentSession.id == s.id).values(status="paid"))
                return "recorded" if new else "duplicate"
            if kind == "payment.failed":
                if s.status == "open":
                    conn.execute(update(PaymentSession).where(PaymentSession.id == s.id).values(status="failed"))
                    ledger.add_event(conn, s.invoice_id, "payment_failed",
                                     "Betalningen genomfördes inte. Fakturan är fortfarande obetald.",
                                     actor="testpay", at=now, data={"payment_id": payment_id})
                return "failed"
            raise WebhookRejected(f"unknown event type {kind!r}")

    # --- saved cards (automatic payment) --------------------------------------------------

    def create_card_setup(self, customer_id: int, return_url: str, *, now: datetime | None = None) -> str:
        """A session on the hosted page where the payer saves a card; returns its id."""
        from backend_stub.storage.autopay_models import CardSetupSession

        now = now or clock.now()
        return_url = check_return_url(return_url)
        session_id = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(insert(CardSetupSession).values(id=session_id, customer_id=customer_id, return_url=return_url,
                                                         status="open", created_at=now, expires_at=now + SESSION_TTL))
        return session_id

    def card_session(self, session_id: str, *, now: datetime | None = None) -> dict[str, Any] | None:
        """What the card page shows, or None for an unknown session."""
        from backend_stub.storage.autopay_models import CardSetupSession

        now = now or clock.now()
        with self.engine.connect() as conn:
            s = conn.execute(select(CardSetupSession).where(CardSetupSession.id == session_id)).first()
            if s is None:
                return None
            customer = conn.execute(select(m.Customer.name).where(m.Customer.id == s.customer_id)).scalar_one()
        expires = s.expires_at if s.expires_at.tzinfo else s.expires_at.replace(tzinfo=UTC)
        return {"session_id": s.id, "status": s.status, "expired": expires <= now, "return_url": s.return_url,
                "customer_name": customer}

    def complete_card_setup(self, session_id: str, choice: str, *, now: datetime | None = None) -> tuple[str, bytes]:
        """The payer's choice on the card page → the signed webhook delivery (header, body).

        A test card choice is kept in the provider's vault under a new token; anything else
        (``cancel``) tells the merchant that no card was saved.
        """
        from backend_stub.storage.autopay_models import TestPayCard

        now = now or clock.now()
        info = self.card_session(session_id, now=now)
        if info is None or info["expired"] or info["status"] != "open":
            raise PaymentError("session: unknown, expired or already completed")
        data: dict[str, Any] = {"session_id": session_id}
        if choice in TEST_CARDS:
            brand, last4, expires, behaviour = TEST_CARDS[choice]
            token = "tpc_" + secrets.token_hex(16)
            with self.engine.begin() as conn:
                conn.execute(insert(TestPayCard).values(token=token, session_id=session_id, brand=brand, last4=last4,
                                                        expires=expires, behaviour=behaviour, created_at=now))
            data.update(token=token, brand=brand, last4=last4, expires=expires)
        event = {"id": "evt_" + uuid.uuid4().hex, "type": "card.saved" if choice in TEST_CARDS else "card.setup_failed",
                 "created": int(now.timestamp()), "data": data}
        body = json.dumps(event, separators=(",", ":")).encode()
        return sign(self.secret, body, int(clock.wall_now().timestamp())), body  # a transport stamp: real time

    def _card_event(self, event_id: str, kind: str, data: dict[str, Any], now: datetime) -> str:
        from backend_stub.services import autopay

        session_id = str(data["session_id"])
        if kind not in ("card.saved", "card.setup_failed"):
            raise WebhookRejected(f"unknown event type {kind!r}")
        with self.engine.begin() as conn:
            try:
                with conn.begin_nested():
                    conn.execute(insert(WebhookEvent).values(event_id=event_id, received_at=now, kind=kind))
            except IntegrityError:
                return "duplicate"
            if kind == "card.saved":
                card = {k: str(data[k]) for k in ("token", "brand", "last4", "expires")}
                outcome = autopay.card_saved(conn, session_id, card, now=now)
            else:
                outcome = autopay.card_setup_failed(conn, session_id, now=now)
            if outcome is None:  # rolls the event back too: a delivery about an unknown session is refused
                raise WebhookRejected("unknown card session")
        return outcome

    def charge_saved_card(self, token: str, amount_ore: int, key: str, *, now: datetime | None = None) -> dict[str, Any]:
        """Charge a saved card (no payer present). The same ``key`` gives the same payment id.

        Returns ``{"payment_id", "status": "succeeded"|"declined", "decline_code"}``.
        """
        from backend_stub.storage.autopay_models import TestPayCard

        if amount_ore <= 0:
            raise PaymentError("amount_ore: must be more than 0")
        payment_id = "tp_" + hmac.new(self.secret.encode(), f"charge:{key}".encode(), hashlib.sha256).hexdigest()[:32]
        with self.engine.connect() as conn:
            card = conn.execute(select(TestPayCard).where(TestPayCard.token == token)).first()
        if card is None:
            return {"payment_id": payment_id, "status": "declined", "decline_code": "card_not_found"}
        if card.behaviour == "decline":
            return {"payment_id": payment_id, "status": "declined", "decline_code": "card_declined"}
        return {"payment_id": payment_id, "status": "succeeded", "decline_code": None}
