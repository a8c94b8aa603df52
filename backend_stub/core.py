"""The core's composition root: one database engine and the current catalogue.

The CLI, the HTTP API and the tests all work through a ``Core``. The catalogue in force
is the newest one loaded with ``load-catalogue`` (stored in the database, so several
workers agree); a fresh database uses the example catalogue shipped with the package.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from backend_stub import clock as clocks
from backend_stub.domain.catalogue import DEFAULT_CATALOGUE, Catalogue, parse_catalogue_text
from backend_stub.storage.db import make_engine, migrate
from backend_stub.storage.models import billing as m


class Core:
    """Engine + catalogue. Thread-safe; cheap to share."""

    def __init__(self, engine: Engine, *, migrate_schema: bool = True):
        self.engine = engine
        if migrate_schema:
            migrate(engine)
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._catalogue_version: int | None = -1

    @classmethod
    def from_url(cls, url: str | None = None) -> Core:
        return cls(make_engine(url))

    @property
    def clock(self) -> clocks.Clock:
        """The core's one clock: the process clock of ``backend_stub.clock`` (the system clock,
        ``SELFCARE_CLOCK`` in dev/test, or a ``FrozenClock`` a test installed with ``clock.use``)."""
        return clocks.current()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.clock.today()

    def _latest_version(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(m.CatalogueVersion.id))).scalar()

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue in force (re-read when another process loaded a newer one)."""
        version = self._latest_version()
        with self._lock:
            if self._catalogue is None or version != self._catalogue_version:
                if version is None:
                    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
                else:
                    with self.engine.connect() as conn:
                        text = conn.execute(
                            select(m.CatalogueVersion.document).where(m.CatalogueVersion.id == version)
                        ).scalar_one()
                self._catalogue = parse_catalogue_text(text)
                self._catalogue_version = version
            return self._catalogue

    def load_catalogue(self, text: str, source_name: str) -> Catalogue:
        """Validate and store a catalogue; it is in force from now on. Raises ``CatalogueError``."""
        catalogue = parse_catalogue_text(text)
        with self.engine.begin() as conn:
            conn.execute(
                insert(m.CatalogueVersion).values(loaded_at=self.now(), source_name=source_name[:200], document=text)
            )
        return catalogue

    def load_catalogue_file(self, path: str | Path) -> Catalogue:
        path = Path(path)
        return self.load_catalogue(path.read_text(encoding="utf-8"), path.name)
