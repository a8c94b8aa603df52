"""usage alerts: what each subscription was told (once per threshold), its alert choices, and its choice to go
on using data abroad past the spending limit

Revision ID: 0014u
Revises: 0013s
"""

import sqlalchemy as sa
from alembic import op

revision = "0014u"
down_revision = "0013s"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(120), nullable=False, unique=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("event_at", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("send_after", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("dismissed_at", TS, nullable=True),
    )
    op.create_index("ix_usage_alerts_customer_id", "usage_alerts", ["customer_id"])
    op.create_index("ix_usage_alerts_subscription_id", "usage_alerts", ["subscription_id"])
    op.create_index("ix_usage_alerts_send_after", "usage_alerts", ["send_after"])
    op.create_table(
        "alert_settings",
        sa.Column("subscription_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("cost_limit_ore", sa.BigInteger(), nullable=True),
        sa.Column("spend_limit_ore", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "roaming_continues",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("chosen_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.UniqueConstraint("subscription_id", "period_start"),
    )
    op.create_index("ix_roaming_continues_subscription_id", "roaming_continues", ["subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_roaming_continues_subscription_id", table_name="roaming_continues")
    op.drop_table("roaming_continues")
    op.drop_table("alert_settings")
    op.drop_index("ix_usage_alerts_send_after", table_name="usage_alerts")
    op.drop_index("ix_usage_alerts_subscription_id", table_name="usage_alerts")
    op.drop_index("ix_usage_alerts_customer_id", table_name="usage_alerts")
    op.drop_table("usage_alerts")
