"""What every command of ``python -m backend_stub`` shares: the core, a result, a refusal, who acts.

Written once for the area modules (``cli/<area>.py``). The core is opened when a command runs.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend_stub.core import Core


def open_core() -> Core:
    """The core on the configured database (``DATABASE_URL``, else the SQLite file under ``var/``)."""
    from backend_stub.core import Core  # here: ``--help`` and a refused argument load no database code

    return Core.from_url()


def print_result(obj: Any, as_json: bool, text: str) -> None:
    """A command's result: ``obj`` as JSON with ``--json``, else the sentence ``text``."""
    print(json.dumps(obj, ensure_ascii=False, indent=2) if as_json else text)


def fail(message: str) -> int:
    """``error: <message>`` on stderr; returns 2, the exit status of a refused command."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def actor() -> str:
    """``cli:<user>``, the actor the audit log records for the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container: still say it came from the CLI
        return "cli"
