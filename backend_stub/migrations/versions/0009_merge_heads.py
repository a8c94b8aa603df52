"""merge the offers, charges and autopay branches into one line

Revision ID: 0009
Revises: 0008a, 0008b, 0008p
"""

revision = "0009"
down_revision = ("0008a", "0008b", "0008p")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
