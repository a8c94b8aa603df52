"""usage alerts: the spending limits a subscription chose, each with when it applies from

Revision ID: 0015a
Revises: 0014u
"""

import sqlalchemy as sa
from alembic import op

revision = "0015a"
down_revision = "0014u"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alert_settings", sa.Column("spend_limits", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("alert_settings", "spend_limits")
