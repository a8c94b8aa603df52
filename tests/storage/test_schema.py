"""The migrations build exactly the schema the ORM models describe, on SQLite and PostgreSQL,
and they form one line (a single head), so ``alembic upgrade head`` and ``heads`` agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from backend_stub.storage.db import alembic_config
from backend_stub.storage.models import Base  # every area's tables (the metadata Alembic reads)


def test_every_table_matches_its_migration(core):
    with core.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_the_migrations_have_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads
