"""The CLI contract of issue 2, run as the product owner runs it: ``python -m backend_stub``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "backend_stub", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_the_whole_cli_contract(tmp_path):
    catalogue = ROOT / "backend_stub" / "catalogues" / "nordvik.toml"
    r = cli(tmp_path, "load-catalogue", str(catalogue))
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "import-customers", str(FIXTURES / "customers.csv"))
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "import-cdrs", str(FIXTURES / "cdrs.csv"), "--json")
    counts = json.loads(r.stdout)
    assert {k: counts[k] for k in ("read", "rated", "duplicate", "rejected")} == {
        "read": 9, "rated": 9, "duplicate": 0, "rejected": 0}
    r = cli(tmp_path, "import-cdrs", str(FIXTURES / "cdrs.csv"))
    assert r.returncode == 0 and "duplicate 9" in r.stdout
    r = cli(tmp_path, "bill-run", "--period", "2026-10")
    assert r.returncode == 0 and "2 invoices" in r.stdout
    r = cli(tmp_path, "invoices", "--period", "2026-10", "--json")
    docs = json.loads(r.stdout)
    assert len(docs) == 2
    for d in docs:
        for key in ("number", "customer_number", "invoice_date", "due_date", "ocr", "lines", "vat", "net_ore",
                    "vat_ore", "gross_ore", "rounding_ore", "amount_due_ore"):
            assert key in d, key
        for line in d["lines"]:
            assert {"description", "quantity", "unit_price", "vat_rate", "amount_ore"} <= set(line)
        assert sum(ln["amount_ore"] for ln in d["lines"]) == d["gross_ore"]
        assert d["amount_due_ore"] == d["gross_ore"] + d["rounding_ore"]
        assert sum(v["net_ore"] + v["vat_ore"] for v in d["vat"]) == d["gross_ore"]
        assert {"rate", "net_ore", "vat_ore"} <= set(d["vat"][0])
    r = cli(tmp_path, "bill-run", "--period", "2026-10", "--json")
    assert json.loads(r.stdout)["invoices"] == 0


def test_bad_input_names_the_line_or_field(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text((ROOT / "backend_stub" / "catalogues" / "nordvik.toml").read_text()
                      .replace('monthly_fee = "199.00"', "monthly_fee = 199.0"))
    r = cli(tmp_path, "load-catalogue", str(broken))
    assert r.returncode == 2 and "plans[0].monthly_fee" in r.stderr
    customers = tmp_path / "customers.csv"
    customers.write_text((FIXTURES / "customers.csv").read_text() +
                         "K3,S4,Cecilia Ek,c@example.se,,Gatan 1,111 22,Stockholm,email,+46701112233,mobil-99gb,"
                         "2026-01-01,,true,,,1\n")
    r = cli(tmp_path, "import-customers", str(customers))
    assert r.returncode == 1 and "line 6: plan 'mobil-99gb' is not in the catalogue" in r.stderr
    cdrs = tmp_path / "cdrs.csv"
    cdrs.write_text((FIXTURES / "cdrs.csv").read_text() + "bad-1,+46701234567,voice,2026-10-03T14:22:05+02:00,-1,,"
                    "+46812345678,\n")
    r = cli(tmp_path, "import-cdrs", str(cdrs), "--json")
    out = json.loads(r.stdout)
    assert (out["read"], out["rated"], out["rejected"]) == (10, 9, 1)
    assert out["suspense_errors"][0]["line"] == 11 and out["suspense_errors"][0]["field"] == "duration_s"
    noheader = tmp_path / "noheader.csv"
    noheader.write_text("record_id,msisdn,started_at\nx,+46701234567,2026-10-03T14:22:05+02:00\n")
    r = cli(tmp_path, "import-cdrs", str(noheader))
    assert r.returncode == 2 and "service" in r.stderr


def test_seed_makes_a_believable_billed_operator(tmp_path):
    out = tmp_path / "seed.csv"
    r = cli(tmp_path, "seed", "--customers", "30", "--months", "3", "--today", "2026-11-21", "--cdr-out", str(out),
            "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["customers"] == 30 and result["invoices"] >= 80 and result["cdrs"] > 1000
    assert result["rejected"] == 0
    assert out.read_text().startswith("record_id,msisdn,service,started_at")
    docs = json.loads(cli(tmp_path, "invoices", "--period", "2026-08", "--json").stdout)
    statuses = {d["status"] for d in docs}
    assert "paid" in statuses
