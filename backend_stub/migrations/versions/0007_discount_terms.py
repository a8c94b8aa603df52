"""discount grants may carry their own terms (offers' price terms) and name one plan

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("name", sa.String(200)),
    ("percent", sa.String(16)),
    ("amount_ore", sa.BigInteger()),
    ("applies_to", sa.String(16)),
    ("periods", sa.Integer()),
    ("plan_id", sa.String(64)),
    ("source", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("discount_grants") as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("discount_grants") as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
