"""Text from a TOML file that the rest of the system can carry: no control characters.

TOML forbids raw control characters in strings but lets them in as escapes (``"\\u0000"``,
``"\\u001b"``). A NUL cannot be stored by PostgreSQL, and an escape sequence or a line break in a
plan's name would reach invoices, bank files and terminals. The loaders of TOML configuration
(the catalogue, the brand file) call :func:`control_characters` on the parsed document and refuse
the whole file when it names a field, before anything of it is kept.
"""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 controls (tab and line breaks too: no text of these files spans lines), DEL and C1 controls."""


def printable(key: str) -> str:
    """A key as it can be printed in an error: control characters escaped (``na\\x00me``)."""
    return key.encode("unicode_escape").decode("ascii") if CONTROL.search(key) else key


def control_characters(document: Any, path: str = "") -> list[str]:
    """``table.key: …`` (``plans[2].name: …``) for every text of ``document``, value or key, that holds a
    control character; ``[]`` when there is none. The text itself is not repeated."""
    found: list[str] = []
    if isinstance(document, str):
        if match := CONTROL.search(document):
            found.append(f"{path or 'value'}: a control character (U+{ord(match.group()):04X}) is not allowed in text")
    elif isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}.{printable(key)}" if path else printable(key)
            if match := CONTROL.search(key):
                found.append(f"{where}: a control character (U+{ord(match.group()):04X}) is not allowed in a key")
            found += control_characters(value, where)
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += control_characters(value, f"{path}[{index}]")
    return found
