"""The core's typed failures, one family for every service: what the API answers 422, 404 and 409.

A service (or the domain) raises these; the API maps them once (``api.errors.install``):

* ``Invalid(field, message)``: the caller's input is wrong, and ``field`` says which part
  (``Invalid("amount_ore", "must be positive")``). 422 in FastAPI's own shape, one item whose ``loc``
  names the field where the route takes it (``["body", "amount_ore"]``, ``["query", "period"]``).
  Its ``str()`` is ``"amount_ore: must be positive"``, as bad input always read. It is a ``ValueError``,
  so ``except ValueError`` (the CLI's refusals) and ``pytest.raises(ValueError)`` still catch it.
* ``NotFound`` → 404 and ``Conflict`` → 409, with the message as ``detail``. A message names the field
  where there is one (``"charge_id: no charge 7"``).

The CLI reports all three like bad input. ``Conflict`` is deliberately not a ``ValueError``: an
``except ValueError`` (422) must not swallow it. The file formats' parsers (CDR CSV, BgMax, Autogiro, the
customers CSV) keep their own errors, which name the line.
"""

from __future__ import annotations


class Invalid(ValueError):
    """Bad input, about one ``field`` of it (a body field, a query parameter, an argument of the CLI)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[Invalid], tuple[str, str]]:
        return (type(self), (self.field, self.message))


class NotFound(LookupError):
    """What was asked for does not exist (or is not the caller's: the same answer)."""


class Conflict(Exception):
    """The request conflicts with the state the thing is in (already accepted, invoiced, in effect …)."""
