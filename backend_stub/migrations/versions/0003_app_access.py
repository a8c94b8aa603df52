"""sign-in codes, rate limits, revoked tokens, invoice links, test payment provider

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_login_codes_customer_id", "login_codes", ["customer_id"])
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])
    op.create_table(
        "invoice_links",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("first_opened_at", TS, nullable=True),
    )
    op.create_index("ix_invoice_links_invoice_id", "invoice_links", ["invoice_id"])
    op.create_table(
        "payment_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("provider_payment_id", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_payment_sessions_invoice_id", "payment_sessions", ["invoice_id"])
    op.create_table(
        "webhook_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    for table in ("webhook_events", "payment_sessions", "invoice_links", "revoked_tokens", "throttles", "login_codes"):
        op.drop_table(table)
