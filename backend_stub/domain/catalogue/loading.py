"""Loading a catalogue from TOML (a file or the API's upload): parse, compile, and point every error and
warning at its TOML line and item id.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend_stub.domain.catalogue.compile import compile_catalogue
from backend_stub.domain.catalogue.schema import CatalogueError
from backend_stub.domain.catalogue.values import Catalogue
from selfcare_common.toml_text import control_characters

logger = logging.getLogger("backend_stub.domain.catalogue")  # the name its warnings have always had


def _located(errors: list[str], text: str) -> list[str]:
    """Each error with the TOML line of its field (or of the nearest enclosing one) and its item's id."""
    lines, ids = _toml_paths(text)
    out = []
    for error in errors:
        path = error.split(": ", 1)[0]
        where = []
        probe = path
        while probe:
            if probe in lines:
                where.append(f"line {lines[probe]}")
                break
            probe = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe) if re.search(r"(\.[^.\[]+|\[\d+\])$", probe) else ""
        item = re.match(r"[a-z_]+\[\d+\]", path)
        if item and ids.get(item.group()):
            where.append(f"id {ids[item.group()]!r}")
        out.append(f"{error} ({', '.join(where)})" if where else error)
    return out


def _toml_paths(text: str) -> tuple[dict[str, int], dict[str, str]]:
    """First line of each field path of a catalogue's TOML text (``plans[2].monthly_fee``), and item ids.

    A plain line scan of the layout the catalogue uses (tables, arrays of tables, one inline
    table per line in arrays), good enough to point a person at the right line.
    """
    lines: dict[str, int] = {}
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    table = ""
    array_key = ""
    array_items = 0
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = re.fullmatch(r"\[\[\s*([\w.-]+)\s*\]\]|\[\s*([\w.-]+)\s*\]", stripped.split("#")[0].strip())
        if header:
            array_key = ""
            name = header.group(1) or header.group(2)
            parent, _, last = name.rpartition(".")
            base = ""
            if parent:  # a sub-table of the latest item of its parent array (tariffs.offpeak)
                base = (
                    next(
                        (
                            p
                            for p in sorted(lines, key=lines.__getitem__, reverse=True)
                            if re.fullmatch(rf"{re.escape(parent)}\[\d+\]", p)
                        ),
                        parent,
                    )
                    + "."
                )
            if header.group(1):
                counts[base + last] = counts.get(base + last, -1) + 1
                table = f"{base}{last}[{counts[base + last]}]"
            else:
                table = base + last
            lines.setdefault(table, n)
            continue
        if array_key:
            if stripped.startswith("{"):
                lines.setdefault(f"{array_key}[{array_items}]", n)
                array_items += 1
            if stripped.startswith("]"):
                array_key = ""
            continue
        key = re.match(r"([\w-]+|\"[^\"]*\")\s*=\s*(.*)", stripped)
        if key:
            name = key.group(1).strip('"')
            path = f"{table}.{name}" if table else name
            lines.setdefault(path, n)
            value = key.group(2)
            if name == "id" and re.match(r"[a-z_]+\[\d+\]$", table):
                ids[table] = value.split("#")[0].strip().strip('"')
            if value.startswith("[") and not value.rstrip().endswith("]"):
                array_key, array_items = path, 0
    return lines, ids


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and compile a catalogue TOML file; ``CatalogueError`` names every bad field."""
    path = Path(path)
    data = path.read_bytes()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogueError([f"{path.name}: not UTF-8 (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"{path.name}: not valid TOML: {exc}"]) from None
    return _compiled(raw, data.decode("utf-8"))


def _compiled(raw: dict[str, Any], text: str) -> Catalogue:
    controls = control_characters(raw)  # "\u0000" is valid TOML, not a text the system can carry
    try:
        catalogue = compile_catalogue(raw)
    except CatalogueError as exc:
        errors = controls + exc.errors
        raise CatalogueError(errors, _located(errors, text)) from None
    if controls:
        raise CatalogueError(controls, _located(controls, text))
    if catalogue.warnings:  # each with its TOML line and item id, like the errors
        catalogue = replace(catalogue, warnings=tuple(_located(list(catalogue.warnings), text)))
        for warning in catalogue.warnings:
            logger.warning("catalogue: %s", warning)
    return catalogue


def parse_catalogue_text(text: str) -> Catalogue:
    """Compile a catalogue from TOML text (the API's upload and the tests)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"not valid TOML: {exc}"]) from None
    return _compiled(raw, text)


DEFAULT_CATALOGUE = Path(__file__).parent.parent.parent / "catalogues" / "nordvik.toml"
