"""Uploads to the core: who is asking is checked before a byte of the body is read, and the body is
capped while it streams (413 naming the limit).

The requests go to the ASGI app directly, with a ``receive`` that records every body chunk the app
takes, so "not read" means exactly that: the app never asked for the body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend_stub.api import uploads
from backend_stub.api.app import create_app
from tests.conftest import run_coroutine, token_for

CHUNK = 64 * 1024
BOUNDARY = "guardboundary"

# (method, path, a role that may, a role that may not, the body limit)
UPLOADS = [
    ("POST", "/usage/csv", "service", "agent", uploads.CSV_MAX_BYTES + uploads.FRAMING_BYTES),
    ("POST", "/customers/import", "service", "supervisor", uploads.CSV_MAX_BYTES + uploads.FRAMING_BYTES),
    ("POST", "/payments/bgmax", "service", "agent", uploads.CSV_MAX_BYTES + uploads.FRAMING_BYTES),
    ("POST", "/autogiro/files", "service", "marketing", uploads.CSV_MAX_BYTES + uploads.FRAMING_BYTES),
    ("PUT", "/catalogue", "service", "agent", uploads.TOML_MAX_BYTES),
    ("POST", "/marketing/images", "marketing", "agent", 1_000_001 + uploads.FRAMING_BYTES),
]


class Body:
    """A request body of ``size`` bytes that the app pulls chunk by chunk; counts what it pulled."""

    def __init__(self, size: int, head: bytes = b"") -> None:
        self.size, self.head, self.sent, self.calls = size, head, 0, 0

    async def receive(self) -> dict[str, Any]:
        self.calls += 1
        if self.sent >= self.size:
            return {"type": "http.disconnect"}
        chunk = self.head if self.sent == 0 and self.head else b"x" * min(CHUNK, self.size - self.sent)
        self.sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.sent < self.size}


def call(app, method: str, path: str, body: Body, headers: dict[str, str], *, length: bool) -> tuple[int, Any]:
    content_type = "application/toml" if path == "/catalogue" else f"multipart/form-data; boundary={BOUNDARY}"
    raw = [(b"content-type", content_type.encode())] + [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if length:
        raw.append((b"content-length", str(body.size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 5000),
        "server": ("core", 80),
    }
    answer: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    run_coroutine(app(scope, body.receive, send))
    return answer["status"], json.loads(answer["body"] or b"null")


def _file_head() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


@pytest.fixture
def app(core, auth):
    return create_app(core, auth=auth)


@pytest.mark.parametrize(("method", "path", "allowed", "refused", "limit"), UPLOADS)
def test_an_unknown_or_wrong_caller_is_refused_before_the_body_is_read(
    app, auth, method, path, allowed, refused, limit
):
    for headers, status in (({}, 401), ({"Authorization": "Bearer not-a-token"}, 401), (token_for(auth, refused), 403)):
        for length in (True, False):
            body = Body(200 * 1024 * 1024, _file_head())  # 200 MiB, far above any limit
            got, answer = call(app, method, path, body, headers, length=length)
            assert got == status, answer
            assert body.calls == 0 and body.sent == 0, f"{path}: {body.sent} bytes read for a {status}"


@pytest.mark.parametrize(("method", "path", "allowed", "refused", "limit"), UPLOADS)
def test_a_body_over_the_limit_is_refused_naming_it(app, auth, method, path, allowed, refused, limit):
    headers = token_for(auth, allowed, 1 if allowed == "subscriber" else None)
    # Content-Length says too much: refused before the body is read.
    body = Body(limit + 1, _file_head())
    got, answer = call(app, method, path, body, headers, length=True)
    assert got == 413 and body.sent == 0, answer
    assert str(limit) in answer["detail"] and answer["detail"].startswith(("file: ", "toml: ")), answer
    # Streamed without a length: read up to the limit, no further.
    body = Body(10 * limit, _file_head())
    got, answer = call(app, method, path, body, headers, length=False)
    assert got == 413 and str(limit) in answer["detail"], answer
    assert limit < body.sent <= limit + CHUNK


def test_a_route_without_a_body_parameter_never_reads_one(app, auth):
    """The app-wide text check used to parse any multipart body before the route's own access check."""
    body = Body(50 * 1024 * 1024, _file_head())
    got, _answer = call(app, "POST", "/suspense/reprocess", body, {}, length=False)
    assert got == 401 and body.sent == 0


def test_the_schema_documents_the_upload_and_its_refusals(app):
    from fastapi.testclient import TestClient

    schema = TestClient(app).get("/openapi.json").json()
    for method, path, *_ in UPLOADS:
        operation = schema["paths"][path][method.lower()]
        assert {"400", "401", "403", "413", "422"} <= set(operation["responses"]), path
        content = operation["requestBody"]["content"]
        if path == "/catalogue":
            assert content["application/toml"]["schema"]["type"] == "string"
        else:
            assert content["multipart/form-data"]["schema"]["required"] == ["file"]
