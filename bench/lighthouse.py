"""Lighthouse 12 (mobile, simulated throttling) on the eight subscriber pages: medians of ``--runs``.

Builds and starts the app as the README does (``reflex run --env prod`` on one port, seeded demo data,
through ``tests/e2e/app_process.start_app``), signs in a subscriber with a one-time code through the
core's API, and runs Lighthouse on: sign-in, overview, invoice list, invoice, invoice link, usage,
add-ons, payment method, alert settings. The signed-in pages get the session as the browser keeps it, the
``selfcare_session`` cookie (``selfcare/session_cookie.py``), sent with every request of the run
(``--extra-headers``), so each run is a first visit with a live session. Prints one row per page:
performance, accessibility and best-practices scores, LCP, TBT, CLS, bytes transferred and
JavaScript files, each the median of the runs.

    make lighthouse-tools        # once: lighthouse@12 from npm into .tools/
    .venv/bin/python bench/lighthouse.py [--runs 3] [--url http://127.0.0.1:3000 --secret …] [--json out.json]

``--url``: measure an app that is already running (its ``SELFCARE_JWT_SECRET`` in ``--secret`` or the
environment, and ``SELFCARE_ENV=dev`` for the outbox with the sign-in codes). Chromium is Debian's
(``CHROME_PATH=/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIGHTHOUSE = ROOT / ".tools" / "node_modules" / ".bin" / "lighthouse"
CHROME = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --no-first-run --disable-quic"
)
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
COOKIE = "selfcare_session"


def _service_headers(secret: str) -> dict[str, str]:
    from backend_stub.services.access.tokens import AuthSettings, Role, issue_token

    token = issue_token(
        AuthSettings(secret=secret), subject="bench-lighthouse", role=Role.SERVICE, ttl=timedelta(hours=2)
    )
    return {"Authorization": f"Bearer {token}"}


def _subscriber(core: httpx.Client) -> tuple[str, str, str]:
    """A customer with an unpaid invoice: ``(customer_number, invoice_id, session token)``."""
    items = core.get("/invoices", params={"kind": "invoice", "status": "unpaid", "limit": 50}).json()["items"]
    invoice = items[0]
    number = invoice["customer_number"]
    assert core.post("/auth/otp/request", json={"identifier": number}).status_code == 202
    for _ in range(40):
        messages = core.get("/dev/outbox", params={"customer": number, "limit": 5}).json()
        found = next((m for m in (CODE_RE.search(x.get("text") or "") for x in messages) if m), None)
        if found:
            break
        time.sleep(0.25)
    else:
        raise SystemExit(f"no sign-in code for {number} in the outbox (is SELFCARE_ENV=dev?)")
    answer = core.post("/auth/otp/verify", json={"identifier": number, "code": found.group(1)})
    answer.raise_for_status()
    return number, invoice["id"], answer.json()["access_token"]


def _lighthouse(url: str, cookie: str | None, out: Path) -> dict[str, Any]:
    cmd = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility,best-practices",
        f"--chrome-flags={CHROME_FLAGS}",
        "--max-wait-for-load=60000",
    ]
    if cookie:
        cmd.append("--extra-headers=" + json.dumps({"Cookie": f"{COOKIE}={cookie}"}))
    subprocess.run(cmd, check=True, env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True, timeout=300)
    report = json.loads(out.read_text())
    audits = report["audits"]
    requests = audits.get("network-requests", {}).get("details", {}).get("items", [])
    return {
        "performance": round(100 * (report["categories"]["performance"]["score"] or 0)),
        "accessibility": round(100 * (report["categories"]["accessibility"]["score"] or 0)),
        "best_practices": round(100 * (report["categories"]["best-practices"]["score"] or 0)),
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kib": audits["total-byte-weight"]["numericValue"] / 1024,
        "js_files": sum(1 for r in requests if r.get("resourceType") == "Script"),
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="an app already running (default: start one as the README does)")
    parser.add_argument("--secret", default=os.environ.get("SELFCARE_JWT_SECRET", ""))
    parser.add_argument("--pages", help="comma-separated page names to measure (default: all eight)")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--reports", type=Path, help="keep each run's whole Lighthouse report (JSON) in this folder")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit(f"{LIGHTHOUSE} is missing: run `make lighthouse-tools`")

    app = None
    if args.url:
        base, secret = args.url.rstrip("/"), args.secret
        if not secret:
            raise SystemExit("--url needs the app's SELFCARE_JWT_SECRET (--secret or the environment)")
    else:
        from tests.e2e.app_process import SECRET, start_app

        workdir = Path(tempfile.mkdtemp(prefix="lighthouse-"))
        print(f"building and starting the app in {workdir} …", file=sys.stderr)
        app = start_app(workdir, database_url=f"sqlite:///{workdir / 'selfcare.db'}")
        base, secret = app.url, SECRET
    try:
        with httpx.Client(base_url=base + "/core", headers=_service_headers(secret), timeout=60) as core:
            _number, invoice_id, session = _subscriber(core)
            link = core.post(f"/invoices/{invoice_id}/link").json()["path"]
        pages: list[tuple[str, str, str | None]] = [
            ("sign-in", "/login", None),
            ("overview", "/", session),
            ("invoice list", "/invoices", session),
            ("invoice", f"/invoices/{invoice_id}", session),
            ("invoice link", link, None),
            ("usage", "/usage", session),
            ("add-ons", "/addons", session),
            ("payment method", "/payment-method", session),
            ("alert settings", "/settings", session),
        ]
        if args.pages:
            wanted = {p.strip() for p in args.pages.split(",")}
            pages = [p for p in pages if p[0] in wanted]
        results: dict[str, list[dict[str, Any]]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.runs):  # round-robin: a slow moment of the machine spreads over the pages
                for name, path, cookie in pages:
                    report = Path(tmp) / "report.json"
                    run = _lighthouse(base + path, cookie, report)
                    if args.reports:
                        args.reports.mkdir(parents=True, exist_ok=True)
                        slug = name.replace(" ", "-")
                        report.replace(args.reports / f"{slug}-{len(results.get(name, []))}.json")
                    results.setdefault(name, []).append(run)
                    print(f"  {name}: {run['performance']} ({run['final_url']})", file=sys.stderr)
        print(f"Lighthouse 12, mobile, simulated throttling, median of {args.runs} (app at {base})")
        print("| page | performance | accessibility | best practices | LCP | TBT | CLS | transferred | JS files |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, _path, _cookie in pages:
            runs = results[name]

            def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.median(r[key] for r in runs)

            print(
                f"| {name} | {med('performance'):.0f} | {med('accessibility'):.0f} | {med('best_practices'):.0f} "
                f"| {med('lcp_s'):.1f} s | {med('tbt_ms'):.0f} ms | {med('cls'):.3f} | {med('kib'):.0f} KiB "
                f"| {med('js_files'):.0f} |"
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if app is not None:
            app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
