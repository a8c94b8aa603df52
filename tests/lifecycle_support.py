"""Shared set-up for the lifecycle tests: two customers (K1 e-mail, K2 SMS) billed for October 2026."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from backend_stub.core import Core
from backend_stub.formats.cdr_csv import read_cdr_csv
from backend_stub.services.billing import billrun
from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.services.billing.usage import UsageImporter
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES

INVOICE_DATE = date(2026, 11, 1)


def bill_october(core: Core) -> dict[str, Any]:
    """Bill the fixture customers; returns {customer_number: invoice row} (due 2026-12-01)."""
    with open(FIXTURES / "customers.csv", encoding="utf-8") as fh:
        res = import_customers(core.engine, core.catalogue, read_customers_csv(fh))
    assert not res.errors, res.errors
    with open(FIXTURES / "cdrs.csv", encoding="utf-8") as fh:
        UsageImporter(core.engine, core.catalogue).import_rows(read_cdr_csv(fh), "cdrs.csv")
    billrun.run_bill_run(core.engine, core.catalogue, "2026-10", invoice_date=INVOICE_DATE)
    with core.engine.connect() as conn:
        rows = conn.execute(
            select(m.Invoice, m.Customer.customer_number).join(m.Customer, m.Customer.id == m.Invoice.customer_id)
        ).all()
    return {r.customer_number: r for r in rows}


def set_customer(core: Core, customer_number: str, **values: Any) -> None:
    with core.engine.begin() as conn:
        conn.execute(update(m.Customer).where(m.Customer.customer_number == customer_number).values(**values))


class SmtpInbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        import email
        import email.policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
