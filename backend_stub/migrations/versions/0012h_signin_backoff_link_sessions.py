"""sign-in back-off and link sessions: codes per subject (instead of a customer column) and asking
client, back-off counters, sessions opened from invoice links (so revoking the link ends them), old
long links stored hashed

Revision ID: 0012h
Revises: 0011c
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0012h"
down_revision = "0011c"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("login_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("client_key", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("own_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE login_codes SET subject = 'c:' || CAST(customer_id AS VARCHAR(20))")
    with op.batch_alter_table("login_codes", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("own_attempts", existing_type=sa.Integer(), server_default=None)
        batch_op.create_index("ix_login_codes_subject", ["subject"])
        # The subject names the customer; a foreign key would be checked only for real accounts.
        batch_op.drop_index("ix_login_codes_customer_id")
        batch_op.drop_column("customer_id")

    op.create_table(
        "backoffs",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", TS, nullable=False),
    )
    # The fixed-window sign-in counters are replaced by the back-off counters.
    op.execute("DELETE FROM throttles WHERE key LIKE 'otp-%' OR key LIKE 'agent-%'")

    op.create_table(
        "link_sessions",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("link_jti", sa.String(64), sa.ForeignKey("invoice_links.jti"), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_link_sessions_link_jti", "link_sessions", ["link_jti"])

    # Old long links were stored as they were sent: keep only their SHA-256, in place.
    conn = op.get_bind()
    links = sa.table("invoice_links", sa.column("jti", sa.String), sa.column("token", sa.Text))
    rows = conn.execute(
        sa.select(links.c.jti, links.c.token).where(~links.c.token.like("seed:%"), ~links.c.token.like("sha256:%"))
    ).all()
    for jti, token in rows:
        conn.execute(
            links.update()
            .where(links.c.jti == jti)
            .values(token="sha256:" + hashlib.sha256(token.encode()).hexdigest())
        )


def downgrade() -> None:
    # Hashed long links stay hashed (they cannot be turned back); they still open by their jti.
    op.drop_index("ix_link_sessions_link_jti", table_name="link_sessions")
    op.drop_table("link_sessions")
    op.drop_table("backoffs")
    op.execute("DELETE FROM login_codes WHERE subject NOT LIKE 'c:%'")
    with op.batch_alter_table("login_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
    op.execute("UPDATE login_codes SET customer_id = CAST(SUBSTR(subject, 3) AS INTEGER)")
    with op.batch_alter_table("login_codes", schema=None) as batch_op:
        batch_op.alter_column("customer_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_login_codes_customer_id", "customers", ["customer_id"], ["id"])
        batch_op.create_index("ix_login_codes_customer_id", ["customer_id"])
        batch_op.drop_index("ix_login_codes_subject")
        batch_op.drop_column("own_attempts")
        batch_op.drop_column("client_key")
        batch_op.drop_column("subject")
