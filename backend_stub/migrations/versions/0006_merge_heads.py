"""merge the app-access, lifecycle and support branches into one line

Revision ID: 0006
Revises: 0003, 0004b, 0005
"""

revision = "0006"
down_revision = ("0003", "0004b", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
