"""How the core API answers refusals: one 422 shape, no echoed input, every status documented.

* A 422 is always FastAPI's own shape, ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``:
  pydantic's validation errors without the submitted ``input`` (nor ``ctx``/``url``), and one item per
  refusal of the core's own, whose ``loc`` names the field where the route takes it (``["body",
  "amount_ore"]``, ``["query", "period"]``; ``["path", "invoice_id"]`` for ``invoice``, the thing the path
  names). Messages are cut at ``MAX_MESSAGE`` characters, so long input is never sent back whole.
* The core's typed failures (``backend_stub.domain.errors``) are answered here, once, so routes do not
  catch them: ``Invalid(field, message)`` (bad input, from a service or the domain) is that 422,
  ``NotFound`` is 404 and ``Conflict`` 409, ``{"detail": "<the message>"}``. A route that answers a
  lookup with its own words (``"invoice not found"``, the same for another customer's id) catches it
  itself. A route's ``HTTPException(422, "field: message")`` (a file's errors by line, a rule of the
  route's own) gets the same item, the field read from the message.
* The OpenAPI schema documents the refusals a route can give: 400 for a body that cannot be read
  at all, 413 for an upload over its limit (``api.uploads``), 401 for every route behind a token,
  403 where roles are checked, 404 where an id (path, or a customer in the query) is looked up,
  and whatever a route declares itself (``responses=refusals(409)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend_stub.api.auth import current_principal
from backend_stub.domain.errors import Conflict, Invalid, NotFound

MAX_MESSAGE = 300
"""Longest message sent back in a 422 item (the rest is cut: a message may quote the input)."""

_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]]*): (.+)$", re.DOTALL)

_PROBLEM = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
_DESCRIPTIONS = {
    303: "Sent back to the merchant's return address",
    304: "Not modified (the ETag matched)",
    400: "Refused as malformed",
    401: "No valid bearer token (missing, expired, revoked or wrong), or wrong credentials",
    403: "The token's role may not do this",
    404: "Not found (or not the caller's: the same answer)",
    409: "Conflicts with the state it is in",
    410: "Gone: the link expired or was revoked",
    413: "The upload is larger than the route's limit (named in the message)",
    422: "Validation Error",
    429: "Too many attempts: try again after Retry-After seconds",
}


def refusals(*statuses: int, **content: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route's own refusals: ``responses=refusals(409, 429)``.

    The body is ``{"detail": "why"}`` unless ``content`` gives the schema of a status (``s410=...``).
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        schema = content.get(f"s{status}", _PROBLEM)
        out[status] = {
            "description": _DESCRIPTIONS.get(status, "Refused"),
            "content": {"application/json": {"schema": schema}},
        }
    return out


def redirect() -> dict[int | str, dict[str, Any]]:
    """A 303 to the return address (the payment provider's pages); no body."""
    return {303: {"description": _DESCRIPTIONS[303]}}


# --- 422 in one shape ---------------------------------------------------------------------------


def _clip(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _uploads(dependant: Dependant) -> list[str]:
    """The bodies a route reads itself (``api.uploads`` dependencies), by name (``file``, ``toml``)."""
    return [
        dep.call.body_name for dep in _dependants(dependant) if dep.call is not None and hasattr(dep.call, "body_name")
    ]


def _params(request: Request) -> dict[str, list[str]]:
    """The route's parameters by where they are taken: path, query, header and body."""
    found: dict[str, list[str]] = {"path": [], "query": [], "header": [], "body": []}
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return found
    for dep in _dependants(dependant):
        for where, fields in (
            ("path", dep.path_params),
            ("query", dep.query_params),
            ("header", dep.header_params),
            ("body", dep.body_params),
        ):
            found[where] += [f.alias or f.name for f in fields]
    found["body"] += _uploads(dependant)
    return found


def _field_item(request: Request, field: str, text: str) -> dict[str, Any]:
    """One 422 item about ``field``, located where the route takes it: path, query or header; the
    path's ``<field>_id``; else the body (a route without a body: the field alone)."""
    params = _params(request)
    for where in ("path", "query", "header"):
        if field in params[where]:
            return {"loc": [where, field], "msg": _clip(text), "type": "value_error"}
    if f"{field}_id" in params["path"]:  # "invoice: …" is about the invoice the path names
        return {"loc": ["path", f"{field}_id"], "msg": _clip(text), "type": "value_error"}
    if params["body"]:
        return {"loc": ["body", field], "msg": _clip(text), "type": "value_error"}
    return {"loc": [field], "msg": _clip(text), "type": "value_error"}


def _item(request: Request, message: str) -> dict[str, Any]:
    """One 422 item for a route's ``"field: message"`` (or a message about the request as a whole)."""
    match = _FIELD.match(message)
    if match:
        return _field_item(request, *match.groups())
    params = _params(request)
    # No field named: the file (or body) as a whole, else the thing the path names.
    if params["body"]:
        uploads = [name for name in params["body"] if name == "file"]
        return {"loc": ["body", *uploads], "msg": _clip(message), "type": "value_error"}
    if params["path"]:
        return {"loc": ["path", params["path"][0]], "msg": _clip(message), "type": "value_error"}
    return {"loc": [], "msg": _clip(message), "type": "value_error"}


def _items(request: Request, detail: Any) -> list[dict[str, Any]]:
    if isinstance(detail, str):
        return [_item(request, detail)]
    if isinstance(detail, dict) and isinstance(detail.get("errors"), list):  # a file's or a catalogue's errors
        return [_item(request, str(error)) for error in detail["errors"]]
    if isinstance(detail, list) and all(isinstance(i, dict) and "loc" in i and "msg" in i for i in detail):
        return [
            {"loc": list(i["loc"]), "msg": _clip(str(i["msg"])), "type": str(i.get("type", "value_error"))}
            for i in detail
        ]
    return [_item(request, str(detail))]


def _validation_item(error: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's error without the input it was given (nor ``ctx``/``url``), its message cut short."""
    msg = str(error.get("msg", "invalid"))
    if msg.startswith("Value error, "):  # our validators' own words, without pydantic's prefix
        msg = msg[len("Value error, ") :]
    loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
    return {"loc": loc, "msg": _clip(msg), "type": str(error.get("type", "value_error"))}


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": [_validation_item(e) for e in exc.errors()]}, status_code=422)


async def _on_http_exception(request: Request, exc: StarletteHTTPException) -> Any:
    if exc.status_code == 422:
        return JSONResponse(
            {"detail": _items(request, exc.detail)}, status_code=422, headers=getattr(exc, "headers", None)
        )
    return await http_exception_handler(request, exc)


async def _on_invalid(request: Request, exc: Invalid) -> JSONResponse:
    return JSONResponse({"detail": [_field_item(request, exc.field, exc.message)]}, status_code=422)


async def _on_not_found(request: Request, exc: NotFound) -> JSONResponse:
    return JSONResponse({"detail": str(exc) or "not found"}, status_code=404)


async def _on_conflict(request: Request, exc: Conflict) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


# --- the refusals in the OpenAPI schema ---------------------------------------------------------


def _guards(route: APIRoute) -> tuple[bool, bool]:
    """(behind a token, roles checked) for a route, from its dependencies."""
    token = roles = False
    for dep in _dependants(route.dependant):
        if dep.call is current_principal:
            token = True
        if getattr(dep.call, "__name__", "").startswith("require_"):
            roles = True
    return token, roles


_VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}


def _common_refusals(route: APIRoute) -> dict[int | str, dict[str, Any]]:
    token, roles = _guards(route)
    uploads = _uploads(route.dependant)
    # A body that cannot be read at all (not UTF-8, broken multipart); an upload also has its size limit,
    # and its 422 (FastAPI documents one only for the parameters it reads itself).
    statuses = [400] if route.dependant.body_params or uploads else []
    if uploads:
        statuses += [413, 422]
    if token:
        statuses.append(401)
    if roles:
        statuses.append(403)
    query = {f.alias or f.name for dep in _dependants(route.dependant) for f in dep.query_params}
    if (
        route.dependant.path_params
        or any(dep.path_params for dep in _dependants(route.dependant))
        or (token and "customer_id" in query)
    ):
        statuses.append(404)
    return refusals(*statuses, s422=_VALIDATION)


def document_refusals(app: FastAPI, routers: list[APIRouter]) -> None:
    """Add the common refusals (401, 403, 404) to the documented responses of every operation of ``routers``."""
    generate = app.openapi
    documented: list[dict[str, Any]] = []  # the schema last documented (FastAPI regenerates when routes change)

    def openapi() -> dict[str, Any]:
        schema = generate()
        if documented and documented[0] is schema:
            return schema
        for route in (r for router in routers for r in router.routes):
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            extra = _common_refusals(route)
            for method in route.methods or ():
                operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue
                for status, response in extra.items():
                    operation["responses"].setdefault(str(status), response)
        documented[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, routers: list[APIRouter]) -> None:
    """One 422 shape for every refusal of input (the core's ``Invalid`` among them), the core's ``NotFound`` and
    ``Conflict`` answered 404 and 409, and the refusals of ``routers``' routes documented."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(Invalid, _on_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(NotFound, _on_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(Conflict, _on_conflict)  # type: ignore[arg-type]
    document_refusals(app, routers)
