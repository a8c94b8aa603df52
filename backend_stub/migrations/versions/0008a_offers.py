"""offers: banner images, offers, tracking events, acceptances, targeting caches

Revision ID: 0008a
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008a"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offer_images",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("cta", sa.String(80), nullable=False),
        sa.Column("image_id", sa.Integer(), sa.ForeignKey("offer_images.id"), nullable=True),
        sa.Column("sells_kind", sa.String(8), nullable=False),
        sa.Column("sells_id", sa.String(64), nullable=False),
        sa.Column("terms_percent", sa.String(16), nullable=True),
        sa.Column("terms_amount_ore", sa.BigInteger(), nullable=True),
        sa.Column("terms_periods", sa.Integer(), nullable=True),
        sa.Column("terms_text_sv", sa.String(300), nullable=False),
        sa.Column("terms_text_en", sa.String(300), nullable=False),
        sa.Column("effective", sa.String(16), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("stopped_at", TS, nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("cap_impressions", sa.Integer(), nullable=False),
        sa.Column("cap_days", sa.Integer(), nullable=False),
        sa.Column("placements", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "offer_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("offer_id", sa.Integer(), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("placement", sa.String(16), nullable=False),
        sa.Column("view_id", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("offer_id", "customer_id", "kind", "view_id", name="uq_offer_events_view"),
    )
    op.create_index("ix_offer_events_customer", "offer_events", ["customer_id", "offer_id", "kind"])
    op.create_table(
        "offer_acceptances",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("offer_id", sa.Integer(), sa.ForeignKey("offers.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=False),
        sa.Column("old_plan_id", sa.String(64), nullable=True),
        sa.Column("plan_id", sa.String(64), nullable=True),
        sa.Column("addon_id", sa.String(64), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("extra_monthly_ore", sa.BigInteger(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("accepted_at", TS, nullable=False),
        sa.UniqueConstraint("offer_id", "subscription_id", name="uq_offer_acceptances_sub"),
    )
    op.create_index("ix_offer_acceptances_offer_id", "offer_acceptances", ["offer_id"])
    op.create_index("ix_offer_acceptances_customer_id", "offer_acceptances", ["customer_id"])
    op.create_table(
        "offer_usage_stats",
        sa.Column("subscription_id", sa.Integer(), primary_key=True),
        sa.Column("period_start", sa.Date(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.BigInteger(), nullable=False),
        sa.Column("data_bytes", sa.BigInteger(), nullable=False),
        sa.Column("overage_exact", sa.BigInteger(), nullable=False),
        sa.Column("roaming_events", sa.Integer(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
    )
    op.create_index("ix_offer_usage_stats_customer_id", "offer_usage_stats", ["customer_id"])
    op.create_table(
        "offer_recommendations",
        sa.Column("subscription_id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(300), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "offer_recommendations",
        "offer_usage_stats",
        "offer_acceptances",
        "offer_events",
        "offers",
        "offer_images",
    ):
        op.drop_table(table)
