"""event documents: the kept PDFs of timeline events (reminder letters, credit notes, collection notices)

Revision ID: 0010t
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010t"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("invoice_events.id"), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "lang"),
    )
    op.create_index("ix_event_documents_invoice_id", "event_documents", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_event_documents_invoice_id", table_name="event_documents")
    op.drop_table("event_documents")
