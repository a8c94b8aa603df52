"""autopay: payment methods, autogiro mandates and files, saved cards, draws

Revision ID: 0008p
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008p"
down_revision = "0007"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("since", True),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("personal_number", sa.String(length=12), nullable=True),
        _at("updated_at"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "autogiro_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("payer_number", sa.String(length=16), nullable=False),
        sa.Column("clearing", sa.String(length=4), nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("personal_number", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("requested_at"),
        sa.Column("request_file_id", sa.Integer(), nullable=True),
        _at("cancel_requested_at", True),
        sa.Column("cancel_file_id", sa.Integer(), nullable=True),
        _at("answered_at", True),
        sa.Column("answer_code", sa.String(length=8), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payer_number"),
    )
    op.create_index("ix_autogiro_mandates_customer_id", "autogiro_mandates", ["customer_id"])
    op.create_index("ix_autogiro_mandates_status", "autogiro_mandates", ["status"])
    op.create_table(
        "autopay_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("expires", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("created_at"),
        _at("removed_at", True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_autopay_cards_customer_id", "autopay_cards", ["customer_id"])
    op.create_table(
        "card_setup_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_card_setup_sessions_customer_id", "card_setup_sessions", ["customer_id"])
    op.create_table(
        "testpay_cards",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("expires", sa.String(length=5), nullable=False),
        sa.Column("behaviour", sa.String(length=16), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("token"),
        sa.UniqueConstraint("session_id"),
    )
    op.create_table(
        "autopay_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("draw_date", sa.Date(), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payer_number", sa.String(length=16), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("order_file_id", sa.Integer(), nullable=True),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("result_text", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("paid_at", True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invoice_id", "attempt"),
    )
    op.create_index("ix_autopay_draws_invoice_id", "autopay_draws", ["invoice_id"])
    op.create_index("ix_autopay_draws_customer_id", "autopay_draws", ["customer_id"])
    op.create_index("ix_autopay_draws_status", "autopay_draws", ["status"])
    op.create_table(
        "autogiro_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("for_date", sa.Date(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("direction", "sha256"),
    )
    op.create_index("ix_autogiro_files_for_date", "autogiro_files", ["for_date"])
    op.create_table(
        "autogiro_record_refs",
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("ref"),
    )


def downgrade() -> None:
    op.drop_table("autogiro_record_refs")
    op.drop_index("ix_autogiro_files_for_date", "autogiro_files")
    op.drop_table("autogiro_files")
    for ix in ("status", "customer_id", "invoice_id"):
        op.drop_index(f"ix_autopay_draws_{ix}", "autopay_draws")
    op.drop_table("autopay_draws")
    op.drop_table("testpay_cards")
    op.drop_index("ix_card_setup_sessions_customer_id", "card_setup_sessions")
    op.drop_table("card_setup_sessions")
    op.drop_index("ix_autopay_cards_customer_id", "autopay_cards")
    op.drop_table("autopay_cards")
    op.drop_index("ix_autogiro_mandates_status", "autogiro_mandates")
    op.drop_index("ix_autogiro_mandates_customer_id", "autogiro_mandates")
    op.drop_table("autogiro_mandates")
    op.drop_table("payment_methods")
