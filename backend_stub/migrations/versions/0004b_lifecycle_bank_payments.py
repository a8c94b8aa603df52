"""invoice lifecycle: bank payment records (BgMax)

Revision ID: 0004b
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004b"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column("payer", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_refs", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_payments_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_payments_status"))
    op.drop_table("bank_payments")
