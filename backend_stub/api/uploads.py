"""Uploads to the core (CSV and bank files, the catalogue's TOML, banner images): who is asking is
checked first, then the body is read as a stream, up to a limit.

FastAPI reads a route's body (an ``UploadFile`` or ``Body`` parameter) before it runs any of the
route's dependencies, the access check among them: an anonymous caller could make the core read
and spool a body of any size before its 401. An upload route therefore takes its body through a
dependency made here (:func:`file_upload`, :func:`text_body`), declared after the route's role
check, so FastAPI solves it only once the caller is known. It reads ``request.stream()`` and stops
with a 413 naming the limit as soon as more has come (or at once when ``Content-Length`` says so).

The errors module treats these dependencies as the route's body (``body_name``): a route's
``HTTPException(422, "...")`` about the file is still ``loc: ["body", "file"]``; and the OpenAPI
schema documents the body (``openapi_extra``) and the 413.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, NamedTuple

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

MiB = 1024 * 1024
FRAMING_BYTES = 64 * 1024
"""Room for the multipart framing around the file (boundaries, part headers, a filename)."""

CSV_MAX_BYTES = 64 * MiB
"""A CDR, customers, BgMax or autogiro file: far above a month of the operator's traffic in one file."""
TOML_MAX_BYTES = 1 * MiB
"""The catalogue (``backend_stub/catalogues/nordvik.toml`` is about 11 kB)."""


class Upload(NamedTuple):
    """A file as uploaded: its bytes and the name the client gave it (``""`` when none)."""

    data: bytes
    filename: str


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit:,} bytes".replace(",", " ")


def too_large(field: str, limit: int) -> HTTPException:
    """The 413 of an upload over its limit; the message names the field and the limit."""
    return HTTPException(413, f"{field}: the upload is larger than the limit of {_size(limit)} ({limit} bytes)")


async def limited_stream(request: Request, field: str, limit: int) -> AsyncGenerator[bytes, None]:
    """The request's body, chunk by chunk, refused (413) as soon as it is longer than ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise HTTPException(400, "Content-Length is not a number")
        if int(length) > limit:
            raise too_large(field, limit)  # before a byte of the body is read
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(field, limit)
        yield chunk


def _missing(field: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": "Field required", "type": "missing"}])


def file_upload(max_bytes: int, field: str = "file") -> Callable[[Request], Awaitable[Upload]]:
    """A dependency: the multipart form's file ``field``, read after the dependencies declared before
    it (the role check). The body may be ``max_bytes`` plus the framing; the service checks the file."""
    limit = max_bytes + FRAMING_BYTES

    async def read_upload(request: Request) -> Upload:
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise _missing(field)
        parser = MultiPartParser(request.headers, limited_stream(request, field, limit), max_files=1, max_fields=10)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            raise HTTPException(400, f"{field}: {exc.message}") from None
        try:
            item = form.get(field)
            if not isinstance(item, UploadFile):
                raise _missing(field)
            return Upload(await item.read(), item.filename or "")
        finally:
            await form.close()

    read_upload.body_name = field  # type: ignore[attr-defined]
    read_upload.max_bytes = max_bytes  # type: ignore[attr-defined]
    return read_upload


def text_body(max_bytes: int, name: str) -> Callable[[Request], Awaitable[str]]:
    """A dependency: the whole body as UTF-8 text (at most ``max_bytes``), read after the role check."""

    async def read_text(request: Request) -> str:
        data = b"".join([chunk async for chunk in limited_stream(request, name, max_bytes)])
        if not data:
            raise _missing(name)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(422, f"{name}: not UTF-8 text (byte {exc.start})") from None

    read_text.body_name = name  # type: ignore[attr-defined]
    read_text.max_bytes = max_bytes  # type: ignore[attr-defined]
    return read_text


def file_schema(field: str = "file", description: str = "") -> dict[str, Any]:
    """``openapi_extra`` of a route taking :func:`file_upload`: a multipart form with one file."""
    prop: dict[str, Any] = {"type": "string", "format": "binary"}
    if description:
        prop["description"] = description
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": [field], "properties": {field: prop}}}
            },
        }
    }


def text_schema(media_type: str, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` of a route taking :func:`text_body`."""
    schema: dict[str, Any] = {"type": "string"}
    if description:
        schema["description"] = description
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}
