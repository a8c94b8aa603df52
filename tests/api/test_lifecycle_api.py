"""Lifecycle routes: next steps and respite for the owner only, the unmatched queue for agents."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend_stub.api.app import create_app
from tests.conftest import problems, token_for
from tests.lifecycle_support import bill_october
from tests.services.lifecycle.test_bgmax import EXAMPLE


@pytest.fixture
def api(core, auth):
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def test_next_steps_respite_and_ownership(api, core, auth) -> None:
    invs = bill_october(core)
    k1, k2 = invs["K1"], invs["K2"]
    own = token_for(auth, "subscriber", customer_id=k1.customer_id)
    other = token_for(auth, "subscriber", customer_id=k2.customer_id)
    r = api.get(f"/invoices/{k1.id}/next-steps?lang=en&today=2026-11-20", headers=own)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["respite"]["allowed"] is True and body["steps"][0]["action"] in ("overdue", "reminder_1")
    assert api.get(f"/invoices/{k1.id}/next-steps", headers=other).status_code == 404
    assert api.post(f"/invoices/{k1.id}/respite", json={"days": 5}, headers=other).status_code == 404
    assert api.get(f"/invoices/{k1.id}/next-steps").status_code == 401
    r = api.post(f"/invoices/{k1.id}/respite", json={"days": 99}, headers=own)
    assert r.status_code == 422 and "days" in r.text
    r = api.post(f"/invoices/{k1.id}/respite", json={"days": 7}, headers=own)
    assert r.status_code == 200 and r.json()["respite"]["reason"] == "already granted"
    assert api.post(f"/invoices/{k1.id}/respite", json={"days": 2}, headers=own).status_code == 422
    doc = api.get(f"/invoices/{k1.id}", headers=own).json()
    assert doc["timeline"][-1]["kind"] == "respite" and doc["timeline"][-1]["texts"]["en"].startswith("Respite")


def test_bgmax_upload_queue_and_allocation_need_staff(api, core, auth) -> None:
    invs = bill_october(core)
    service, agent = token_for(auth, "service"), token_for(auth, "agent")
    sub = token_for(auth, "subscriber", customer_id=invs["K1"].customer_id)
    data = Path(EXAMPLE).read_bytes()
    assert api.post("/payments/bgmax", headers=agent, files={"file": ("bg.txt", data)}).status_code == 403
    r = api.post("/payments/bgmax", headers=service, files={"file": ("bg.txt", data)})
    assert r.status_code == 200 and r.json()["unmatched"] == 9
    bad = api.post("/payments/bgmax", headers=service, files={"file": ("bad.txt", b"01BGMAX\n99\n")})
    assert any("line" in e for e in problems(bad))
    assert api.get("/payments/unmatched", headers=sub).status_code == 403
    queue = api.get("/payments/unmatched", headers=agent).json()
    first = next(i for i in queue["items"] if i["kind"] == "payment" and i["amount_ore"] > 0)
    r = api.post(f"/payments/{first['id']}/allocate", headers=agent, json={"invoice_id": invs["K1"].number})
    assert r.status_code == 200, r.text
    assert (
        api.post(f"/payments/{first['id']}/allocate", headers=agent, json={"invoice_id": invs["K1"].number}).status_code
        == 422
    )
    assert api.post("/payments/999999/allocate", headers=agent, json={"invoice_id": invs["K1"].id}).status_code == 404
    assert api.get("/outbox", headers=sub).status_code == 403
    assert api.get("/outbox", headers=agent).status_code == 200
