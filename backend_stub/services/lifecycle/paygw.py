"""Card and Swish payments through a payment provider's hosted page.

``PaymentProvider`` is the seam for a real provider. ``TestPayProvider`` is the built-in
one for the demo and the tests: its hosted page (served by the core under ``/paygw``)
lets the payer pay by (simulated) card or Swish, or fail; it confirms by a webhook
signed with HMAC-SHA256 over ``"<timestamp>.<body>"``, which the core accepts within
five minutes of its timestamp, once per event id and once per provider payment id. No
card data is asked for or stored.

A checkout pays a set of invoices of one customer ("Betala alla"; a single invoice is a set of
one): its amount is the sum of their balances, and the money is applied oldest due date first,
each invoice taking at most its balance at the moment the payment arrives, the rest on the last
one (credit balance); within an invoice, fees, then interest, then the invoice amount
(``payments.allocate``). A new checkout supersedes every open one that shares an invoice with it,
so that one invoice is never paid twice through the hosted page; should the provider still confirm
a superseded checkout (it took the money first), the payment is recorded all the same.

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
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.allocation import split_over_invoices
from backend_stub.domain.errors import Invalid, NotFound
from backend_stub.services.autopay import mandates
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.services.lifecycle import ledger, payments
from backend_stub.settings import get_settings
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.access import PaymentSession, PaymentSessionInvoice, WebhookEvent
from backend_stub.storage.models.autopay import CardSetupSession, TestPayCard
from selfcare_common.money_format import format_kr

SIGNATURE_HEADER = "Testpay-Signature"
TOLERANCE = timedelta(minutes=5)
SESSION_TTL = timedelta(minutes=30)
METHODS = ("card", "swish")
# Statuses of an invoice that "Betala alla" pays when no invoices are named (ledger.STATUSES).
OVERDUE_STATUSES = ("overdue", "reminded", "in_collection")
MAX_INVOICES = 100  # invoices in one checkout
# The provider's test cards for saving: choice → (brand, last4, expiry, behaviour).
TEST_CARDS = {"visa": ("visa", "4242", "12/30", "approve"), "decline": ("visa", "0002", "12/30", "decline")}


class PaymentError(Invalid):
    """A checkout cannot be made or completed (nothing to pay, a bad return address, a closed session)."""


# Why a session can no longer be paid (the hosted page says it in both languages).
CLOSED_REASONS = {
    "paid": "this payment has already been made",
    "failed": "this payment was cancelled",
    "superseded": "this payment was replaced by a newer one",
    "expired": "this payment has expired",
}


def payment_order(inv: Any) -> tuple[Any, int, str]:
    """Oldest due date first, then invoice number (numbers are digits: shorter is lower)."""
    return inv.due_date, len(inv.number), inv.number


class UnknownCustomer(NotFound):
    """A checkout for a customer that does not exist."""


class WebhookRejected(Exception):
    """A webhook delivery is refused (bad signature, too old, malformed)."""


@dataclass(frozen=True)
class CheckoutInvoice:
    """An invoice a checkout pays and its balance when the checkout was made."""

    id: str
    number: str
    amount_ore: int


@dataclass(frozen=True)
class Checkout:
    session_id: str
    payment_id: str
    amount_ore: int
    invoices: tuple[CheckoutInvoice, ...] = ()  # in payment order: oldest due date first

    @property
    def checkout_path(self) -> str:
        return f"/paygw/checkout/{self.session_id}"


class PaymentProvider(Protocol):
    def create_checkout(self, invoice_id: str, return_url: str, *, now: datetime | None = None) -> Checkout: ...

    def create_customer_checkout(
        self, customer_id: int, invoice_ids: list[str] | None, return_url: str, *, now: datetime | None = None
    ) -> Checkout: ...

    def handle_webhook(self, signature: str, body: bytes, *, now: datetime | None = None) -> str: ...


def allowed_return_hosts() -> set[str]:
    """The hosts of ``SELFCARE_PAY_RETURN_HOSTS`` (lower case)."""
    return set(get_settings().pay_return_hosts)


def check_return_url(url: str) -> str:
    """Only our own app may be the way back (no open redirect)."""
    if url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and (parts.hostname or "").lower() in allowed_return_hosts():
        return url
    raise PaymentError("return_url", "must be a path or an address of the app (SELFCARE_PAY_RETURN_HOSTS)")


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

    def __init__(self, engine: Engine, secret: str, *, overpayment: str = "credit") -> None:
        if len(secret.encode()) < 32:
            raise ValueError("the payment provider's webhook secret needs at least 32 bytes")
        if overpayment not in ("credit", "refund"):
            raise Invalid("overpayment", "'credit' or 'refund'")
        self.engine = engine
        self.secret = secret
        self.overpayment = overpayment  # what a payment beyond what is owed becomes (lifecycle dunning.overpayment)

    # --- the merchant side: checkout ------------------------------------------------------

    def create_checkout(self, invoice_id: str, return_url: str, *, now: datetime | None = None) -> Checkout:
        """A checkout of what is left on one invoice (a set of one; the caller checked who may pay it)."""
        now = now or clock.now()
        return_url = check_return_url(return_url)
        with self.engine.begin() as conn:
            inv = get_invoice_row(conn, invoice_id)
            return self._open_checkout(conn, inv.customer_id, [inv], return_url, now, field="invoice")

    def create_customer_checkout(
        self, customer_id: int, invoice_ids: list[str] | None, return_url: str, *, now: datetime | None = None
    ) -> Checkout:
        """One checkout over invoices of customer ``customer_id`` (ids or numbers); ``None``: every overdue one.

        Raises ``UnknownCustomer``; ``NotFound`` for an invoice that is unknown or another
        customer's (the same answer: nothing leaks); ``PaymentError`` naming the field for
        a credit note, an invoice with nothing left to pay, a repeated one, or nothing overdue.
        """
        now = now or clock.now()
        return_url = check_return_url(return_url)
        with self.engine.begin() as conn:
            if conn.execute(select(m.Customer.id).where(m.Customer.id == customer_id)).first() is None:
                raise UnknownCustomer(f"customer {customer_id} not found")
            if invoice_ids is None:
                rows = list(
                    conn.execute(
                        select(m.Invoice).where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice")
                    )
                )
                states = ledger.invoice_states(conn, rows)
                rows = [r for r in rows if states[r.id].status in OVERDUE_STATUSES and states[r.id].balance_ore > 0]
                if not rows:
                    raise PaymentError("invoice_ids", "nothing overdue to pay")
            else:
                if not invoice_ids:
                    raise PaymentError(
                        "invoice_ids", "name at least one invoice (or none at all for every overdue one)"
                    )
                if len(invoice_ids) > MAX_INVOICES:
                    raise PaymentError("invoice_ids", f"at most {MAX_INVOICES} invoices in one payment")
                rows = []
                for given in invoice_ids:
                    inv = get_invoice_row(conn, str(given))
                    if inv.customer_id != customer_id:
                        raise NotFound(f"invoice {given} not found")
                    if any(r.id == inv.id for r in rows):
                        raise PaymentError("invoice_ids", f"invoice {inv.number} is named twice")
                    rows.append(inv)
            return self._open_checkout(conn, customer_id, rows, return_url, now, field="invoice_ids")

    def _open_checkout(
        self, conn: Connection, customer_id: int, rows: list[Any], return_url: str, now: datetime, *, field: str
    ) -> Checkout:
        """Store a checkout over ``rows`` (invoice rows of one customer) and supersede every open one
        that shares an invoice with it."""
        # Lock the invoices (PostgreSQL; SQLite's writer lock already serialises) so that two
        # checkouts of one invoice made at once cannot both stay open; always in id order.
        conn.execute(
            select(m.Invoice.id).where(m.Invoice.id.in_([r.id for r in rows])).order_by(m.Invoice.id).with_for_update()
        )
        states = ledger.invoice_states(conn, rows)
        for inv in rows:
            if inv.kind != "invoice":
                raise PaymentError(field, f"{inv.number} is a credit note, not paid")
            if states[inv.id].balance_ore <= 0:
                raise PaymentError(field, f"invoice {inv.number} has nothing left to pay")
        rows = sorted(rows, key=payment_order)
        items = tuple(CheckoutInvoice(r.id, r.number, states[r.id].balance_ore) for r in rows)
        amount = sum(i.amount_ore for i in items)
        checkout = Checkout(secrets.token_urlsafe(24), "tp_" + uuid.uuid4().hex, amount, items)
        sharing = select(PaymentSessionInvoice.session_id).where(
            PaymentSessionInvoice.invoice_id.in_([i.id for i in items])
        )
        conn.execute(
            update(PaymentSession)
            .where(PaymentSession.id.in_(sharing), PaymentSession.status == "open")
            .values(status="superseded")
        )
        conn.execute(
            insert(PaymentSession).values(
                id=checkout.session_id,
                invoice_id=items[0].id,
                customer_id=customer_id,
                amount_ore=amount,
                return_url=return_url,
                status="open",
                provider_payment_id=checkout.payment_id,
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
        conn.execute(
            insert(PaymentSessionInvoice),
            [
                {"session_id": checkout.session_id, "position": n, "invoice_id": i.id, "amount_ore": i.amount_ore}
                for n, i in enumerate(items, start=1)
            ],
        )
        return checkout

    # --- the provider side: hosted page ---------------------------------------------------

    def session(self, session_id: str, *, now: datetime | None = None) -> dict[str, Any] | None:
        """What the hosted page shows, or None for an unknown session.

        ``closed`` says why it can no longer be paid ("paid", "failed", "superseded", "expired"), or is None.
        """
        now = now or clock.now()
        with self.engine.connect() as conn:
            s = conn.execute(select(PaymentSession).where(PaymentSession.id == session_id)).first()
            if s is None:
                return None
            invs = list(
                conn.execute(
                    select(m.Invoice.id, m.Invoice.number, m.Invoice.due_date, PaymentSessionInvoice.amount_ore)
                    .join(PaymentSessionInvoice, PaymentSessionInvoice.invoice_id == m.Invoice.id)
                    .where(PaymentSessionInvoice.session_id == s.id)
                    .order_by(PaymentSessionInvoice.position)
                )
            )
            document = conn.execute(select(m.Invoice.document).where(m.Invoice.id == invs[0].id)).scalar_one()
        expires = s.expires_at if s.expires_at.tzinfo else s.expires_at.replace(tzinfo=UTC)
        expired = expires <= now
        closed = s.status if s.status != "open" else ("expired" if expired else None)
        return {
            "session_id": s.id,
            "status": s.status,
            "expired": expired,
            "closed": closed,
            "amount_ore": s.amount_ore,
            "amount": format_kr(s.amount_ore),
            "invoice_number": invs[0].number,
            "merchant": document["seller"]["name"],
            "invoices": [
                {
                    "id": i.id,
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "amount_ore": i.amount_ore,
                    "amount": format_kr(i.amount_ore),
                }
                for i in invs
            ],
            "return_url": s.return_url,
            "payment_id": s.provider_payment_id,
        }

    def complete(self, session_id: str, method: str, *, now: datetime | None = None) -> tuple[str, bytes]:
        """The payer's choice on the hosted page → the signed webhook delivery (header, body)."""
        now = now or clock.now()
        info = self.session(session_id, now=now)
        if info is None:
            raise PaymentError("session", "unknown")
        if info["closed"] is not None:
            raise PaymentError("session", f"{CLOSED_REASONS[info['closed']]}")
        ok = method in METHODS
        event = {
            "id": "evt_" + uuid.uuid4().hex,
            "type": "payment.succeeded" if ok else "payment.failed",
            "created": int(now.timestamp()),
            "data": {
                "payment_id": info["payment_id"],
                "session_id": session_id,
                "amount_ore": info["amount_ore"],
                "method": method if ok else None,
            },
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
            if kind == "payment.failed":
                if s.status == "open":
                    conn.execute(update(PaymentSession).where(PaymentSession.id == s.id).values(status="failed"))
                    for invoice_id in self._session_invoice_ids(conn, s.id):
                        ledger.add_event(
                            conn,
                            invoice_id,
                            "payment_failed",
                            "Betalningen genomfördes inte. Fakturan är fortfarande obetald.",
                            actor="testpay",
                            at=now,
                            data={"payment_id": payment_id},
                        )
                return "failed"
            if kind != "payment.succeeded":
                raise WebhookRejected(f"unknown event type {kind!r}")
            if amount != s.amount_ore:
                raise WebhookRejected("amount differs from the checkout")
            method = data.get("method") if data.get("method") in METHODS else "card"
            result, surplus = self._record_checkout_payment(conn, s, payment_id, method, amount, now)
        if surplus and self.overpayment == "refund":  # the operator's choice: pay it back at once
            payments.refund_credit(
                self.engine, s.customer_id, surplus, actor="testpay", reference=f"overpaid-{payment_id}"
            )
        return result

    @staticmethod
    def _session_invoice_ids(conn: Connection, session_id: str) -> list[str]:
        return list(
            conn.execute(
                select(PaymentSessionInvoice.invoice_id)
                .where(PaymentSessionInvoice.session_id == session_id)
                .order_by(PaymentSessionInvoice.position)
            ).scalars()
        )

    def _record_checkout_payment(
        self, conn: Connection, s: Any, payment_id: str, method: str, amount: int, now: datetime
    ) -> tuple[str, int]:
        """Apply a confirmed checkout: its invoices oldest due first, each at most its balance now.

        Also for a superseded (or expired, failed) session: the provider has taken the money,
        so it is never dropped; what is not owed becomes credit balance on the last invoice.
        One payment per invoice, ``testpay:<payment id>`` for a set of one, else
        ``testpay:<payment id>:<position>``; recorded once per provider payment.
        """
        invoice_ids = self._session_invoice_ids(conn, s.id)
        # The same lock order as a new checkout (invoices by id, then the session), so that
        # a checkout and a confirmation of the same invoices run one after the other.
        conn.execute(select(m.Invoice.id).where(m.Invoice.id.in_(invoice_ids)).order_by(m.Invoice.id).with_for_update())
        status = conn.execute(
            select(PaymentSession.status).where(PaymentSession.id == s.id).with_for_update()
        ).scalar_one()
        if status == "paid":  # another delivery about this provider payment recorded it
            return "duplicate", 0
        rows = {r.id: r for r in conn.execute(select(m.Invoice).where(m.Invoice.id.in_(invoice_ids)))}
        invs = [rows[i] for i in invoice_ids]
        states = ledger.invoice_states(conn, invs)
        shares = split_over_invoices(amount, [states[i.id].balance_ore for i in invs])
        recorded = False
        for position, (inv, share) in enumerate(zip(invs, shares, strict=True), start=1):
            if share == 0:
                continue
            reference = f"testpay:{payment_id}" if len(invs) == 1 else f"testpay:{payment_id}:{position}"
            recorded |= ledger.record_payment(
                conn,
                invoice_id=inv.id,
                reference=reference,
                method=method,
                amount_ore=share,
                customer_id=inv.customer_id,
                received_at=now,
                actor="testpay",
            )
        conn.execute(update(PaymentSession).where(PaymentSession.id == s.id).values(status="paid"))
        # What was not owed (an invoice settled meanwhile): the customer's credit balance (ledger event
        # "overpaid", the agents' queue), or paid back at once when the operator chose so.
        surplus = max(0, amount - sum(max(0, states[i.id].balance_ore) for i in invs))
        return ("recorded", surplus) if recorded else ("duplicate", 0)

    # --- saved cards (automatic payment) --------------------------------------------------

    def create_card_setup(self, customer_id: int, return_url: str, *, now: datetime | None = None) -> str:
        """A session on the hosted page where the payer saves a card; returns its id."""
        now = now or clock.now()
        return_url = check_return_url(return_url)
        session_id = secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(
                insert(CardSetupSession).values(
                    id=session_id,
                    customer_id=customer_id,
                    return_url=return_url,
                    status="open",
                    created_at=now,
                    expires_at=now + SESSION_TTL,
                )
            )
        return session_id

    def card_session(self, session_id: str, *, now: datetime | None = None) -> dict[str, Any] | None:
        """What the card page shows, or None for an unknown session."""
        now = now or clock.now()
        with self.engine.connect() as conn:
            s = conn.execute(select(CardSetupSession).where(CardSetupSession.id == session_id)).first()
            if s is None:
                return None
            customer = conn.execute(select(m.Customer.name).where(m.Customer.id == s.customer_id)).scalar_one()
        expires = s.expires_at if s.expires_at.tzinfo else s.expires_at.replace(tzinfo=UTC)
        return {
            "session_id": s.id,
            "status": s.status,
            "expired": expires <= now,
            "return_url": s.return_url,
            "customer_name": customer,
        }

    def complete_card_setup(self, session_id: str, choice: str, *, now: datetime | None = None) -> tuple[str, bytes]:
        """The payer's choice on the card page → the signed webhook delivery (header, body).

        A test card choice is kept in the provider's vault under a new token; anything else
        (``cancel``) tells the merchant that no card was saved.
        """
        now = now or clock.now()
        info = self.card_session(session_id, now=now)
        if info is None or info["expired"] or info["status"] != "open":
            raise PaymentError("session", "unknown, expired or already completed")
        data: dict[str, Any] = {"session_id": session_id}
        if choice in TEST_CARDS:
            brand, last4, expires, behaviour = TEST_CARDS[choice]
            token = "tpc_" + secrets.token_hex(16)
            with self.engine.begin() as conn:
                conn.execute(
                    insert(TestPayCard).values(
                        token=token,
                        session_id=session_id,
                        brand=brand,
                        last4=last4,
                        expires=expires,
                        behaviour=behaviour,
                        created_at=now,
                    )
                )
            data.update(token=token, brand=brand, last4=last4, expires=expires)
        event = {
            "id": "evt_" + uuid.uuid4().hex,
            "type": "card.saved" if choice in TEST_CARDS else "card.setup_failed",
            "created": int(now.timestamp()),
            "data": data,
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        return sign(self.secret, body, int(clock.wall_now().timestamp())), body  # a transport stamp: real time

    def _card_event(self, event_id: str, kind: str, data: dict[str, Any], now: datetime) -> str:
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
                outcome = mandates.card_saved(conn, session_id, card, now=now)
            else:
                outcome = mandates.card_setup_failed(conn, session_id, now=now)
            if outcome is None:  # rolls the event back too: a delivery about an unknown session is refused
                raise WebhookRejected("unknown card session")
        return outcome

    def charge_saved_card(
        self, token: str, amount_ore: int, key: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Charge a saved card (no payer present). The same ``key`` gives the same payment id.

        Returns ``{"payment_id", "status": "succeeded"|"declined", "decline_code"}``.
        """
        if amount_ore <= 0:
            raise PaymentError("amount_ore", "must be more than 0")
        payment_id = "tp_" + hmac.new(self.secret.encode(), f"charge:{key}".encode(), hashlib.sha256).hexdigest()[:32]
        with self.engine.connect() as conn:
            card = conn.execute(select(TestPayCard).where(TestPayCard.token == token)).first()
        if card is None:
            return {"payment_id": payment_id, "status": "declined", "decline_code": "card_not_found"}
        if card.behaviour == "decline":
            return {"payment_id": payment_id, "status": "declined", "decline_code": "card_declined"}
        return {"payment_id": payment_id, "status": "succeeded", "decline_code": None}
