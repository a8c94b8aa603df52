"""The offers commands, run as the back office runs them: ``python -m backend_stub offers|recommend``."""

from __future__ import annotations

import json
import subprocess

from backend_stub.core import Core
from tests.cli.runner import run_cli
from tests.services.offers.test_offers_targeting import build_operator


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"DATABASE_URL": url})


def test_offers_and_recommend_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    core = Core.from_url(url)
    build_operator(core)
    core.engine.dispose()
    assert cli(url, "offers").stdout.strip() == "no offers"
    r = cli(url, "offers", "seed-demo", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"created": 3}
    assert json.loads(cli(url, "offers", "seed-demo", "--json").stdout) == {"created": 0}  # once
    listed = json.loads(cli(url, "offers", "--json").stdout)
    assert [(o["sells"]["id"], o["status"]) for o in listed] == [
        ("mobil-5gb", "active"),
        ("bredband-250", "active"),
        ("mobil-20gb", "active"),
    ]
    r = cli(url, "offers", "results", str(listed[0]["id"]))
    assert r.returncode == 0 and "impressions 0" in r.stdout
    assert cli(url, "offers", "results", "999").returncode == 2
    r = cli(url, "recommend", "--customer", "K1", "--today", "2026-11-21", "--json")
    assert r.returncode == 0, r.stderr
    [rec] = json.loads(r.stdout)
    assert rec["best_plan_id"] == "mobil-bas"
    assert {p["plan_id"]: p["total_ore"] for p in rec["plans"]}["mobil-5gb"] == 62_600
    text = cli(url, "recommend", "--customer", "K1", "--today", "2026-11-21").stdout
    assert "* Mobil 5 GB" in text and "→ Mobil Bas 1 GB" in text and "best: mobil-bas" in text
    assert cli(url, "recommend", "--customer", "K404").returncode == 2
