"""charges: phones on instalment, one-off charges and credits, add-on purchases

Revision ID: 0008b
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008b"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("device_name", sa.String(200), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("total_ore", sa.BigInteger(), nullable=False),
        sa.Column("monthly_ore", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate", sa.String(8), nullable=False),
        sa.Column("start_period", sa.String(7), nullable=False),
        sa.Column("months_billed", sa.Integer(), nullable=False),
        sa.Column("paid_ore", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payoff_requested_at", TS, nullable=True),
        sa.Column("payoff_by", sa.String(64), nullable=True),
        sa.Column("payoff_invoice_id", sa.String(36), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_instalments_customer_id", "instalments", ["customer_id"])
    op.create_index("ix_instalments_subscription_id", "instalments", ["subscription_id"])
    op.create_index("ix_instalments_status", "instalments", ["status"])
    op.create_table(
        "instalment_bills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instalment_id", sa.Integer(), sa.ForeignKey("instalments.id"), nullable=False),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("first_month", sa.Integer(), nullable=False),
        sa.Column("last_month", sa.Integer(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.UniqueConstraint("instalment_id", "first_month"),
    )
    op.create_index("ix_instalment_bills_instalment_id", "instalment_bills", ["instalment_id"])
    op.create_index("ix_instalment_bills_invoice_id", "instalment_bills", ["invoice_id"])
    op.create_table(
        "one_off_charges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=True),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invoice_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_one_off_charges_customer_id", "one_off_charges", ["customer_id"])
    op.create_index("ix_one_off_charges_invoice_id", "one_off_charges", ["invoice_id"])
    op.create_table(
        "addon_purchases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("addon_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_ore", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate", sa.String(8), nullable=False),
        sa.Column("allowances", sa.JSON(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("bought_at", TS, nullable=False),
        sa.Column("bought_epoch", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invoice_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_addon_purchases_customer_id", "addon_purchases", ["customer_id"])
    op.create_index("ix_addon_purchases_subscription_id", "addon_purchases", ["subscription_id"])
    op.create_index("ix_addon_purchases_invoice_id", "addon_purchases", ["invoice_id"])


def downgrade() -> None:
    for table in ("addon_purchases", "one_off_charges", "instalment_bills", "instalments"):
        op.drop_table(table)
