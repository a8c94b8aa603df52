"""The CLI contract of issue 2, run as the product owner runs it: ``python -m backend_stub``.

The commands run in this process (``tests.cli.runner``); the last test runs some of them as a real
process too and checks both answer alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from backend_stub.storage.models.billing import SuspenseRecord
from tests.cli.runner import ROOT, run_cli, run_cli_process
from tests.conftest import FIXTURES


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m backend_stub ARGS`` in ``tmp_path`` on the database ``tmp_path/cli.db``."""
    return run_cli(*args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}, cwd=tmp_path)


def test_the_whole_cli_contract(tmp_path):
    catalogue = ROOT / "backend_stub" / "catalogues" / "nordvik.toml"
    r = cli(tmp_path, "load-catalogue", str(catalogue))
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "import-customers", str(FIXTURES / "customers.csv"))
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "import-cdrs", str(FIXTURES / "cdrs.csv"), "--json")
    counts = json.loads(r.stdout)
    assert {k: counts[k] for k in ("read", "rated", "duplicate", "rejected")} == {
        "read": 9,
        "rated": 9,
        "duplicate": 0,
        "rejected": 0,
    }
    r = cli(tmp_path, "import-cdrs", str(FIXTURES / "cdrs.csv"))
    assert r.returncode == 0 and "duplicate 9" in r.stdout
    r = cli(tmp_path, "bill-run", "--period", "2026-10")
    assert r.returncode == 0 and "2 invoices" in r.stdout
    r = cli(tmp_path, "invoices", "--period", "2026-10", "--json")
    docs = json.loads(r.stdout)
    assert len(docs) == 2
    for d in docs:
        for key in (
            "number",
            "customer_number",
            "invoice_date",
            "due_date",
            "ocr",
            "lines",
            "vat",
            "net_ore",
            "vat_ore",
            "gross_ore",
            "rounding_ore",
            "amount_due_ore",
        ):
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
    broken.write_text(
        (ROOT / "backend_stub" / "catalogues" / "nordvik.toml")
        .read_text()
        .replace('monthly_fee = "199.00"', "monthly_fee = 199.0")
    )
    r = cli(tmp_path, "load-catalogue", str(broken))
    assert r.returncode == 2 and "plans[0].monthly_fee" in r.stderr
    broken.write_text(
        (ROOT / "backend_stub" / "catalogues" / "nordvik.toml")
        .read_text()
        .replace('name = "Mobil 5 GB"', 'name = "Mobil\\u001b[2J 5 GB"')
    )
    r = cli(tmp_path, "load-catalogue", str(broken))
    assert r.returncode == 2 and "plans[0].name: a control character (U+001B)" in r.stderr and "\x1b" not in r.stderr
    customers = tmp_path / "customers.csv"
    customers.write_text(
        (FIXTURES / "customers.csv").read_text()
        + "K3,S4,Cecilia Ek,c@example.se,,Gatan 1,111 22,Stockholm,email,+46701112233,mobil-99gb,"
        "2026-01-01,,true,,,1\n"
    )
    r = cli(tmp_path, "import-customers", str(customers))
    assert r.returncode == 1 and "line 6: plan 'mobil-99gb' is not in the catalogue" in r.stderr
    cdrs = tmp_path / "cdrs.csv"
    cdrs.write_text(
        (FIXTURES / "cdrs.csv").read_text() + "bad-1,+46701234567,voice,2026-10-03T14:22:05+02:00,-1,,+46812345678,\n"
    )
    r = cli(tmp_path, "import-cdrs", str(cdrs), "--json")
    out = json.loads(r.stdout)
    assert (out["read"], out["rated"], out["rejected"]) == (10, 9, 1)
    assert out["suspense_errors"][0]["line"] == 11 and out["suspense_errors"][0]["field"] == "duration_s"
    noheader = tmp_path / "noheader.csv"
    noheader.write_text("record_id,msisdn,started_at\nx,+46701234567,2026-10-03T14:22:05+02:00\n")
    r = cli(tmp_path, "import-cdrs", str(noheader))
    assert r.returncode == 2 and "service" in r.stderr


def test_import_cdrs_puts_unreadable_rows_in_suspense_and_imports_the_rest(tmp_path):
    catalogue = ROOT / "backend_stub" / "catalogues" / "nordvik.toml"
    assert cli(tmp_path, "load-catalogue", str(catalogue)).returncode == 0
    assert cli(tmp_path, "import-customers", str(FIXTURES / "customers.csv")).returncode == 0
    header, *good = (FIXTURES / "cdrs.csv").read_bytes().splitlines(keepends=True)
    bad_byte = b"x-3,+46701234567,sms,2026-10-03T14:25:00+02:00,,,+46739876543,\xff\n"  # line 3
    too_long = b"x-5,+46701234567,sms,2026-10-03T14:25:00+02:00,,," + b"9" * 200_000 + b",\n"  # line 5
    cdrs = tmp_path / "bad.csv"
    cdrs.write_bytes(b"".join([header, good[0], bad_byte, good[1], too_long, *good[2:]]))
    r = cli(tmp_path, "import-cdrs", str(cdrs), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["read"], out["rated"], out["duplicate"], out["rejected"]) == (len(good) + 2, len(good), 0, 2)
    assert out["read"] == out["rated"] + out["duplicate"] + out["rejected"]
    [on_3, on_5] = out["suspense_errors"]
    assert (on_3["line"], on_3["record_id"]) == (3, "x-3") and on_3["reason"].startswith("not UTF-8 (byte 0xff")
    assert (on_5["line"], on_5["record_id"]) == (5, "x-5") and on_5["reason"].startswith("field longer than")
    # The rows are kept in suspense, bytes escaped, and re-processing leaves them there.
    with create_engine(f"sqlite:///{tmp_path / 'cli.db'}").connect() as conn:
        kept = {r.line_no: r.raw for r in conn.execute(select(SuspenseRecord.line_no, SuspenseRecord.raw))}
    assert set(kept) == {3, 5}
    assert kept[3]["line_text"].endswith("+46739876543,\\xff") and len(kept[5]["line_text"]) > 200_000
    r = cli(tmp_path, "reprocess-suspense", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["rejected"] == 2


def test_import_cdrs_of_an_unreadable_file_imports_nothing_and_says_why_in_json(tmp_path):
    r = cli(tmp_path, "import-cdrs", str(tmp_path / "missing.csv"), "--json")
    assert r.returncode != 0 and "error" in json.loads(r.stdout)
    noheader = tmp_path / "noheader.csv"
    noheader.write_bytes((FIXTURES / "cdrs.csv").read_bytes().split(b"\n", 1)[1])  # rows without the header
    r = cli(tmp_path, "import-cdrs", str(noheader), "--json")
    out = json.loads(r.stdout)
    assert r.returncode != 0 and "header" in out["error"] and out["read"] == 0
    r = cli(tmp_path, "import-cdrs", str(FIXTURES / "cdrs.csv"), "--json")
    assert json.loads(r.stdout)["duplicate"] == 0  # nothing of the refused file was imported


def test_seed_makes_a_believable_billed_operator(tmp_path):
    out = tmp_path / "seed.csv"
    r = cli(
        tmp_path, "seed", "--customers", "30", "--months", "3", "--today", "2026-11-21", "--cdr-out", str(out), "--json"
    )
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["customers"] == 30 and result["invoices"] >= 80 and result["cdrs"] > 1000
    assert result["rejected"] == 0
    assert out.read_text().startswith("record_id,msisdn,service,started_at")
    docs = json.loads(cli(tmp_path, "invoices", "--period", "2026-08", "--json").stdout)
    statuses = {d["status"] for d in docs}
    assert "paid" in statuses


def test_staff_accounts_are_created_and_deactivated_from_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFCARE_AGENT_PASSWORD", "a-long-enough-password")
    r = cli(tmp_path, "create-agent", "--username", "Eva", "--name", "Eva E", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["username"] == "eva"
    r = cli(tmp_path, "deactivate-agent", "--username", "EVA", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"username": "eva", "sessions_ended": 0}
    r = cli(tmp_path, "deactivate-agent", "--username", "nobody")
    assert r.returncode == 2 and "error: username: no staff account 'nobody'" in r.stderr


def test_the_real_process_answers_as_the_runner_does(tmp_path):
    """``python -m backend_stub`` in a process of its own gives what the in-process runner gives: exit status,
    standard output and standard error, for an argument error, a refused file, an import and a JSON answer."""
    broken = tmp_path / "broken.toml"
    broken.write_text(
        (ROOT / "backend_stub" / "catalogues" / "nordvik.toml")
        .read_text()
        .replace('monthly_fee = "199.00"', "monthly_fee = 199.0")
    )
    steps = [
        ("bill-run",),  # argparse: --period is required
        ("load-catalogue", str(broken)),
        ("import-customers", str(FIXTURES / "customers.csv")),
        ("import-cdrs", str(FIXTURES / "cdrs.csv"), "--json"),
    ]
    answers = {}
    for name, run in (("process", run_cli_process), ("runner", run_cli)):
        (tmp_path / name).mkdir()
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / name / 'cli.db'}"}
        answers[name] = [(r.returncode, r.stdout, r.stderr) for r in (run(*a, env=env, cwd=tmp_path) for a in steps)]
    assert answers["process"] == answers["runner"]
    [usage, refused, imported, cdrs] = answers["process"]
    assert usage[0] == 2 and "--period" in usage[2]
    assert refused[0] == 2 and "plans[0].monthly_fee" in refused[2]
    assert imported[0] == 0 and imported[1].startswith("Imported")
    assert cdrs[0] == 0 and json.loads(cdrs[1])["rated"] == 9


def test_help_answers_without_loading_the_database_code(tmp_path):
    """``python -m backend_stub --help`` lists every command and loads no database code (the core loads when a
    command runs: ``cli.common.open_core``), so it answers at once."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "backend_stub", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert all(name in r.stdout for name in ("load-catalogue", "bill-run", "create-agent", "autopay-run"))
    loaded = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "backend_stub.settings" in loaded  # the probe sees what the command line imports
    assert not loaded & {"backend_stub.core", "backend_stub.storage.db", "sqlalchemy", "alembic", "argon2"}
