"""The core's typed failures, one family for every service: what the API answers 404 and 409.

A service raises these; the API maps them once (``api.errors.install``): ``NotFound`` → 404 and
``Conflict`` → 409, with the message as ``detail``. The CLI reports them like bad input. A
message names the field where there is one (``"charge_id: no charge 7"``).

Bad input stays a ``ValueError`` (422 in the API). ``Conflict`` is deliberately not a
``ValueError``: a route's ``except ValueError`` (422) must not swallow it.
"""

from __future__ import annotations


class NotFound(LookupError):
    """What was asked for does not exist (or is not the caller's: the same answer)."""


class Conflict(Exception):
    """The request conflicts with the state the thing is in (already accepted, invoiced, in effect …)."""
