"""checkout over several invoices: the invoices of a payment session, in payment order

Revision ID: 0011c
Revises: 0010t
"""

import sqlalchemy as sa
from alembic import op

revision = "0011c"
down_revision = "0010t"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_session_invoices",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("payment_sessions.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("session_id", "invoice_id"),
    )
    op.create_index("ix_payment_session_invoices_invoice_id", "payment_session_invoices", ["invoice_id"])
    # every checkout made before this paid one invoice: a set of one
    op.execute(
        "INSERT INTO payment_session_invoices (session_id, position, invoice_id, amount_ore) "
        "SELECT id, 1, invoice_id, amount_ore FROM payment_sessions"
    )


def downgrade() -> None:
    op.drop_index("ix_payment_session_invoices_invoice_id", table_name="payment_session_invoices")
    op.drop_table("payment_session_invoices")
