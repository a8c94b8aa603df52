"""The core API's input types, checked at the edge: ids, offsets, periods, amounts, filters.

One place for the bounds every route shares, so that anything outside them is a 422 naming the
field (FastAPI's own shape) before a service or the database sees it: an id above 64 bits, a
negative offset, ``2026-13`` or ``0000-00`` as a period, an amount no invoice could carry. The
OpenAPI schema says the same bounds, so a client (and schemathesis) knows them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1
"""The largest id a table holds: ids are PostgreSQL INTEGER columns (signed 32-bit; only usage
events, never named in a route, have 64-bit ids). A larger id is refused here, not by the database."""

MAX_OFFSET = 1_000_000_000
"""Far beyond any listing; keeps OFFSET inside what every database takes."""

MAX_AMOUNT_ORE = 10_000_000_000
"""100 000 000 kr: above anything one invoice, payment, credit or refund carries."""

MAX_POSITION = 10_000
"""Line positions on an invoice (1-based)."""

PERIOD_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN)
PERIOD_RULE = "a month YYYY-MM (1900-01 … 2999-12), e.g. 2026-10"


def check_period(value: str) -> str:
    """A billing period: ``YYYY-MM`` with a real month (``2026-13`` and ``0000-00`` are refused)."""
    if not _PERIOD.match(value):
        raise ValueError(f"expected {PERIOD_RULE}")
    return value


_PERIOD_SCHEMA = {"pattern": PERIOD_PATTERN}

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
DAY_RULE = f"a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def check_day(value: date) -> date:
    """A business day the services can count from (9999-12-31 + one banking day overflowed)."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"expected {DAY_RULE}")
    return value


def _check_optional_day(value: date | None) -> date | None:
    return None if value is None else check_day(value)


# --- path parameters ------------------------------------------------------------------------

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="a database id (1 … 2³¹−1)")]
InvoiceRef = Annotated[str, Path(min_length=1, max_length=64, description="the invoice's id or its number")]
PositionPath = Annotated[int, Path(ge=1, le=MAX_POSITION, description="a line of the invoice, 1-based")]
SessionRef = Annotated[str, Path(min_length=1, max_length=128, description="the payment provider's session id")]
LinkToken = Annotated[str, Path(min_length=10, max_length=2000, description="an invoice link's token")]

# --- query parameters -----------------------------------------------------------------------

IdQuery = Annotated[int, Query(ge=1, le=MAX_ID, description="a database id (1 … 2³¹−1)")]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="a database id (1 … 2³¹−1)")]
AfterIdQuery = Annotated[int | None, Query(ge=0, le=MAX_ID, description="only what comes after this id")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"rows to skip (0 … {MAX_OFFSET})")]
PeriodQuery = Annotated[
    str, Query(description=PERIOD_RULE, json_schema_extra=_PERIOD_SCHEMA), AfterValidator(check_period)
]
OptionalPeriodQuery = Annotated[
    str | None,
    Query(description=PERIOD_RULE, json_schema_extra=_PERIOD_SCHEMA),
    AfterValidator(lambda v: v if v is None else check_period(v)),
]
Filter = Annotated[str | None, Query(max_length=64, description="a filter value (at most 64 characters)")]
"""A short free-text filter (status, kind, service, category …): long input is refused, never echoed."""
InvoiceRefQuery = Annotated[str | None, Query(max_length=64, description="an invoice's id or number")]
Lang = Annotated[str, Query(max_length=8, description="sv or en (anything else: sv)")]
OptionalDayQuery = Annotated[date | None, Query(description=DAY_RULE), AfterValidator(_check_optional_day)]

# --- body fields ----------------------------------------------------------------------------

IdField = Annotated[int, Field(ge=1, le=MAX_ID, description="a database id (1 … 2³¹−1)")]
PeriodField = Annotated[
    str,
    Field(description=PERIOD_RULE, examples=["2026-10"], json_schema_extra=_PERIOD_SCHEMA),
    AfterValidator(check_period),
]
AmountOre = Annotated[int, Field(gt=0, le=MAX_AMOUNT_ORE, description="öre, more than 0")]
PositionField = Annotated[int, Field(ge=1, le=MAX_POSITION, description="a line of the invoice, 1-based")]
DayField = Annotated[date, Field(description=DAY_RULE), AfterValidator(check_day)]

# --- text that a database can store -------------------------------------------------------------

_ESCAPE = b"\\u"


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (a lone surrogate is not)"
    return None


def _text_problems(value: object, loc: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            yield loc, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _text_problems(key, [*loc, str(key)])
            yield from _text_problems(item, [*loc, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _text_problems(item, [*loc, index])


async def storable_text(request: Request) -> None:
    """Refuse text no database column can hold, wherever it comes (path, query, JSON body, form fields):
    NUL characters (PostgreSQL refuses them) and lone surrogates (not UTF-8). A 422 naming the field.

    An app-wide dependency, so that every route's strings are checked before any of them is used.
    A body is looked at only when FastAPI has read it for the route (a body parameter): a route
    without one reads its body itself after its access check (an upload, ``api.uploads``) or not
    at all, and this check, which runs before the route's own dependencies, must not read it first.
    """
    found: list[tuple[list[str | int], str]] = []
    for name, value in request.path_params.items():
        found += _text_problems(value, ["path", name])
    for name, value in request.query_params.multi_items():
        found += _text_problems(name, ["query", name])
        found += _text_problems(value, ["query", name])
    content_type = request.headers.get("content-type", "").lower()
    if getattr(request.scope.get("route"), "body_field", None) is None:
        pass  # no body parameter: the body is not read here
    elif "json" in content_type:
        body = await request.body()
        if _ESCAPE in body:  # NUL and surrogates can only come as \u escapes in JSON
            try:
                found += _text_problems(json.loads(body), ["body"])
            except ValueError:
                pass  # not JSON: the route's own validation says so
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str):
                found += _text_problems(value, ["body", name])
    if found:
        raise RequestValidationError([{"loc": tuple(loc), "msg": msg, "type": "value_error"} for loc, msg in found])
