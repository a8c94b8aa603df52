"""The declarative base of every table: each area's tables (``storage.models.<area>``) derive from it."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
