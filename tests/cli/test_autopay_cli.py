"""The autopay commands as the back office runs them: ``autogiro-export``, ``autogiro-import``, ``autopay-run``."""

from __future__ import annotations

import json
from datetime import date

from backend_stub.core import Core
from backend_stub.formats import autogiro as ag
from backend_stub.services.autopay import mandates
from backend_stub.storage.db import make_engine
from tests.cli.test_cli import cli
from tests.lifecycle_support import bill_october


def test_export_import_and_run_from_the_command_line(tmp_path, monkeypatch):
    core = Core(make_engine(f"sqlite:///{tmp_path / 'cli.db'}"))
    rows = bill_october(core)
    mandates.set_autogiro(core.engine, rows["K1"].customer_id, "8327", "9384750001", "197001011233")
    core.engine.dispose()
    out = tmp_path / "to-bankgirot"
    r = cli(tmp_path, "autogiro-export", "--date", "2026-11-20", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["mandates"] == 1 and len(doc["files"]) == 1
    written = out / doc["files"][0]["name"]
    mandate = ag.parse(written.read_bytes()).mandates[0]
    assert (mandate.action, mandate.clearing) == ("create", "8327")
    again = json.loads(cli(tmp_path, "autogiro-export", "--date", "2026-11-20", "--out", str(out), "--json").stdout)
    assert "mandates" not in again and [f["name"] for f in again["files"]] == [doc["files"][0]["name"]]
    answer = tmp_path / "medavi.txt"
    answer.write_bytes(
        ag.write_mandate_advice(
            ag.MandateAdviceFile(
                date(2026, 11, 23),
                "000000",
                "50501055",
                [
                    ag.MandateAdvice(
                        "50501055",
                        mandate.payer_number,
                        mandate.account16,
                        "197001011233",
                        "04",
                        "32",
                        date(2026, 11, 23),
                    )
                ],
            )
        )
    )
    r = cli(tmp_path, "autogiro-import", str(answer), "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["approved"] == 1, r.stderr
    r = cli(tmp_path, "autogiro-import", str(answer))
    assert r.returncode == 0 and "duplicate_file 1" in r.stdout
    broken = tmp_path / "broken.txt"
    broken.write_bytes(answer.read_bytes().replace(b"0920261123", b"09202611XX"))
    r = cli(tmp_path, "autogiro-import", str(broken))
    assert r.returncode == 2 and "broken.txt: line 3: date (positions 3-10)" in r.stderr
    r = cli(tmp_path, "autopay-run", "--date", "2026-12-01", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["date"] == "2026-12-01", r.stderr
