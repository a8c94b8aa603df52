"""The back office's commands for charges, run as an operator runs them: ``python -m backend_stub``."""

from __future__ import annotations

import json

from tests.cli.test_cli import cli
from tests.conftest import FIXTURES


def test_add_charge_instalment_and_payoff_from_the_command_line(tmp_path):
    assert cli(tmp_path, "import-customers", str(FIXTURES / "customers.csv")).returncode == 0
    r = cli(
        tmp_path,
        "add-charge",
        "--customer",
        "K1",
        "--amount",
        "99.00",
        "--description",
        "Byte av SIM-kort",
        "--reason",
        "tappat kortet",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    charge = json.loads(r.stdout)
    assert (charge["amount_ore"], charge["status"], charge["created_by"][:4]) == (9_900, "pending", "cli:")
    r = cli(
        tmp_path,
        "add-charge",
        "--customer",
        "+46709876543",
        "--amount",
        "-50",
        "--description",
        "Kompensation",
        "--reason",
        "avbrott",
        "--subscription",
        "S2",
    )
    assert r.returncode == 0 and "Added credit" in r.stdout
    # Bad input: a clear error naming the option, nothing stored.
    r = cli(tmp_path, "add-charge", "--customer", "K1", "--amount", "9.999", "--description", "x", "--reason", "y")
    assert r.returncode == 2 and "--amount" in r.stderr
    r = cli(tmp_path, "add-charge", "--customer", "K9", "--amount", "1", "--description", "x", "--reason", "y")
    assert r.returncode == 2 and "--customer: no customer 'K9'" in r.stderr
    r = cli(
        tmp_path,
        "add-charge",
        "--customer",
        "K1",
        "--amount",
        "1",
        "--description",
        "x",
        "--reason",
        "y",
        "--subscription",
        "S3",
    )
    assert r.returncode == 2 and "--subscription" in r.stderr
    r = cli(
        tmp_path,
        "add-instalment",
        "--customer",
        "K1",
        "--subscription",
        "+46701234567",
        "--device",
        "nordphone-12",
        "--months",
        "36",
        "--start-period",
        "2026-10",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    inst = json.loads(r.stdout)
    assert (inst["monthly_ore"], inst["months_left"]) == (22_194, 36)  # 7 990 / 36 = 221,94
    r = cli(
        tmp_path,
        "add-instalment",
        "--customer",
        "K1",
        "--subscription",
        "S1",
        "--device",
        "nordphone-12",
        "--months",
        "12",
        "--start-period",
        "2026-10",
    )
    assert r.returncode == 2 and "months: Nordphone 12 128 GB is sold over 24 or 36 months" in r.stderr
    r = cli(tmp_path, "bill-run", "--period", "2026-10")
    assert r.returncode == 0, r.stderr
    docs = {
        d["customer_number"]: d for d in json.loads(cli(tmp_path, "invoices", "--period", "2026-10", "--json").stdout)
    }
    assert [(ln["kind"], ln["amount_ore"]) for ln in docs["K1"]["lines"]] == [
        ("fee", 19_900),
        ("one_off", 9_900),
        ("instalment", 22_194),
    ]
    assert ("one_off", -5_000) in [(ln["kind"], ln["amount_ore"]) for ln in docs["K2"]["lines"]]
    r = cli(tmp_path, "payoff", "--instalment", str(inst["id"]), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["remaining_ore"] == 799_000 - 22_194
    r = cli(tmp_path, "payoff", "--instalment", str(inst["id"]))
    assert r.returncode == 2 and "already paid off" in r.stderr
    assert cli(tmp_path, "bill-run", "--period", "2026-11").returncode == 0
    nov = {
        d["customer_number"]: d for d in json.loads(cli(tmp_path, "invoices", "--period", "2026-11", "--json").stdout)
    }
    assert [(ln["kind"], ln["amount_ore"]) for ln in nov["K1"]["lines"]] == [("fee", 19_900), ("instalment", 776_806)]
