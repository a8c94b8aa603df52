"""Security headers on every core API response and every app page; the anonymous upload cap (issue 14).

The browser side (every page works under its CSP, no violation) is tests/e2e/test_security_headers.py.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from datetime import date

import brotli
import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from selfcare import web_security
from selfcare_common.security_headers import inline_script_hashes
from tests.conftest import run_coroutine, token_for

BASE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _sha(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def _assert_base(resp: httpx.Response) -> None:
    for name, value in BASE.items():
        assert resp.headers.get_list(name) == [value], (name, resp.headers)
    assert "camera=()" in resp.headers["permissions-policy"]
    csp = _directives(resp.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]


# --- the core ------------------------------------------------------------------------------------------


@pytest.fixture
def api(core, auth):
    seed(core, 6, 3, today=date(2026, 11, 21), quiet=True)
    with TestClient(create_app(core, auth=auth), follow_redirects=False) as client:
        yield client


def test_every_core_answer_has_the_headers(api, auth) -> None:
    for resp in (
        api.get("/health"),
        api.get("/customers"),  # 401 too
        api.get("/customers", headers=token_for(auth, "agent")),
        api.get("/invoices/not-a-uuid", headers=token_for(auth, "agent")),
        api.get("/no-such-route"),
        api.get("/openapi.json"),
    ):
        _assert_base(resp)
        csp = _directives(resp.headers["content-security-policy"])
        assert csp["default-src"] == ["'none'"]  # JSON: nothing loads, nothing runs
        assert "strict-transport-security" not in resp.headers  # plain http: no HSTS


def test_hsts_only_over_https(core, auth) -> None:
    with TestClient(create_app(core, auth=auth), base_url="https://core.example") as client:
        resp = client.get("/health")
    assert resp.headers["strict-transport-security"].startswith("max-age=31536000")
    _assert_base(resp)


def test_hosted_payment_page_runs_no_script_and_is_not_framed(api, auth) -> None:
    open_invoices = [
        (c["id"], i)
        for c in api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
        for i in api.get("/invoices", headers=token_for(auth, "subscriber", c["id"])).json()["items"]
        if i["balance_ore"] > 0
    ]
    assert open_invoices, "the seed needs an invoice left to pay"
    customer, invoice = open_invoices[0]
    sub = token_for(auth, "subscriber", customer)
    started = api.post(
        f"/invoices/{invoice['id']}/pay", headers=sub, json={"return_url": "http://localhost:3000/invoices/x"}
    )
    assert started.status_code in (200, 201), started.text
    page = api.get(started.json()["checkout_path"])
    assert page.status_code == 200 and "<form" in page.text
    _assert_base(page)  # the route's own X-Frame-Options is not repeated
    csp = _directives(page.headers["content-security-policy"])
    assert csp["script-src"] == ["'none'"] and csp["style-src"] == ["'unsafe-inline'"]


def test_api_docs_allow_their_own_start_script_by_hash(api) -> None:
    page = api.get("/docs")
    [script] = [s for s in re.findall(r"<script>(.*?)</script>", page.text, re.S)]
    csp = _directives(page.headers["content-security-policy"])
    assert _sha(script) in csp["script-src"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]


# --- the app's front: pages, uploads ------------------------------------------------------------------

PAGE = (
    '<!doctype html><html><head><script>window.a = 1;</script><script src="/assets/x.js"></script>'
    '<script type="module" async="">import "/assets/m.js";</script></head><body>'
    '<script id="_R_">requestAnimationFrame(function(){})</script><script>window.a = 1;</script></body></html>'
)
INLINE = ["window.a = 1;", 'import "/assets/m.js";', "requestAnimationFrame(function(){})"]


def _inner_app(seen: list[int]) -> Starlette:
    async def page(_request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def page_gz(_request: Request) -> Response:
        return Response(gzip.compress(PAGE.encode()), media_type="text/html", headers={"content-encoding": "gzip"})

    async def page_br(_request: Request) -> Response:
        return Response(brotli.compress(PAGE.encode()), media_type="text/html", headers={"content-encoding": "br"})

    async def not_modified(_request: Request) -> Response:
        return Response(status_code=304, headers={"etag": '"1"'})

    async def core_json(_request: Request) -> Response:
        return JSONResponse(
            {"ok": True}, headers={"content-security-policy": "default-src 'none'; frame-ancestors 'none'"}
        )

    async def upload(request: Request) -> Response:
        body = await request.body()
        seen.append(len(body))
        return JSONResponse({"bytes": len(body)})

    async def asset(_request: Request) -> Response:
        return Response("export const x = 1;", media_type="text/javascript")

    return Starlette(
        routes=[
            Route("/login/", page),
            Route("/gz", page_gz),
            Route("/br", page_br),
            Route("/nm", not_modified),
            Route("/assets/root-BdUNkvzk.js", asset),
            Route("/core/x", core_json),
            Route("/_upload", upload, methods=["POST"]),
            Route("/logo.svg", lambda _r: Response("<svg/>", media_type="image/svg+xml")),
        ]
    )


def _call(method: str, path: str, seen: list[int] | None = None, **kwargs) -> httpx.Response:
    app = web_security.secure(_inner_app(seen if seen is not None else []))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            return await client.request(method, path, **kwargs)

    return run_coroutine(go())


def test_inline_scripts_are_hashed_as_written() -> None:
    assert inline_script_hashes(PAGE.encode()) == [_sha(s) for s in INLINE]


@pytest.mark.parametrize("path", ["/login/", "/gz", "/br"])
def test_page_csp_lists_exactly_its_inline_scripts(path: str) -> None:
    resp = _call("GET", path)
    _assert_base(resp)
    csp = _directives(resp.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'", *[_sha(s) for s in INLINE]]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]  # Emotion/Radix styles at run time
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"] and csp["default-src"] == ["'none'"]
    assert "'self'" in csp["connect-src"]
    assert resp.text == PAGE  # passed on as it was (httpx undoes the gzip and the brotli)
    assert resp.headers.get("content-encoding") == {"/gz": "gzip", "/br": "br"}.get(path)


def test_page_sent_as_a_file_path_is_hashed_too(tmp_path) -> None:
    """Granian's ``http.response.pathsend``: Starlette's FileResponse (the built pages) hands the server a path."""
    page = tmp_path / "login.html.gz"
    page.write_bytes(gzip.compress(PAGE.encode()))
    sent: list[dict] = []

    async def file_app(scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-encoding", b"gzip")],
            }
        )
        await send({"type": "http.response.pathsend", "path": str(page)})

    async def record(message) -> None:
        sent.append(message)

    async def nothing() -> dict:
        return {"type": "http.disconnect"}

    app = web_security.secure(file_app)
    run_coroutine(app({"type": "http", "method": "GET", "path": "/login/", "headers": []}, nothing, record))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    assert _directives(headers["content-security-policy"])["script-src"] == ["'self'", *[_sha(s) for s in INLINE]]


def test_not_modified_keeps_the_stored_policy() -> None:
    """A 304 must not carry a CSP: it would replace the page's (with its hashes) in the browser's cache."""
    resp = _call("GET", "/nm")
    assert resp.status_code == 304 and "content-security-policy" not in resp.headers
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_other_answers_get_the_resource_policy_and_the_core_keeps_its_own() -> None:
    svg = _call("GET", "/logo.svg")
    assert svg.headers["content-security-policy"] == web_security.RESOURCE_POLICY
    core = _call("GET", "/core/x")
    assert core.headers.get_list("content-security-policy") == ["default-src 'none'; frame-ancestors 'none'"]
    _assert_base(core)


def test_upload_too_large_by_content_length_is_refused_unread() -> None:
    seen: list[int] = []
    resp = _call("POST", "/_upload", seen, content=b"x" * (web_security.UPLOAD_MAX_BYTES + 1))
    assert resp.status_code == 413 and resp.json()["limit_bytes"] == web_security.UPLOAD_MAX_BYTES
    assert seen == []  # Reflex's handler never ran
    _assert_base(resp)


def test_upload_streamed_without_length_is_cut_off_at_the_limit() -> None:
    seen: list[int] = []
    chunk = b"y" * 65536

    async def body():
        for _ in range(web_security.UPLOAD_MAX_BYTES // len(chunk) + 4):
            yield chunk

    resp = _call("POST", "/_upload", seen, content=body())
    assert resp.status_code == 413 and seen == []


def test_upload_of_an_offer_image_still_passes() -> None:
    seen: list[int] = []
    image = b"i" * (1024 * 1024)  # the largest image the marketing console takes (1 MiB)
    resp = _call("POST", "/_upload", seen, content=image)
    assert resp.status_code == 200 and seen == [len(image)]
    assert _call("POST", "/_upload", [], content=b"x", headers={"content-length": "abc"}).status_code in (400, 413)


def test_hashed_assets_are_cached_for_a_year_and_everything_else_is_checked_first() -> None:
    asset = _call("GET", "/assets/root-BdUNkvzk.js")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    for path in ("/login/", "/logo.svg", "/nm"):
        assert _call("GET", path).headers["cache-control"] == "no-cache", path
    # The core's answers and uploads say what they say (nothing here).
    assert "cache-control" not in _call("GET", "/core/x").headers
    assert "cache-control" not in _call("POST", "/_upload", [], content=b"x").headers
