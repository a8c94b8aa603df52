"""The money rules through the CLI contract: credit-note, and the bill run of an open period."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli.runner import ROOT, run_cli
from tests.conftest import FIXTURES


def cli(tmp_path: Path, *args: str, today: str = "2026-11-15") -> subprocess.CompletedProcess[str]:
    """Run the CLI on a database of its own, the core clock frozen at ``today`` (``SELFCARE_CLOCK``)."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "SELFCARE_ENV": "test", "SELFCARE_CLOCK": today}
    return run_cli(*args, env=env, cwd=tmp_path)


def billed_october(tmp_path: Path) -> list[dict]:
    for args in (
        ("load-catalogue", str(ROOT / "backend_stub" / "catalogues" / "nordvik.toml")),
        ("import-customers", str(FIXTURES / "customers.csv")),
        ("import-cdrs", str(FIXTURES / "cdrs.csv")),
        ("bill-run", "--period", "2026-10"),
    ):
        r = cli(tmp_path, *args)
        assert r.returncode == 0, r.stderr
    return json.loads(cli(tmp_path, "invoices", "--period", "2026-10", "--json").stdout)


def test_bill_run_of_a_period_not_yet_ended_is_refused(tmp_path: Path) -> None:
    billed_october(tmp_path)
    r = cli(tmp_path, "bill-run", "--period", "2026-11", today="2026-11-30")
    assert r.returncode == 2
    assert "2026-11 has not ended" in r.stderr and "2026-11-30" in r.stderr  # the period end and today
    assert json.loads(cli(tmp_path, "invoices", "--period", "2026-11", "--json").stdout) == []
    r = cli(tmp_path, "bill-run", "--period", "2026-11", "--allow-open-period", "--json", today="2026-11-30")
    assert r.returncode == 0 and json.loads(r.stdout)["invoices"] >= 1, r.stderr
    r = cli(tmp_path, "bill-run", "--period", "2026-12", "--json", today="2027-01-01")  # ended: billed
    assert r.returncode == 0, r.stderr


def test_credit_note_of_lines_and_of_an_amount(tmp_path: Path) -> None:
    docs = billed_october(tmp_path)
    inv = next(d for d in docs if d["customer_number"] == "K1")
    second = inv["lines"][1]
    r = cli(tmp_path, "credit-note", "--invoice", inv["number"], "--lines", "2", "--reason", "Fel pris", "--json")
    assert r.returncode == 0, r.stderr
    cn = json.loads(r.stdout)
    assert set(docs[0]) - {"usage_totals"} <= set(cn)  # the shape of invoices --json (a credit note has no usage)
    assert cn["kind"] == "credit_note" and cn["credits_invoice"] == inv["number"]
    assert [ln["amount_ore"] for ln in cn["lines"]] == [-second["amount_ore"]]
    assert cn["amount_due_ore"] % 100 == 0 and cn["amount_due_ore"] == cn["gross_ore"] + cn["rounding_ore"]
    r = cli(tmp_path, "credit-note", "--invoice", inv["number"], "--amount", "10.00", "--reason", "Goodwill", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["amount_due_ore"] == -1_000
    [after] = [
        d
        for d in json.loads(cli(tmp_path, "invoices", "--period", "2026-10", "--json").stdout)
        if d["number"] == inv["number"]
    ]
    assert after["balance_ore"] == inv["amount_due_ore"] + cn["amount_due_ore"] - 1_000
    assert after["balance_ore"] % 100 == 0 and after["status"] != "partly_paid"  # credited, nothing paid


def test_credit_note_errors_name_what_is_wrong(tmp_path: Path) -> None:
    inv = billed_october(tmp_path)[0]
    n = str(len(inv["lines"]) + 1)
    cases = [
        (("--invoice", "999999", "--lines", "1"), "invoice 999999 not found"),
        (("--invoice", inv["number"], "--lines", n), f"not {n}"),
        (("--invoice", inv["number"], "--lines", "0"), "not 0"),
        (("--invoice", inv["number"], "--lines", "a,b"), "--lines"),
        (("--invoice", inv["number"], "--amount", "1e3"), "--amount"),
        (("--invoice", inv["number"], "--amount", "12.345"), "--amount"),
        (("--invoice", inv["number"], "--amount", "-5.00"), "--amount"),
        (("--invoice", inv["number"], "--amount", "100000.00"), "at most"),
        (("--invoice", inv["number"], "--amount", "5.00", "--vat-rate", "0.06"), "vat_rate"),
        (("--invoice", inv["number"]), "--lines or --amount"),
    ]
    for args, message in cases:
        r = cli(tmp_path, "credit-note", *args, "--reason", "x")
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    # nothing was issued by the refused commands
    assert all(
        d["credited_ore"] == 0 for d in json.loads(cli(tmp_path, "invoices", "--period", "2026-10", "--json").stdout)
    )
